"""Regularizers against their formulas, and how the schedule applies them."""

from __future__ import annotations

import pytest
import torch
from conftest import build_tiny, module_around
from torch import nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.step import Step
from gan_zoo.losses import (
    REGULARIZERS,
    Drift,
    FeatureMatching,
    GradientPenalty,
    HistoricalAveraging,
    PixelGradientPenalty,
    Regularizer,
    WeightClipping,
    get_regularizer,
)
from gan_zoo.registry import UnknownNameError


class LinearCritic(AdversarialModule):
    """D(x) = Σ w·x: its input gradient is w for every sample, so the penalty is known in closed form."""

    def __init__(self, w: torch.Tensor, regularizers=None):
        super().__init__(image_shape=(1, 2, 2), latent_dim=2, regularizers=regularizers)

    def build_networks(self):
        generator = nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2)))
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False))
        with torch.no_grad():
            critic[1].weight.copy_(self.hparams.w.view(1, 4))
        return generator, critic


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
    module = module_around(
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
    with pytest.raises(UnknownNameError, match=r"Valid names: drift, .*gradient_penalty"):
        get_regularizer("gp2")


def test_bad_arguments():
    with pytest.raises(ValueError):
        WeightClipping(0)
    with pytest.raises(ValueError):
        GradientPenalty(interval=0)


# ---------------------------------------------------------------- Improved-GAN techniques (Salimans 2016)
class FeatureCritic(AdversarialModule):
    """D(x) = v · W x with f(x) = W x exposed as its ``feature_layer``."""

    def __init__(self, regularizers=None):
        super().__init__(image_shape=(1, 2, 2), latent_dim=2, regularizers=regularizers)

    def build_networks(self):
        generator = nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2)))
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False), nn.Linear(2, 1, bias=False))
        critic.feature_layer = "1"
        with torch.no_grad():
            critic[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]]))
            critic[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        return generator, critic


def test_feature_matching_is_the_squared_distance_of_mean_features():
    module = FeatureCritic()
    real = torch.tensor([[1.0, 2.0, 3.0, 4.0], [3.0, 0.0, 1.0, 0.0]]).view(2, 1, 2, 2)  # f: (1, 5), (3, 1)
    fake = torch.tensor([[0.0, 1.0, 0.0, 9.0], [0.0, 0.0, 1.0, 9.0]]).view(2, 1, 2, 2)  # f: (0, 1), (0, 1)
    # E f(x) = (2, 3), E f(G(z)) = (0, 1) → ‖(2, 2)‖² = 8
    assert FeatureMatching().penalty(module, step_of(real, fake)).item() == pytest.approx(8.0)
    # any submodule by name, here the logit: D(x) = f1 + f2 → E D(x) = (6 + 4) / 2, E D(G(z)) = 1
    assert FeatureMatching(layer="2").penalty(module, step_of(real, fake)).item() == pytest.approx(16.0)


def test_feature_matching_replaces_the_generator_loss_or_adds_to_it():
    real, fake = torch.randn(3, 1, 2, 2), torch.randn(3, 1, 2, 2)
    fm = FeatureMatching().penalty(FeatureCritic(), step_of(real, fake))
    replacing = FeatureCritic(regularizers=[FeatureMatching(weight=2.0)])
    adding = FeatureCritic(regularizers=[FeatureMatching(weight=2.0, replace=False)])
    adversarial = adding.generator_step(step_of(real, fake))["loss"]
    assert replacing.losses("generator", step_of(real, fake))["loss"].item() == pytest.approx(2 * fm.item())
    assert adding.losses("generator", step_of(real, fake))["loss"].item() == pytest.approx(
        adversarial.item() + 2 * fm.item()
    )


def test_feature_matching_trains_the_generator_only_through_fake_features(digits, trainer_factory):
    model = build_tiny("DCGAN", regularizers=["feature_matching"])
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    trainer = trainer_factory()
    trainer.fit(model, datamodule=digits)
    assert "train/g_feature_matching_epoch" in trainer.callback_metrics
    assert any(not torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters(), strict=True))


def test_historical_averaging_penalizes_the_distance_to_the_running_mean_of_past_parameters():
    module = LinearCritic(torch.tensor([1.0, 1.0, 1.0, 1.0]))
    averaging = HistoricalAveraging(network="discriminator")
    weight = module.discriminator[1].weight
    assert averaging.penalty(module, None).item() == 0.0  # θ[1] is the current value
    with torch.no_grad():
        weight.copy_(torch.tensor([[3.0, 1.0, 1.0, 1.0]]))
    averaging.after_step(module)  # mean of (1,1,1,1), (3,1,1,1) = (2,1,1,1)
    assert averaging.penalty(module, None).item() == pytest.approx(1.0)
    with torch.no_grad():
        weight.copy_(torch.tensor([[3.0, 3.0, 1.0, 1.0]]))
    averaging.after_step(module)  # mean = (7/3, 5/3, 1, 1) → (2/3)² + (4/3)² = 20/9
    assert averaging.penalty(module, None).item() == pytest.approx(20 / 9)
    assert averaging.count == 3


def test_historical_averaging_gradient_pulls_towards_the_average():
    module = LinearCritic(torch.tensor([1.0, 1.0, 1.0, 1.0]))
    averaging = HistoricalAveraging()
    averaging.penalty(module, None)
    with torch.no_grad():
        module.discriminator[1].weight.add_(2.0)
    averaging.after_step(module)  # average 2, current 3 → ∇ = 2 (θ − avg) = 2
    averaging.penalty(module, None).backward()
    assert torch.allclose(module.discriminator[1].weight.grad, torch.full((1, 4), 2.0))


def test_historical_averaging_acts_on_both_networks(digits, trainer_factory):
    d_average, g_average = HistoricalAveraging("discriminator"), HistoricalAveraging("generator", weight=0.5)
    model = build_tiny("DCGAN", regularizers=[d_average, g_average], n_critic=2)
    trainer = trainer_factory(limit_train_batches=4)
    trainer.fit(model, datamodule=digits)
    assert (d_average.count, g_average.count) == (1 + 4, 1 + 2)  # the start, then each update
    for name in ("train/d_historical_averaging_epoch", "train/g_historical_averaging_epoch"):
        assert trainer.callback_metrics[name] > 0
    last_d = [p.detach() for p in model.discriminator.parameters()]
    assert not all(torch.equal(a, p) for a, p in zip(d_average.average, last_d, strict=True))


def test_historical_averaging_names_a_network():
    with pytest.raises(ValueError, match="network must be"):
        HistoricalAveraging("critic")
