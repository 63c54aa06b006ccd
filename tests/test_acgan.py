"""AC-GAN (Odena et al. 2017): L_S and L_C on known logits, the class-conditional generator and the
Appendix networks."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import build_tiny
from torch import nn

from gan_zoo.core.step import Step
from gan_zoo.models import ACGAN

# D's outputs [source logit, 3 class logits] for two real and two generated images
REAL_OUT = [[1.5, 2.0, 0.0, -1.0], [-0.5, 0.0, 1.0, 0.5]]
FAKE_OUT = [[-2.0, 0.5, 0.5, 1.0], [0.3, -1.0, 2.0, 0.0]]
REAL_C, FAKE_C = [0, 2], [2, 1]


class KnownLogits(nn.Module):
    """A stand-in D: image i (its first pixel holds i) gets the i-th row of known outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("table", torch.tensor(REAL_OUT + FAKE_OUT))

    def forward(self, x):
        return self.table[x[:, 0, 0, 0].long()]


def known_step() -> Step:
    images = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 16, 16).clone()
    return Step(images[:2], torch.tensor(REAL_C), images[2:], torch.tensor(FAKE_C))


def log_sigmoid(x):
    return -math.log1p(math.exp(-x))


def log_softmax(logits, c):
    return logits[c] - math.log(sum(math.exp(v) for v in logits))


def mean(values):
    values = list(values)
    return sum(values) / len(values)


# The paper's log-likelihoods, by hand: P(S = real | X) = σ(s), P(C | X) = softmax(k)
LS_REAL = mean(log_sigmoid(out[0]) for out in REAL_OUT)  # E[log P(S = real | X_real)]
LS_FAKE = mean(log_sigmoid(-out[0]) for out in FAKE_OUT)  # E[log P(S = fake | X_fake)]
LC_REAL = mean(log_softmax(out[1:], c) for out, c in zip(REAL_OUT, REAL_C, strict=True))
LC_FAKE = mean(log_softmax(out[1:], c) for out, c in zip(FAKE_OUT, FAKE_C, strict=True))
L_S, L_C = LS_REAL + LS_FAKE, LC_REAL + LC_FAKE


def model_with_known_logits(**kwargs) -> ACGAN:
    model = build_tiny("ACGAN", num_classes=3, **kwargs)
    model.discriminator = KnownLogits()
    return model


def test_discriminator_maximizes_ls_plus_lc():
    terms = model_with_known_logits().discriminator_step(known_step())
    assert terms["loss"].item() == pytest.approx(-(L_S + L_C), rel=1e-6)
    assert terms["source"].item() == pytest.approx(-L_S, rel=1e-6)
    assert terms["class"].item() == pytest.approx(-L_C, rel=1e-6)
    assert terms["accuracy"].item() == 0.5  # argmax of the real rows' classes: 0 (right), 1 (not 2)


def test_generator_maximizes_lc_minus_ls():
    terms = model_with_known_logits().generator_step(known_step())
    # G's loss is −(L_C − L_S) without the two X_real terms, which do not depend on G
    assert terms["loss"].item() == pytest.approx(-(L_C - L_S) - (LS_REAL - LC_REAL), rel=1e-6)
    assert terms["accuracy"].item() == 1.0  # argmax of the generated rows' classes: 2 and 1, as asked


def test_another_source_objective_swaps_only_the_source_terms():
    model = model_with_known_logits(loss="non_saturating")
    assert model.discriminator_step(known_step())["loss"].item() == pytest.approx(-(L_S + L_C), rel=1e-6)
    # non-saturating G: maximize log P(S = real | X_fake) instead of minimizing log P(S = fake | X_fake)
    ns_fake = mean(log_sigmoid(out[0]) for out in FAKE_OUT)
    assert model.generator_step(known_step())["loss"].item() == pytest.approx(-ns_fake - LC_FAKE, rel=1e-6)


def test_discriminate_is_the_source_logit_and_ignores_labels():
    model = model_with_known_logits()
    step = known_step()
    assert model.discriminate(step.real, step.real_labels).tolist() == [1.5, -0.5]


def test_appendix_cifar10_networks():
    model = ACGAN(image_shape=(3, 32, 32), num_classes=10)
    g, d = model.generator, model.discriminator
    assert g.project[0].in_features == 110 and g.project[0].out_features == 384 * 4 * 4  # [z; one-hot c]
    deconvs = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert [(m.out_channels, m.kernel_size, m.stride) for m in deconvs] == [
        (192, (5, 5), (2, 2)),
        (96, (5, 5), (2, 2)),
        (3, (5, 5), (2, 2)),
    ]
    convs = [m for m in d.net if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [16, 32, 64, 128, 256, 512]
    assert [m.stride[0] for m in convs] == [2, 1, 2, 1, 2, 1] and all(m.kernel_size == (3, 3) for m in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.net) == 5  # all but the first
    assert [m.p for m in d.net if isinstance(m, nn.Dropout)] == [0.5] * 6
    assert d.net[-1].out_features == 11  # source + 10 classes
    assert g(torch.randn(2, 100), torch.tensor([0, 9])).shape == (2, 3, 32, 32)
    assert d(torch.randn(2, 3, 32, 32)).shape == (2, 11)
    for opt in model.configure_optimizers()[0]:
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)


def test_the_generator_is_class_conditional():
    model = build_tiny("ACGAN").eval()
    z = torch.randn(1, 8).expand(10, 8)
    images = model.generator(z, torch.arange(10))
    assert not torch.allclose(images[0], images[1])


def test_fit_logs_both_heads(digits, trainer_factory):
    trainer = trainer_factory()
    trainer.fit(build_tiny("ACGAN"), datamodule=digits)
    for name in ("d_source", "d_class", "d_accuracy", "g_class", "g_accuracy"):
        assert f"train/{name}_epoch" in trainer.callback_metrics
