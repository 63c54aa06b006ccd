"""Semi-supervised GAN (Salimans et al. 2016, §5): the loss pieces on known logits, feature matching on
unlabelled data, the reported test error; and the Improved-GAN switches on DCGAN."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import build_tiny

from gan_zoo.core.step import Step
from gan_zoo.data import Digits
from gan_zoo.layers import MinibatchDiscrimination, VirtualBatchNorm
from gan_zoo.models import DCGAN, SemiSupervisedGAN
from gan_zoo.models.improved_gan import supervised_loss, unlabelled_weights, unsupervised_loss

LN3 = math.log(3.0)


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


def test_discriminator_step_is_supervised_plus_unsupervised():
    model = build_tiny("SemiSupervisedGAN").eval()
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(2, 1, 16, 16) * 2 - 1
    labels = torch.tensor([-1, -1, 4, 7])
    terms = model.discriminator_step(Step(real, labels, fake, None))
    logits_real, logits_fake = model.discriminator(real), model.discriminator(fake)
    supervised = torch.nn.functional.cross_entropy(logits_real[2:], labels[2:])
    unsupervised = unsupervised_loss(logits_real[:2], logits_fake)
    assert terms["loss"].item() == pytest.approx((supervised + unsupervised).item(), rel=1e-5)
    halved = build_tiny("SemiSupervisedGAN", unsupervised_weight=0.5)
    halved.load_state_dict(model.state_dict())
    halved_terms = halved.eval().discriminator_step(Step(real, labels, fake, None))
    assert halved_terms["loss"].item() == pytest.approx((supervised + 0.5 * unsupervised).item(), rel=1e-5)


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


def test_fit_with_few_labels_reports_the_test_error(trainer_factory):
    data = Digits(image_size=16, batch_size=32, labels_per_class=2)
    model = build_tiny("SemiSupervisedGAN")
    trainer = trainer_factory(limit_train_batches=3)
    trainer.fit(model, datamodule=data)
    assert {"train/d_supervised_epoch", "train/d_unsupervised_epoch", "train/d_error_epoch"} <= set(
        trainer.callback_metrics
    )
    trainer.test(model, datamodule=data, verbose=False)
    model.eval()
    images, labels = data.test_set.images, data.test_set.labels
    with torch.no_grad():
        predictions = model.discriminator(data.on_after_batch_transfer((images, labels), 0)[0]).argmax(1)
    expected = (predictions != labels).float().mean().item()
    assert trainer.callback_metrics["test/error"].item() == pytest.approx(expected, abs=1e-6)


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
