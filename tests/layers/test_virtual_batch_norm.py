"""Virtual batch normalization (Salimans et al. 2016, §3.5) against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gan_zoo.layers import VirtualBatchNorm, reference_batch


def plain_vbn(channels: int = 1) -> VirtualBatchNorm:
    layer = VirtualBatchNorm(channels, eps=0.0)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    return layer


def test_reference_batch_is_normalized_with_its_own_statistics():
    layer = plain_vbn()
    outputs = []
    layer.register_forward_hook(lambda m, a, out: outputs.append(out))
    with reference_batch(layer, torch.tensor([[0.0], [2.0]])):  # μ_R = 1, ν_R = 2 → var 1
        pass
    assert outputs[0].flatten().tolist() == [-1.0, 1.0]


def test_example_is_normalized_with_reference_and_own_statistics():
    layer = plain_vbn()
    with reference_batch(layer, torch.tensor([[0.0], [2.0]])):  # n = 2, μ_R = 1, ν_R = 2
        y = layer(torch.tensor([[4.0]]))
    # μ = 4/3 + 2/3 · 1 = 2;  ν = 16/3 + 2/3 · 2 = 20/3;  var = 20/3 − 4 = 8/3
    assert y.item() == pytest.approx((4 - 2) / math.sqrt(8 / 3), rel=1e-6)


def test_spatial_inputs_use_each_examples_spatial_mean():
    layer = plain_vbn()
    reference = torch.tensor([0.0, 2.0, 2.0, 4.0]).view(1, 1, 2, 2)  # μ_R = 2, ν_R = 6, n = 1
    x = torch.tensor([1.0, 1.0, 1.0, 5.0]).view(1, 1, 2, 2)  # own mean 2, own mean of squares 7
    with reference_batch(layer, reference):
        y = layer(x)
    # μ = ½·2 + ½·2 = 2; ν = ½·7 + ½·6 = 6.5; var = 2.5
    assert y.flatten().tolist() == pytest.approx([(v - 2) / math.sqrt(2.5) for v in (1, 1, 1, 5)], rel=1e-6)


def test_an_examples_output_does_not_depend_on_its_batch():
    net = nn.Sequential(nn.Linear(3, 4), VirtualBatchNorm(4), nn.ReLU(), nn.Linear(4, 2), VirtualBatchNorm(2))
    reference = torch.randn(8, 3)
    x = torch.randn(5, 3)
    with reference_batch(net, reference):
        alone = net(x[:1])
    with reference_batch(net, reference):
        together = net(x)
    assert torch.allclose(alone, together[:1], atol=1e-6)


def test_gradients_flow_through_the_reference_statistics():
    # The reference activations are recomputed with the current parameters on every call, so the
    # live output depends on them. R = (0, 2), x = 5: μ = (x + r₁ + r₂)/3 = 7/3, ν = (x² + r₁² + r₂²)/3
    # = 29/3, σ² = ν − μ² = 38/9; y = (x − μ)/σ, and with ∂μ/∂r = 1/3, ∂σ²/∂r = 2(r − μ)/3:
    # ∂y/∂r = −1/(3σ) − (x − μ)(r − μ)/(3σ³)
    layer = plain_vbn()
    reference = torch.tensor([[0.0], [2.0]], requires_grad=True)
    with reference_batch(layer, reference):
        layer(torch.tensor([[5.0]])).sum().backward()
    mu, sigma = 7 / 3, math.sqrt(38 / 9)
    expected = [-1 / (3 * sigma) - (5 - mu) * (r - mu) / (3 * sigma**3) for r in (0.0, 2.0)]
    assert reference.grad.flatten().tolist() == pytest.approx(expected, rel=1e-5)


def test_outside_a_reference_batch_is_an_error_and_statistics_do_not_leak():
    layer = plain_vbn()
    with pytest.raises(RuntimeError, match="reference_batch"):
        layer(torch.ones(2, 1))
    with reference_batch(layer, torch.ones(3, 1)):
        pass
    assert layer.reference is None and not layer.collecting
