"""Pixelwise feature vector normalization (ProGAN, Karras et al. 2018, §4.2)."""

from __future__ import annotations

from torch import Tensor, nn


class PixelNorm(nn.Module):
    """b_x,y = a_x,y / √( (1/C) Σ_j (a^j_x,y)² + ε ),  ε = 1e-8 (Eq. in §4.2).

    Normalizes each pixel's feature vector to unit average square; used after every convolution of
    ProGAN's generator to keep G and D from escalating signal magnitudes. Applied to ``[N, C]``
    latents it normalizes each vector.

    Shapes: ``[N, C, ...] -> [N, C, ...]``.
    """

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * (x.square().mean(dim=1, keepdim=True) + self.eps).rsqrt()
