"""Equalized learning rate: N(0, 1) weights scaled by gain / √fan_in at run time (ProGAN §4.1)."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.layers import EqualizedConv2d, EqualizedLinear


def test_weights_are_standard_normal_and_biases_zero():
    torch.manual_seed(0)
    layer = EqualizedConv2d(64, 64, 3)
    assert layer.weight.std().item() == pytest.approx(1.0, abs=0.02)
    assert layer.weight.mean().item() == pytest.approx(0.0, abs=0.02)
    assert torch.equal(layer.bias, torch.zeros(64))
    assert layer.scale == pytest.approx(math.sqrt(2) / math.sqrt(64 * 9))


def test_linear_output_by_hand():
    layer = EqualizedLinear(4, 1)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    # Σ 1 · (√2 / √4) over 4 inputs = 2√2
    assert layer(torch.ones(1, 4)).item() == pytest.approx(2 * math.sqrt(2))
    assert EqualizedLinear(4, 1, gain=1.0).scale == pytest.approx(0.5)


def test_conv_output_by_hand():
    layer = EqualizedConv2d(2, 1, 3)  # fan_in = 18 → scale = √2 / √18 = 1/3
    with torch.no_grad():
        layer.weight.fill_(1.0)
    out = layer(torch.ones(1, 2, 3, 3))
    assert out.shape == (1, 1, 3, 3)  # 'same' padding
    assert out[0, 0, 1, 1].item() == pytest.approx(18 / 3)  # centre: all 18 taps
    assert out[0, 0, 0, 0].item() == pytest.approx(8 / 3)  # corner: 2 channels × 4 taps inside
