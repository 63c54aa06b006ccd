"""Every objective against hand-computed values; the registry's behaviour."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.losses import LOSSES, AdversarialLoss, Hinge, LeastSquares, Minimax, NonSaturating, get_loss
from gan_zoo.registry import UnknownNameError

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


# Each entry: (d_loss, g_loss) computed by hand from the papers' formulas, on REAL and FAKE above.
EXPECTED = {
    # D ascends log D(x) + log(1 − D(G(z))); G descends log(1 − D(G(z))) (Goodfellow 2014, Algorithm 1)
    "minimax": (
        -mean(math.log(sig(r)) for r in REAL.tolist()) - mean(math.log(1 - sig(f)) for f in FAKE.tolist()),
        mean(math.log(1 - sig(f)) for f in FAKE.tolist()),
    ),
    # G maximizes log D(G(z)) (§3)
    "non_saturating": (
        -mean(math.log(sig(r)) for r in REAL.tolist()) - mean(math.log(1 - sig(f)) for f in FAKE.tolist()),
        -mean(math.log(sig(f)) for f in FAKE.tolist()),
    ),
    # ½E(D(x) − 1)² + ½E(D(G(z)) − 0)²;  ½E(D(G(z)) − 1)²  (Mao 2017, a = 0, b = c = 1)
    "least_squares": (
        0.5 * mean((r - 1) ** 2 for r in REAL.tolist()) + 0.5 * mean(f**2 for f in FAKE.tolist()),
        0.5 * mean((f - 1) ** 2 for f in FAKE.tolist()),
    ),
    # E max(0, 1 − D(x)) + E max(0, 1 + D(G(z)));  −E D(G(z))
    "hinge": ((0 + 2) / 2 + (1.5 + 0) / 2, -(0.5 - 3.0) / 2),
    # E f(G(z)) − E f(x);  −E f(G(z))
    "wasserstein": ((0.5 - 3.0) / 2 - (2.0 - 1.0) / 2, -(0.5 - 3.0) / 2),
}


def test_every_registered_loss_has_expected_values():
    assert set(LOSSES.names()) == set(EXPECTED)


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_matches_hand_computed_values(name):
    loss = get_loss(name)
    d_expected, g_expected = EXPECTED[name]
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d_expected, rel=1e-6)
    assert loss.g_loss(FAKE).item() == pytest.approx(g_expected, rel=1e-6)


@pytest.mark.parametrize("name", LOSSES.names())
def test_loss_is_finite_and_has_gradients_for_extreme_logits(name):
    real = torch.tensor([80.0, -80.0], requires_grad=True)
    fake = torch.tensor([-80.0, 80.0], requires_grad=True)
    loss = get_loss(name)
    total = loss.d_loss(real, fake) + loss.g_loss(fake)
    total.backward()
    assert torch.isfinite(total)
    assert torch.isfinite(real.grad).all() and torch.isfinite(fake.grad).all()


def test_minimax_generator_loss_is_log_one_minus_d():
    # Worked by hand: f = 0 → D(G(z)) = ½ → log(1 − ½) = −log 2
    assert Minimax().g_loss(torch.zeros(3)).item() == pytest.approx(-math.log(2))
    # The minimax G gradient vanishes as D gets confident (the saturation the paper warns about).
    f = torch.tensor([-10.0], requires_grad=True)
    Minimax().g_loss(f).backward()
    assert abs(f.grad.item()) < 1e-4


def test_least_squares_pearson_coding():
    # a = −1, b = 1, c = 0 (Mao 2017, Eq. 8): D(x) = 1 and D(G(z)) = −1 cost D nothing.
    loss = LeastSquares(a=-1, b=1, c=0)
    assert loss.d_loss(torch.ones(4), -torch.ones(4)).item() == 0
    assert loss.g_loss(torch.tensor([2.0])).item() == pytest.approx(0.5 * 4)


def test_output_is_a_probability_for_sigmoid_objectives():
    assert Minimax().output(torch.tensor([0.0])).item() == 0.5
    assert Hinge().output(torch.tensor([3.0])).item() == 3.0


def test_unknown_loss_lists_valid_names():
    with pytest.raises(UnknownNameError, match=r"Unknown loss 'hing'\. Valid names: hinge, least_squares"):
        get_loss("hing")


def test_get_loss_passes_instances_through():
    loss = LeastSquares(a=-1)
    assert get_loss(loss) is loss
    assert isinstance(get_loss("hinge"), AdversarialLoss)


def test_registry_refuses_duplicates():
    with pytest.raises(ValueError, match="already registered"):
        LOSSES.register("hinge")(Hinge)


def test_one_sided_label_smoothing_softens_only_the_real_target():
    # Salimans et al. 2016 §3.4 with α = 0.9: −[α log σ(r) + (1 − α) log(1 − σ(r))] − log(1 − σ(f))
    alpha = 0.9
    real = -mean(alpha * math.log(sig(r)) + (1 - alpha) * math.log(1 - sig(r)) for r in REAL.tolist())
    fake = -mean(math.log(1 - sig(f)) for f in FAKE.tolist())
    for name in ("minimax", "non_saturating"):
        smoothed, plain = LOSSES.get(name)(real_label=alpha), get_loss(name)
        assert smoothed.d_loss(REAL, FAKE).item() == pytest.approx(real + fake, rel=1e-6)
        # the fake target is still 0: smoothing changes the loss by the same amount for any fake batch
        shift = smoothed.d_loss(REAL, FAKE) - plain.d_loss(REAL, FAKE)
        other_fake = torch.tensor([4.0, 1.0, -2.0])
        assert (smoothed.d_loss(REAL, other_fake) - plain.d_loss(REAL, other_fake)).item() == pytest.approx(
            shift.item(), abs=1e-6
        )
        assert smoothed.g_loss(FAKE).item() == plain.g_loss(FAKE).item()


def test_label_smoothing_moves_the_optimal_real_logit_to_logit_alpha():
    # The smoothed real term is minimized where σ(r) = α, not at r → ∞.
    r = torch.tensor([math.log(0.9 / 0.1)], requires_grad=True)
    NonSaturating(real_label=0.9).d_loss(r, torch.zeros(1)).backward()
    assert r.grad.abs().item() < 1e-6


@pytest.mark.parametrize("alpha", [0.0, 1.5, -0.1])
def test_label_smoothing_rejects_targets_outside_zero_one(alpha):
    with pytest.raises(ValueError, match="real_label"):
        NonSaturating(real_label=alpha)
