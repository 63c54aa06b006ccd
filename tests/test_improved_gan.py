"""Semi-supervised GAN (Salimans et al. 2016, §5): the loss pieces on known logits, feature matching on
unlabelled data, the reported test error; and the Improved-GAN switches on DCGAN."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import build_tiny
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gan_zoo.core.step import Step
from gan_zoo.layers import MinibatchDiscrimination, VirtualBatchNorm
from gan_zoo.models import DCGAN, SemiSupervisedGAN
from gan_zoo.models.improved_gan import supervised_loss, unlabelled_weights, unsupervised_loss

LN3 = math.log(3.0)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


class KnownClassLogits(nn.Module):
    """A stand-in D: image i (its first pixel holds i) gets the i-th row of ``rows``, the K class logits.
    Its output is also its ``feature_layer``, so feature matching runs on it."""

    feature_layer = "features"

    def __init__(self, rows: list[list[float]]) -> None:
        super().__init__()
        self.register_buffer("table", torch.tensor(rows))
        self.features = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = x[:, 0, 0, 0].round().long().clamp(0, len(self.table) - 1)
        return self.features(self.table[index])


def indexed_images(first: int, n: int) -> torch.Tensor:
    """Images whose first pixels are first, first + 1, …: the rows of :class:`KnownClassLogits`."""
    return torch.arange(first, first + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 16, 16).clone()


def test_fake_logit_fixed_at_zero_gives_d_equal_z_over_z_plus_one():
    model = build_tiny("SemiSupervisedGAN").eval()  # no Gaussian noise
    x = torch.randn(5, 1, 16, 16)
    logits = model.discriminator(x)
    z = logits.exp().sum(1)
    assert torch.allclose(model.discriminate(x).sigmoid(), z / (z + 1), rtol=1e-5)
    # softmax over [l_1 … l_K, 0]: the last probability is 1 / (Z + 1)
    full = torch.cat([logits, torch.zeros(5, 1)], 1).softmax(1)
    assert torch.allclose(full[:, -1], 1 / (z + 1), rtol=1e-5)


def test_unsupervised_loss_by_hand():
    real = torch.tensor([[0.0, LN3]])  # Z = 1 + 3 = 4 → D(x) = 4/5
    fake = torch.tensor([[0.0, 0.0]])  # Z = 2 → p(y = K+1 | G(z)) = 1/3
    # −log D(x) − log p(y = K+1 | G(z)) = −log(4/5) − log(1/3)
    assert unsupervised_loss(real, fake).item() == pytest.approx(math.log(5 / 4) + math.log(3), rel=1e-6)


def test_half_the_unsupervised_loss_is_the_authors_loss_unl():
    # train_mnist_feature_matching.py: l = logsumexp(class logits) = log Z,
    # loss_unl = −0.5 mean(l_unl) + 0.5 mean(softplus(l_unl)) + 0.5 mean(softplus(l_gen)).
    # Three samples, three classes, rows chosen so that Z is an integer:
    real = torch.log(torch.tensor([[1 / 3, 1 / 3, 1 / 3], [1.0, 1.0, 1.0], [1.0, 2.0, 4.0]]))  # Z = 1, 3, 7
    fake = torch.log(torch.tensor([[0.25, 0.25, 0.5], [1.0, 1.0, 1.0], [2.0, 3.0, 4.0]]))  # Z = 1, 3, 9
    # softplus(log Z) = log(1 + Z): mean(l_unl) = log(21) / 3, mean(softplus(l_unl)) = log(2·4·8) / 3,
    # mean(softplus(l_gen)) = log(2·4·10) / 3 → loss_unl = (−log 21 + log 64 + log 80) / 6
    loss_unl = math.log(64 * 80 / 21) / 6
    assert 0.5 * unsupervised_loss(real, fake).item() == pytest.approx(loss_unl, rel=1e-6)


def test_supervised_loss_by_hand_skips_unlabelled_examples():
    logits = torch.tensor([[0.0, LN3], [5.0, -5.0], [LN3, 0.0]])
    labels = torch.tensor([1, -1, 1])
    # −log p(y | x, y < K+1): softmax over the K classes → −log(3/4) and −log(1/4)
    expected = (-math.log(3 / 4) - math.log(1 / 4)) / 2
    assert supervised_loss(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    assert supervised_loss(logits, torch.full((3,), -1)).item() == 0.0
    assert supervised_loss(logits, None).item() == 0.0


def test_unsupervised_real_term_uses_the_unlabelled_examples():
    weights = unlabelled_weights(torch.tensor([-1, 3, -1, 0]), 4, torch.device("cpu"))
    assert weights.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert unlabelled_weights(torch.tensor([2, 3]), 2, torch.device("cpu")).tolist() == [1.0, 1.0]
    real = torch.tensor([[0.0, LN3], [9.0, 9.0]])
    fake = torch.tensor([[0.0, 0.0]])
    weighted = unsupervised_loss(real, fake, torch.tensor([1.0, 0.0]))
    assert weighted.item() == pytest.approx(unsupervised_loss(real[:1], fake).item(), rel=1e-6)


def test_discriminator_step_is_the_authors_loss_with_half_the_unsupervised_weight():
    # The authors' D loss: loss_lab + loss_unl, with loss_lab the cross-entropy of the labelled
    # images and loss_unl that of test_half_the_unsupervised_loss_is_the_authors_loss_unl on the
    # unlabelled ones (label −1) and the generated ones.
    rows = [
        [0.0, 0.0, 0.0],  # real, unlabelled: Z = 3
        [0.0, 0.0, math.log(2)],  # real, label 2: Z = 4, p(2) = 1/2, argmax 2 (right)
        [0.0, math.log(2), 0.0],  # real, label 0: Z = 4, p(0) = 1/4, argmax 1 (wrong)
        [0.0, math.log(2), math.log(4)],  # real, unlabelled: Z = 7
        [math.log(0.25), math.log(0.25), math.log(0.5)],  # generated: Z = 1
        [0.0, 0.0, 0.0],  # generated: Z = 3
    ]
    model = build_tiny("SemiSupervisedGAN", num_classes=3, unsupervised_weight=0.5)
    model.discriminator = KnownClassLogits(rows)
    labels = torch.tensor([-1, 2, 0, -1])
    terms = model.discriminator_step(Step(indexed_images(0, 4), labels, indexed_images(4, 2), None))
    loss_lab = (math.log(2) + math.log(4)) / 2
    l_unl, l_gen = [math.log(3), math.log(7)], [math.log(1), math.log(3)]
    loss_unl = (
        -0.5 * sum(l_unl) / 2
        + 0.5 * sum(softplus(v) for v in l_unl) / 2
        + 0.5 * sum(softplus(v) for v in l_gen) / 2
    )
    assert terms["loss"].item() == pytest.approx(loss_lab + loss_unl, rel=1e-6)
    assert terms["supervised"].item() == pytest.approx(loss_lab, rel=1e-6)
    assert terms["unsupervised"].item() == pytest.approx(2 * loss_unl, rel=1e-6)  # logged unweighted
    assert terms["error"].item() == pytest.approx(1 / 2)  # of the two labelled images, one is wrong
    # D(x) = Z / (Z + 1), averaged over every real and every generated image
    assert terms["real"].item() == pytest.approx((3 / 4 + 4 / 5 + 4 / 5 + 7 / 8) / 4, rel=1e-6)
    assert terms["fake"].item() == pytest.approx((1 / 2 + 3 / 4) / 2, rel=1e-6)


def test_generator_matches_features_of_the_unlabelled_images():
    model = build_tiny("SemiSupervisedGAN").eval()
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(3, 1, 16, 16) * 2 - 1
    labels = torch.tensor([-1, 2, -1, 5])
    layer = dict(model.discriminator.named_modules())[model.discriminator.feature_layer]
    features = []
    layer.register_forward_hook(lambda m, a, out: features.append(out))
    model.discriminator(real[[0, 2]])
    model.discriminator(fake)
    expected = (features[0].mean(0) - features[1].mean(0)).square().sum()
    loss = model.generator_step(Step(real, labels, fake, None))["loss"]
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_test_error_is_the_fraction_of_misclassified_images_over_the_whole_split(trainer_factory):
    # Five test images in batches of 2, 2, 1; the class logits make D predict 0, 1, 2, 0, 2 for the
    # labels 0, 1, 2, 0, 1: one mistake in five, 0.2 (the mean of the batches' errors would be 1/3).
    predictions, labels = [0, 1, 2, 0, 2], torch.tensor([0, 1, 2, 0, 1])
    model = build_tiny("SemiSupervisedGAN", num_classes=3)
    model.discriminator = KnownClassLogits([[2.0 * (k == p) for k in range(3)] for p in predictions])
    loader = DataLoader(TensorDataset(indexed_images(0, 5), labels), batch_size=2)
    (results,) = trainer_factory().test(model, dataloaders=loader, verbose=False)
    assert results["test/error"] == pytest.approx(0.2)
    assert results["test/d_error"] == pytest.approx(0.2)  # the same, from the discriminator step


def test_needs_classes():
    with pytest.raises(ValueError, match="num_classes >= 2"):
        build_tiny("SemiSupervisedGAN", num_classes=None)


def test_paper_defaults():
    model = SemiSupervisedGAN()
    linear = [m for m in model.discriminator.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linear] == [1000, 500, 250, 250, 250, 10]
    noise = [m.sigma for m in model.discriminator.net if hasattr(m, "sigma")]
    assert noise == [0.3] + [0.5] * 5
    for opt in model.configure_optimizers()[0]:
        assert opt.defaults["lr"] == 3e-3 and opt.defaults["betas"] == (0.5, 0.999)


# ---------------------------------------------------------------- the switches on DCGAN
def test_dcgan_with_minibatch_discrimination():
    model = DCGAN(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, d_minibatch_kernels=10)
    layers = [m for m in model.discriminator.modules() if isinstance(m, MinibatchDiscrimination)]
    assert len(layers) == 1 and layers[0].kernels == 10 and layers[0].in_features == 16 * 4 * 4
    assert model.discriminate(torch.randn(3, 1, 16, 16)).shape == (3,)


def test_dcgan_with_virtual_batch_norm_keeps_a_fixed_reference_batch(digits, trainer_factory, tmp_path):
    model = DCGAN(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, g_norm="virtual")
    g = model.generator
    assert any(isinstance(m, VirtualBatchNorm) for m in g.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())
    reference = g.reference_z.clone()
    trainer = trainer_factory()
    trainer.fit(model, datamodule=digits)
    assert torch.equal(g.reference_z, reference)  # fixed at the start, never trained
    z = torch.randn(6, 8)
    # in training mode too, an image depends on its own z only, not on its batch
    assert torch.allclose(g(z[:1]), g(z)[:1], atol=1e-5)
    trainer.save_checkpoint(tmp_path / "vbn.ckpt")
    restored = DCGAN.load_from_checkpoint(tmp_path / "vbn.ckpt")
    assert torch.equal(restored.generator.reference_z, reference)
