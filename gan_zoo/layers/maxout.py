"""Maxout units (Goodfellow et al. 2013), the hidden units of the 2014 GAN and CGAN discriminators."""

from __future__ import annotations

from torch import Tensor, nn


class Maxout(nn.Module):
    """h_i(x) = max_{j ∈ [1, k]} (xᵀW_{·ij} + b_ij): ``units`` outputs, each a max of ``pieces`` maps.

    Shapes: ``[N, in_features] -> [N, units]``.
    """

    def __init__(self, in_features: int, units: int, pieces: int) -> None:
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(in_features, units * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)
