"""Minibatch discrimination (Salimans et al. 2016, §3.2)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchDiscrimination(nn.Module):
    """Lets D look at a sample's closeness to the rest of its batch, so a collapsed G is easy to spot.

    With features f(x_i) ∈ R^A and a learned tensor T ∈ R^{A×B×C}:

        M_i = f(x_i) T ∈ R^{B×C}
        c_b(x_i, x_j) = exp(−‖M_{i,b} − M_{j,b}‖_L1)
        o(x_i)_b = Σ_{j=1}^{n} c_b(x_i, x_j)                 o(x_i) ∈ R^B

    and the layer returns [f(x_i), o(x_i)] ∈ R^{A+B}. The sum runs over the whole batch as in the
    paper, so it includes c_b(x_i, x_i) = 1; the authors' code leaves j = i out, which shifts every
    o_b by the constant 1 (absorbed by the next layer's bias). Identical samples give the largest
    o(x_i) = n. Batches are compared within themselves: D sees real and generated batches separately.

    Shapes: ``[N, A]`` (or ``[N, ...]``, flattened) → ``[N, A + B]``.

    Args:
        in_features: A.
        kernels: B (100 in the authors' CIFAR-10 and SVHN code).
        kernel_dim: C (5 there).
    """

    def __init__(self, in_features: int, kernels: int = 100, kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_features, self.kernels, self.kernel_dim = in_features, kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, kernels, kernel_dim) * 0.05)  # N(0, 0.05²) as there

    @property
    def out_features(self) -> int:
        return self.in_features + self.kernels

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, kernels={self.kernels}, kernel_dim={self.kernel_dim}"

    def forward(self, features: Tensor) -> Tensor:
        features = features.flatten(1)  # [N, A]
        m = torch.einsum("na,abc->bnc", features, self.T)  # M, one [N, C] matrix per kernel b: [B, N, C]
        l1 = torch.cdist(m, m, p=1)  # ‖M_{i,b} − M_{j,b}‖_L1 without an [N, N, B, C] tensor: [B, N, N]
        o = torch.exp(-l1).sum(2).t()  # Σ_j c_b(x_i, x_j): [N, B]
        return torch.cat([features, o], dim=1)
