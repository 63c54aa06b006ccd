"""Additive Gaussian noise, the regularizer of the semi-supervised discriminator (Salimans et al. 2016)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class GaussianNoise(nn.Module):
    """x + ε with ε ~ N(0, σ²) in training mode; the identity in eval mode.

    The authors' MNIST discriminator adds σ = 0.3 to its input and σ = 0.5 after every hidden layer.
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma < 0:
            raise ValueError(f"sigma must be >= 0, got {sigma}")
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"
