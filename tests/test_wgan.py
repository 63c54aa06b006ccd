"""WGAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017): paper defaults, the critic's norm,
clipping through a fit, n_critic, and the per-sample penalty on a batch-norm-free critic."""

from __future__ import annotations

import pytest
import torch
from conftest import CountSteps, build_tiny
from torch import nn

from gan_zoo.core.step import Step
from gan_zoo.losses import GradientPenalty, Wasserstein, WeightClipping
from gan_zoo.models import WGAN, WGANGP


def small(cls, **kwargs):
    return cls(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, **kwargs)


def test_wgan_defaults_are_algorithm_1():
    model = small(WGAN)
    assert isinstance(model.loss, Wasserstein) and model.n_critic == 5
    assert [type(r) for r in model.regularizers] == [WeightClipping] and model.regularizers[0].clip == 0.01
    for opt in model.configure_optimizers()[0]:
        assert isinstance(opt, torch.optim.RMSprop) and opt.defaults["lr"] == 5e-5


def test_wgan_gp_defaults_are_algorithm_1():
    model = small(WGANGP)
    assert isinstance(model.loss, Wasserstein) and model.n_critic == 5
    assert [type(r) for r in model.regularizers] == [GradientPenalty] and model.regularizers[0].weight == 10.0
    for opt in model.configure_optimizers()[0]:
        assert isinstance(opt, torch.optim.Adam)
        assert opt.defaults["lr"] == 1e-4 and opt.defaults["betas"] == (0.0, 0.9)


def test_wgan_gp_critic_has_layer_norm_and_no_batch_norm():
    critic = small(WGANGP).discriminator
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    norms = [m for m in critic.modules() if isinstance(m, nn.GroupNorm)]
    assert norms and all(m.num_groups == 1 for m in norms)  # one group: normalizes over (C, H, W)
    none = small(WGANGP, d_norm="none").discriminator
    assert not any(isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)) for m in none.modules())


@pytest.mark.parametrize("kwargs", [{"d_norm": "batch"}, {"d_minibatch_kernels": 4}])
def test_wgan_gp_refuses_a_critic_that_couples_samples(kwargs):
    with pytest.raises(ValueError, match="couple across the batch"):
        small(WGANGP, **kwargs)


@pytest.mark.parametrize("norm", ["layer", "none"])
def test_critic_scores_each_sample_independently_of_its_batch(norm):
    critic = small(WGANGP, d_norm=norm).discriminator.train()
    x = torch.randn(6, 1, 16, 16)
    alone = critic(x[:1])
    changed = torch.cat([x[:1], torch.randn(5, 1, 16, 16) * 4])
    assert torch.allclose(alone, critic(changed)[:1], atol=1e-5)


def test_gradient_penalty_on_the_training_mode_critic_matches_per_sample_autograd():
    # With batch norm the critic had to be in eval mode for this check (test_regularizers); the
    # layer-norm critic is per-sample in training mode, as it is during a fit.
    module = small(WGANGP)
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    value = GradientPenalty().penalty(module, Step(real, None, fake, None))
    torch.manual_seed(0)
    epsilon = torch.rand(4, 1, 1, 1)
    x_hat = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    expected = []
    for i in range(4):
        (grad,) = torch.autograd.grad(module.discriminate(x_hat[i : i + 1]).sum(), x_hat)
        expected.append((grad[i].norm() - 1) ** 2)
    assert value.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-4)


def test_clipping_keeps_the_wgan_critic_in_bounds_through_a_fit(digits, trainer_factory):
    model = build_tiny("WGAN")
    trainer_factory(limit_train_batches=3).fit(model, datamodule=digits)
    for p in model.discriminator.parameters():
        assert p.abs().max() <= 0.01
    assert any(p.abs().max() > 0.01 for p in model.generator.parameters())


@pytest.mark.parametrize("name", ["WGAN", "WGANGP"])
def test_paper_n_critic_five_counts(name, digits, trainer_factory):
    counter = CountSteps()
    model = build_tiny(name, n_critic=5)
    trainer_factory(limit_train_batches=10, callbacks=[counter]).fit(model, datamodule=digits)
    assert counter.steps == {"discriminator": 10, "generator": 2}


def test_wgan_gp_fit_adds_ten_times_the_penalty_of_a_linear_critic(digits, trainer_factory):
    # D(x) = w·x has ∇D = w at every x̂: ‖w‖ = ‖(2, −2, 1, 0, …)‖ = 3 → (3 − 1)² = 4, and WGAN-GP's
    # λ = 10 adds 40 to D's loss E D(G(z)) − E D(x). One batch: the values D's only update saw.
    model = build_tiny("WGANGP")
    model.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 1, bias=False))
    with torch.no_grad():
        model.discriminator[1].weight.zero_()
        model.discriminator[1].weight[0, :3] = torch.tensor([2.0, -2.0, 1.0])
    trainer = trainer_factory(limit_train_batches=1)
    trainer.fit(model, datamodule=digits)
    logged = {name: value.item() for name, value in trainer.callback_metrics.items()}
    assert logged["train/d_gp_epoch"] == pytest.approx(4.0, rel=1e-6)
    wasserstein = logged["train/d_fake_epoch"] - logged["train/d_real_epoch"]  # the critic's raw scores
    assert logged["train/d_loss_epoch"] == pytest.approx(wasserstein + 10 * 4.0, rel=1e-5)
