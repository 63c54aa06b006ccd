"""BigGAN's orthogonal regularization ‖WᵀW ⊙ (1 − I)‖²_F against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from hand_computed import ConstantImages, fit_on, frozen
from torch import nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.step import Step
from gan_zoo.layers import apply_spectral_norm
from gan_zoo.losses import OrthogonalRegularization, get_regularizer
from gan_zoo.losses.orthogonal import filter_weights, off_diagonal_gram_norm


def test_off_diagonal_gram_norm_by_hand():
    # filters (1, 2) and (3, 4): Gram [[5, 11], [11, 25]] → off-diagonal 2 · 11² = 242
    assert off_diagonal_gram_norm(torch.tensor([[1.0, 2.0], [3.0, 4.0]])).item() == pytest.approx(242.0)
    # three 1-d filters 1, 2, 3: Gram = outer product → 2 · (2² + 3² + 6²) = 98 (via the small Gram)
    assert off_diagonal_gram_norm(torch.tensor([[1.0], [2.0], [3.0]])).item() == pytest.approx(98.0)
    # orthogonal filters of any norm cost nothing: the diagonal is excluded
    assert off_diagonal_gram_norm(torch.diag(torch.tensor([3.0, -7.0, 0.5]))).item() == 0.0


@pytest.mark.parametrize("shape", [(6, 3, 3, 3), (40, 5), (5, 40)])
def test_equals_the_masked_frobenius_norm_of_the_filter_gram(shape):
    w = torch.randn(shape, dtype=torch.float64)
    filters = w.reshape(shape[0], -1)
    gram = filters @ filters.T
    expected = (gram * (1 - torch.eye(shape[0], dtype=torch.float64))).square().sum()
    assert off_diagonal_gram_norm(w).item() == pytest.approx(expected.item(), rel=1e-9)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(3, 2)
        self.linear = nn.Linear(2, 2)
        self.conv = nn.Conv2d(1, 1, 1)


def test_penalty_sums_over_weights_skipping_biases_and_embeddings():
    generator = Tiny()
    with torch.no_grad():
        generator.linear.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    apply_spectral_norm(generator)  # the penalty reads the raw weights
    module = type("M", (), {"generator": generator, "discriminator": nn.Identity()})()
    step = Step(torch.zeros(1), None, torch.zeros(1), None)
    names = {id(p) for p in filter_weights(generator)}
    assert id(generator.linear.parametrizations.weight.original) in names
    assert id(generator.embed.parametrizations.weight.original) not in names
    assert all(p.ndim >= 2 for p in filter_weights(generator))
    assert OrthogonalRegularization().penalty(module, step).item() == pytest.approx(242.0)  # 1×1 conv adds 0


def test_registered_with_the_papers_weight_on_the_generator():
    regularizer = get_regularizer("orthogonal")
    assert isinstance(regularizer, OrthogonalRegularization)
    assert (regularizer.weight, regularizer.network) == (1e-4, "generator")
    with pytest.raises(ValueError, match="network must be"):
        OrthogonalRegularization(network="critic")


class OrthogonalityProbe(AdversarialModule):
    """G draws one constant image and carries W = [[1, 2], [3, 4]] (penalty 242, see above); D has
    filters (1, 1, 0, 0), (0, 1, 1, 0) (penalty 2 · 1² = 2) and a zero last layer: every logit is 0."""

    def __init__(self, regularizers):
        super().__init__(
            image_shape=(1, 2, 2),
            latent_dim=2,
            regularizers=regularizers,
            g_optimizer=frozen,
            d_optimizer=frozen,
        )

    def build_networks(self):
        generator = ConstantImages(torch.zeros(1, 1, 2, 2))
        generator.w = nn.Linear(2, 2, bias=False)
        critic = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False), nn.Linear(2, 1, bias=False))
        with torch.no_grad():
            generator.w.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
            critic[1].weight.copy_(torch.tensor([[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]]))
            critic[2].weight.zero_()
        return generator, critic


@pytest.mark.parametrize(
    ("network", "g_term", "d_term"), [("generator", 242.0, 0.0), ("discriminator", 0.0, 2.0)]
)
def test_penalty_is_added_to_its_networks_loss_only(network, g_term, d_term, trainer_factory):
    # BigGAN Eq. (3) on G: L_G = −log σ(0) + β · 242, L_D = −log σ(0) − log(1 − σ(0)) unchanged;
    # on D instead, the penalty of D's own filters goes to D's loss and G's is left alone.
    beta = 0.01
    model = OrthogonalityProbe([OrthogonalRegularization(weight=beta, network=network)])
    logged = fit_on(model, torch.ones(2, 1, 2, 2), trainer_factory)
    assert logged["train/g_loss_epoch"] == pytest.approx(math.log(2) + beta * g_term, rel=1e-6)
    assert logged["train/d_loss_epoch"] == pytest.approx(2 * math.log(2) + beta * d_term, rel=1e-6)
    prefix, other = ("g", "d") if network == "generator" else ("d", "g")
    assert logged[f"train/{prefix}_ortho_epoch"] == pytest.approx(g_term + d_term, rel=1e-6)
    assert f"train/{other}_ortho_epoch" not in logged
