"""PixelNorm: b = a / √(mean_j a_j² + ε) per pixel (ProGAN §4.2)."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.layers import PixelNorm


def test_pixel_norm_by_hand():
    x = torch.tensor([[3.0, 0.0], [4.0, 2.0]]).view(1, 2, 1, 2)  # pixel 1: (3, 4); pixel 2: (0, 2)
    y = PixelNorm()(x).view(2, 2)
    assert y[:, 0].tolist() == pytest.approx([3 / math.sqrt(12.5), 4 / math.sqrt(12.5)])
    assert y[:, 1].tolist() == pytest.approx([0.0, 2 / math.sqrt(2.0)])


def test_every_feature_vector_gets_unit_mean_square():
    y = PixelNorm()(torch.randn(3, 16, 4, 4) * 5)
    assert torch.allclose(y.square().mean(dim=1), torch.ones(3, 4, 4), atol=1e-5)
    z = PixelNorm()(torch.randn(5, 32))  # latents [N, C]
    assert torch.allclose(z.square().mean(dim=1), torch.ones(5), atol=1e-5)
