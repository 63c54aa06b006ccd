"""Equalized learning rate (ProGAN, Karras et al. 2018, §4.1)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class EqualizedLinear(nn.Module):
    """A linear layer whose weights are drawn from N(0, 1) and scaled at run time:

        ŵ_i = w_i / c,   c = √(fan_in) / gain   (He's constant; gain = √2 for leaky ReLU)

    Scaling at run time rather than at initialization makes every weight's update size independent
    of its layer's fan-in under Adam (§4.1). Biases start at 0 and are not scaled.

    Shapes: ``[N, in_features] -> [N, out_features]``.
    """

    def __init__(
        self, in_features: int, out_features: int, gain: float = math.sqrt(2), bias: bool = True
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        self.scale = gain / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)


class EqualizedConv2d(nn.Module):
    """A 'same'-padded convolution with the equalized learning rate of :class:`EqualizedLinear`
    (fan_in = in_channels · k²).

    Shapes: ``[N, in_channels, H, W] -> [N, out_channels, H, W]``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        gain: float = math.sqrt(2),
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.scale = gain / math.sqrt(in_channels * kernel_size**2)
        self.padding = kernel_size // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)
