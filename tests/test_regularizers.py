"""Regularizers against their formulas, and how the schedule applies them."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import torch
from conftest import build_tiny, module_around
from hand_computed import ConstantImages, fit_on, frozen
from torch import nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.step import Step
from gan_zoo.lightning_compat import Callback
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
    """D(x) = Σ w·x: its input gradient is w for every sample, so the penalty is known in closed form.

    ``fake`` makes G draw that one image for every z; the optimizers are frozen then, so a fit logs
    values known by hand on every batch.
    """

    def __init__(self, w: torch.Tensor, regularizers=None, fake: torch.Tensor | None = None, **kwargs):
        if fake is not None:
            kwargs = {"g_optimizer": frozen, "d_optimizer": frozen, **kwargs}
        super().__init__(image_shape=(1, 2, 2), latent_dim=2, regularizers=regularizers, **kwargs)

    def build_networks(self):
        fake = self.hparams.fake
        if fake is None:
            generator = nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2)))
        else:
            generator = ConstantImages(fake.view(1, 1, 2, 2))
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 1, bias=False))
        with torch.no_grad():
            critic[1].weight.copy_(self.hparams.w.view(1, 4))
        return generator, critic


def step_of(real, fake):
    return Step(real, None, fake, None)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (1.0, 16.0),  # WGAN-GP: (5 − 1)²
        (5.0, 0.0),  # the norm is on target
        (2.0, 9 / 4),  # ProGAN's normalization: (5 − 2)² / 2², where the unnormalized penalty is 9
        (10.0, 1 / 4),  # (5 − 10)² / 10², not 25
    ],
)
def test_gradient_penalty_of_a_linear_critic_is_closed_form(target, expected):
    w = torch.tensor([3.0, 0.0, 4.0, 0.0])  # ‖∇D‖ = ‖w‖ = 5 at every x̂: (‖w‖ − γ)² / γ²
    module = LinearCritic(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    value = GradientPenalty(target=target).penalty(module, step_of(real, fake)).item()
    assert value == pytest.approx(expected, abs=1e-6)


def test_gradient_penalty_at_progans_target_750_is_divided_by_its_square():
    # ProGAN's code: square(‖∇‖ − γ) · λ / γ². ‖w‖ = 1000, γ = 750 → (250 / 750)² = 1/9,
    # where (‖∇‖ − γ)² alone is 62 500: 5.6·10⁵ times too strong.
    module = LinearCritic(torch.tensor([600.0, 0.0, 800.0, 0.0]))
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    value = GradientPenalty(weight=10.0, target=750.0).penalty(module, step_of(real, fake)).item()
    assert value == pytest.approx(1 / 9, rel=1e-5)


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


@pytest.mark.parametrize("target", [1.0, 2.0])
def test_gradient_penalty_gradient_wrt_the_critic_weights(target):
    # P(w) = (‖w‖ − γ)² / γ² for D(x) = w·x, so ∂P/∂w = 2 (‖w‖ − γ) / γ² · w / ‖w‖:
    # w = (3, 0, 4, 0): γ = 1 → 8 · (0.6, 0, 0.8, 0); γ = 2 → 1.5 · (0.6, 0, 0.8, 0)
    module = LinearCritic(torch.tensor([3.0, 0.0, 4.0, 0.0]))
    value = GradientPenalty(target=target).penalty(
        module, step_of(torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    )
    value.backward()
    scale = 2 * (5 - target) / target**2
    expected = scale * torch.tensor([[0.6, 0.0, 0.8, 0.0]])
    torch.testing.assert_close(module.discriminator[1].weight.grad, expected)


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


@pytest.mark.parametrize(
    ("weight", "target", "interval", "w", "gp", "d_fake", "d_real"),
    [
        (10.0, 1.0, 1, [3.0, 0.0, 4.0, 0.0], 16.0, -1.0, 7.0),  # gp = (5 − 1)²
        (10.0, 750.0, 1, [600.0, 0.0, 800.0, 0.0], 1 / 9, -200.0, 1400.0),  # ProGAN: (1000 − 750)² / 750²
        (5.0, 1.0, 2, [3.0, 0.0, 4.0, 0.0], 16.0, -1.0, 7.0),  # lazy: 2 λ gp on batch 1 of 2, nothing on 2
    ],
)
def test_penalty_is_weighted_added_and_logged(
    weight, target, interval, w, gp, d_fake, d_real, trainer_factory
):
    # D(x) = w·x, real = (1, 1, 1, 1), fake = (1, 2, −1, 5): D(fake) = w₁ − w₃ and D(real) = w₁ + w₃
    real, fake = torch.ones(3, 1, 2, 2), torch.tensor([1.0, 2.0, -1.0, 5.0])
    regularizer = GradientPenalty(weight=weight, target=target, interval=interval)
    model = LinearCritic(torch.tensor(w), [regularizer], fake=fake, loss="wasserstein")
    logged = fit_on(model, real, trainer_factory, batches=interval)
    assert logged["train/d_gp_epoch"] == pytest.approx(gp, rel=1e-5)  # unweighted
    # Wasserstein D loss D(fake) − D(real), plus λ gp on average over the epoch's batches
    assert logged["train/d_loss_epoch"] == pytest.approx(d_fake - d_real + weight * gp, rel=1e-5)
    assert logged["train/g_loss_epoch"] == pytest.approx(-d_fake, rel=1e-6)  # G's loss has no penalty


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
    with pytest.raises(ValueError, match=r"target .* must be > 0"):
        GradientPenalty(target=0.0)


# ---------------------------------------------------------------- Improved-GAN techniques (Salimans 2016)
class FeatureCritic(AdversarialModule):
    """D(x) = v · W x with f(x) = W x exposed as its ``feature_layer``; G draws the one image ``fake``."""

    def __init__(self, regularizers=None, fake=(0.0, 1.0, 0.0, 9.0), **kwargs):
        kwargs = {"g_optimizer": frozen, "d_optimizer": frozen, **kwargs}
        super().__init__(image_shape=(1, 2, 2), latent_dim=2, regularizers=regularizers, **kwargs)

    def build_networks(self):
        generator = ConstantImages(torch.tensor(self.hparams.fake).view(1, 1, 2, 2))
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False), nn.Linear(2, 1, bias=False))
        critic.feature_layer = "1"
        with torch.no_grad():
            critic[1].weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]]))
            critic[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        return generator, critic


#: Two real images whose features f = W x are (1, 5) and (3, 1): E f(x) = (2, 3).
FM_REAL = torch.tensor([[1.0, 2.0, 3.0, 4.0], [3.0, 0.0, 1.0, 0.0]]).view(2, 1, 2, 2)


def test_feature_matching_is_the_squared_distance_of_mean_features():
    module = FeatureCritic()
    real = torch.tensor([[1.0, 2.0, 3.0, 4.0], [3.0, 0.0, 1.0, 0.0]]).view(2, 1, 2, 2)  # f: (1, 5), (3, 1)
    fake = torch.tensor([[0.0, 1.0, 0.0, 9.0], [0.0, 0.0, 1.0, 9.0]]).view(2, 1, 2, 2)  # f: (0, 1), (0, 1)
    # E f(x) = (2, 3), E f(G(z)) = (0, 1) → ‖(2, 2)‖² = 8
    assert FeatureMatching().penalty(module, step_of(real, fake)).item() == pytest.approx(8.0)
    # any submodule by name, here the logit: D(x) = f1 + f2 → E D(x) = (6 + 4) / 2, E D(G(z)) = 1
    assert FeatureMatching(layer="2").penalty(module, step_of(real, fake)).item() == pytest.approx(16.0)


@pytest.mark.parametrize(
    ("replace", "g_loss"),
    [
        (True, 2 * 8.0),  # Salimans et al. §3.1: feature matching is G's whole objective
        (False, math.log1p(math.exp(-1.0)) + 2 * 8.0),  # added to the non-saturating −log σ(D(G(z)))
    ],
)
def test_feature_matching_replaces_the_generator_loss_or_adds_to_it(replace, g_loss, trainer_factory):
    # G draws (0, 1, 0, 9): f = (0, 1), D = 1. ‖E f(x) − E f(G(z))‖² = ‖(2, 2)‖² = 8, weight 2.
    model = FeatureCritic(regularizers=[FeatureMatching(weight=2.0, replace=replace)])
    logged = fit_on(model, FM_REAL, trainer_factory)
    assert logged["train/g_feature_matching_epoch"] == pytest.approx(8.0, rel=1e-6)
    assert logged["train/g_loss_epoch"] == pytest.approx(g_loss, rel=1e-6)


def test_feature_matching_moves_the_generator_towards_the_real_features(trainer_factory):
    # G's image g gives the features W g for every sample: ∇_g ‖m − W g‖² = −2 Wᵀ(m − W g), with
    # m = E f(x) = (2, 3) and W g = (0, 1): −2 Wᵀ (2, 2) = (−4, −4, −4, 0). One SGD step, lr 0.1:
    # g = (0, 1, 0, 9) + (0.4, 0.4, 0.4, 0). D (frozen) is unchanged.
    sgd = functools.partial(torch.optim.SGD, lr=0.1)
    model = FeatureCritic(regularizers=[FeatureMatching()], g_optimizer=sgd)
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    fit_on(model, FM_REAL, trainer_factory)
    torch.testing.assert_close(model.generator.image.detach().flatten(), torch.tensor([0.4, 1.4, 0.4, 9.0]))
    assert all(torch.equal(a, p) for a, p in zip(d_before, model.discriminator.parameters(), strict=True))


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


class ParameterHistory(Callback):
    """Each network's parameters, flattened, at the start of every batch (before its update)."""

    def __init__(self) -> None:
        self.history: dict[str, list[np.ndarray]] = {"generator": [], "discriminator": []}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        for network, values in self.history.items():
            parameters = getattr(pl_module, network).parameters()
            values.append(np.concatenate([p.detach().double().flatten().numpy() for p in parameters]))


def mean_historical_penalty(thetas: list[np.ndarray]) -> float:
    """A naive loop over the updates: at update t the penalty is ‖θ_t − (1/(t+1)) Σ_{i≤t} θ_i‖²
    (the past values are the start and the values after each earlier update); their mean."""
    penalties = [np.sum((theta - np.mean(thetas[: t + 1], axis=0)) ** 2) for t, theta in enumerate(thetas)]
    return float(np.mean(penalties))


def test_historical_averaging_acts_on_both_networks(digits, trainer_factory):
    d_average, g_average = HistoricalAveraging("discriminator"), HistoricalAveraging("generator", weight=0.5)
    sgd = functools.partial(torch.optim.SGD, lr=0.05)  # steps large enough to measure the distances
    model = build_tiny(
        "DCGAN", regularizers=[d_average, g_average], n_critic=2, g_optimizer=sgd, d_optimizer=sgd
    )
    history = ParameterHistory()
    trainer = trainer_factory(limit_train_batches=4, callbacks=[history])
    trainer.fit(model, datamodule=digits)
    assert (d_average.count, g_average.count) == (1 + 4, 1 + 2)  # the start, then each update
    # D steps on every batch; G on batches 2 and 4 (n_critic = 2), where its parameters are the
    # initial ones and those after its first update
    d_expected = mean_historical_penalty(history.history["discriminator"])
    g_expected = mean_historical_penalty(history.history["generator"][1::2])
    assert d_expected > 0 and g_expected > 0  # the networks moved, so the check below means something
    logged = trainer.callback_metrics
    assert logged["train/d_historical_averaging_epoch"].item() == pytest.approx(d_expected, rel=1e-3)
    assert logged["train/g_historical_averaging_epoch"].item() == pytest.approx(g_expected, rel=1e-3)


def test_historical_averaging_names_a_network():
    with pytest.raises(ValueError, match="network must be"):
        HistoricalAveraging("critic")


def test_the_config_form_of_a_regularizer_builds_only_registered_classes():
    built = get_regularizer({"class_path": "gan_zoo.losses.GradientPenalty", "init_args": {"weight": 5.0}})
    assert isinstance(built, GradientPenalty) and built.weight == 5.0 and built.target == 1.0
    assert isinstance(get_regularizer({"class_path": "Drift"}), Drift)
    with pytest.raises(
        UnknownNameError, match=r"Unknown regularizer class_path 'os.system'. Valid class paths: "
    ):
        get_regularizer({"class_path": "os.system", "init_args": {"command": "true"}})
