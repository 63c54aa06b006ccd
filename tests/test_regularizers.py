"""Regularizers against their formulas, and how the schedule applies them."""

from __future__ import annotations

import pytest
import torch
from conftest import build_tiny
from torch import nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.step import Step
from gan_zoo.losses import (
    REGULARIZERS,
    Drift,
    GradientPenalty,
    PixelGradientPenalty,
    Regularizer,
    WeightClipping,
    get_regularizer,
)
from gan_zoo.registry import UnknownNameError


class LinearCritic(AdversarialModule):
    """D(x) = Σ w·x: its input gradient is w for every sample, so the penalty is known in closed form."""

    def __init__(self, w: torch.Tensor, regularizers=None):
        generator = nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2)))
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False))
        with torch.no_grad():
            critic[1].weight.copy_(w.view(1, 4))
        super().__init__(generator, critic, image_shape=(1, 2, 2), latent_dim=2, regularizers=regularizers)


def step_of(real, fake):
    return Step(real, None, fake, None)


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    w = torch.tensor([3.0, 0.0, 4.0, 0.0])  # ‖w‖ = 5 → (5 − 1)² = 16
    module = LinearCritic(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    assert GradientPenalty().penalty(module, step_of(real, fake)).item() == pytest.approx(16.0)
    assert GradientPenalty(target=5.0).penalty(module, step_of(real, fake)).item() == pytest.approx(
        0.0, abs=1e-6
    )


def test_gradient_penalty_matches_autograd_with_per_sample_epsilon():
    module = build_tiny("DCGAN")
    module.discriminator.eval()  # batch norm in eval mode makes samples independent
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    value = GradientPenalty().penalty(module, step_of(real, fake))
    torch.manual_seed(0)
    epsilon = torch.rand(4, 1, 1, 1)  # one ε per sample, broadcast over every pixel
    assert epsilon.unique().numel() == 4
    expected = []
    for i in range(4):
        x_hat = (epsilon[i] * real[i : i + 1] + (1 - epsilon[i]) * fake[i : i + 1]).requires_grad_(True)
        (grad,) = torch.autograd.grad(module.discriminate(x_hat).sum(), x_hat)
        expected.append((grad.norm() - 1) ** 2)
    assert value.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-4)


def test_gradient_penalty_is_differentiable_wrt_the_critic():
    module = build_tiny("DCGAN")
    value = GradientPenalty().penalty(module, step_of(torch.randn(4, 1, 16, 16), torch.randn(4, 1, 16, 16)))
    value.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.discriminator.parameters())


def test_pixel_gradient_penalty_takes_the_norm_per_pixel():
    # The same linear critic: its gradient is w at every x̂. One channel, so each pixel's norm is |w_p|:
    # mean((3 − 1)², (0 − 1)², (4 − 1)², (0 − 1)²) = 15 / 4, where the per-sample penalty is 16.
    module = LinearCritic(torch.tensor([3.0, 0.0, 4.0, 0.0]))
    real, fake = torch.randn(5, 1, 2, 2), torch.randn(5, 1, 2, 2)
    assert PixelGradientPenalty().penalty(module, step_of(real, fake)).item() == pytest.approx(3.75)
    assert PixelGradientPenalty().weight == 0.1  # SinGAN's lambda_grad


def test_pixel_gradient_penalty_norm_runs_over_channels():
    # Two channels, two pixels: gradients (3, 4) and (0, 1) → norms 5 and 1 → mean((5 − 1)², 0) = 8.
    w = torch.tensor([[[3.0, 0.0]], [[4.0, 1.0]]])  # [C=2, H=1, W=2]
    module = AdversarialModule(
        nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (2, 1, 2))),
        nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False)),
        image_shape=(2, 1, 2),
        latent_dim=2,
    )
    with torch.no_grad():
        module.discriminator[1].weight.copy_(w.view(1, 4))
    real, fake = torch.randn(3, 2, 1, 2), torch.randn(3, 2, 1, 2)
    assert PixelGradientPenalty().penalty(module, step_of(real, fake)).item() == pytest.approx(8.0)


def test_weight_clipping_keeps_every_critic_weight_in_bounds(digits, trainer_factory):
    model = build_tiny("DCGAN", regularizers=[WeightClipping(0.01)], loss="wasserstein")
    trainer_factory(limit_train_batches=3).fit(model, datamodule=digits)
    for p in model.discriminator.parameters():
        assert p.abs().max() <= 0.01
    assert any(p.abs().max() > 0.01 for p in model.generator.parameters())


def test_drift_is_epsilon_times_mean_square_of_real_scores():
    module = LinearCritic(torch.tensor([1.0, 1.0, 1.0, 1.0]))
    real = torch.ones(3, 1, 2, 2)  # D(x) = 4 → E D(x)² = 16
    assert Drift().penalty(module, step_of(real, real)).item() == pytest.approx(16.0)
    step = step_of(real, real)
    step.real_logits = torch.tensor([1.0, 2.0, 3.0])  # reused when the D step already computed it
    assert Drift().penalty(module, step).item() == pytest.approx(14 / 3)
    assert Drift().weight == 0.001


class Counting(Regularizer):
    name = "counting"

    def __init__(self, interval):
        super().__init__(weight=1.0, interval=interval)
        self.calls = 0

    def penalty(self, module, step):
        self.calls += 1
        return torch.zeros((), requires_grad=True)


@pytest.mark.parametrize(("interval", "calls"), [(1, 4), (2, 2), (4, 1)])
def test_lazy_regularization_interval(interval, calls, digits, trainer_factory):
    regularizer = Counting(interval)
    model = build_tiny("DCGAN", regularizers=[regularizer])
    trainer_factory(limit_train_batches=4).fit(model, datamodule=digits)
    assert regularizer.calls == calls


def test_penalty_is_weighted_added_and_logged(digits, trainer_factory):
    model = build_tiny("DCGAN", regularizers=["gradient_penalty"], loss="wasserstein")
    trainer = trainer_factory()
    trainer.fit(model, datamodule=digits)
    assert "train/d_gp_epoch" in trainer.callback_metrics


def test_registry_by_name_and_unknown_names():
    assert set(REGULARIZERS.names()) >= {"gradient_penalty", "weight_clipping", "drift"}
    assert isinstance(get_regularizer("gradient_penalty"), GradientPenalty)
    assert get_regularizer("gradient_penalty").weight == 10.0  # λ = 10, Gulrajani et al. §4
    with pytest.raises(UnknownNameError, match="Valid names: drift, gradient_penalty"):
        get_regularizer("gp2")


def test_bad_arguments():
    with pytest.raises(ValueError):
        WeightClipping(0)
    with pytest.raises(ValueError):
        GradientPenalty(interval=0)
