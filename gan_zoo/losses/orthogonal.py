"""BigGAN's orthogonal regularization (Brock et al. 2019, §3.1)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo.losses.regularizers import REGULARIZERS, Network, Regularizer


@REGULARIZERS.register("orthogonal")
class OrthogonalRegularization(Regularizer):
    """Brock et al. 2019, Eq. (3), summed over the network's weights:

        R_β(W) = β ‖WᵀW ⊙ (1 − I)‖²_F,   β = 10⁻⁴

    the relaxed variant that "removes the diagonal terms": it pushes the filters towards pairwise
    orthogonality without constraining their norms. Each weight is read as a matrix of filters
    (one row per output unit, ``[out, fan_in]``, as BigGAN's code does), and the Gram matrix is that
    of the filters. Weights of dimension < 2 (biases, γ) and embedding tables (lookups, not filters;
    BigGAN's code excludes its shared embedding) are left out. With spectral normalization the
    penalty acts on the raw weights, the trainable parameters.

    The value is computed through the smaller of the two Gram matrices, since
    ‖WWᵀ‖²_F = ‖WᵀW‖²_F and diag(WWᵀ)_i = ‖w_i‖²: a 20 → 24 576 linear layer never forms a
    24 576² matrix. (BigGAN's code adds the gradient 2(WWᵀ ⊙ (1 − I))W directly, half the gradient of
    this penalty; here the formula of the paper is the loss.)

    Args:
        weight: β.
        network: which network to regularize (``"generator"`` in BigGAN).
        interval: lazy regularization interval.
    """

    name = "ortho"

    def __init__(self, weight: float = 1e-4, network: Network = "generator", interval: int = 1) -> None:
        super().__init__(weight, interval)
        if network not in ("generator", "discriminator"):
            raise ValueError(f"network must be 'generator' or 'discriminator', got {network!r}")
        self.network = network

    def penalty(self, module, step) -> Tensor:
        network = module.generator if self.network == "generator" else module.discriminator
        return torch.stack([off_diagonal_gram_norm(w) for w in filter_weights(network)]).sum()

    def __repr__(self) -> str:
        arguments = f"weight={self.weight}, network={self.network!r}, interval={self.interval}"
        return f"OrthogonalRegularization({arguments})"


def filter_weights(network: nn.Module) -> list[Tensor]:
    """The parameters of ``network`` with ≥ 2 dimensions, except embedding tables."""
    lookups = {id(p) for m in network.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    return [p for p in network.parameters() if p.ndim >= 2 and id(p) not in lookups]


def off_diagonal_gram_norm(weight: Tensor) -> Tensor:
    """‖WWᵀ ⊙ (1 − I)‖²_F for the filters W = ``weight`` viewed as ``[out, fan_in]``."""
    w = weight.reshape(weight.shape[0], -1)
    small_gram = w.T @ w if w.shape[0] > w.shape[1] else w @ w.T  # same Frobenius norm
    diagonal = w.square().sum(dim=1)  # diag(WWᵀ): squared filter norms
    return small_gram.square().sum() - diagonal.square().sum()
