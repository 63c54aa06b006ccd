"""Minibatch discrimination (Salimans et al. 2016, §3.2) against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.layers import MinibatchDiscrimination


def identity_layer() -> MinibatchDiscrimination:
    """A = 2, B = 1, C = 2 with T[:, 0, :] = I, so M_{i,0} = x_i."""
    layer = MinibatchDiscrimination(2, kernels=1, kernel_dim=2)
    with torch.no_grad():
        layer.T.copy_(torch.eye(2).view(2, 1, 2))
    return layer


def test_output_concatenates_features_and_o():
    layer = MinibatchDiscrimination(in_features=12, kernels=7, kernel_dim=3)
    x = torch.randn(5, 3, 2, 2)  # flattened to A = 12
    out = layer(x)
    assert out.shape == (5, 12 + 7) and layer.out_features == 19
    assert torch.equal(out[:, :12], x.flatten(1))


def test_o_is_the_sum_of_exp_minus_l1_distances():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])  # L1: d01 = 1, d02 = 2, d12 = 3
    o = identity_layer()(x)[:, 2]
    e = math.exp
    expected = [1 + e(-1) + e(-2), e(-1) + 1 + e(-3), e(-2) + e(-3) + 1]  # j = i contributes exp(0) = 1
    assert o.tolist() == pytest.approx(expected, rel=1e-6)


def test_identical_samples_raise_o():
    layer = MinibatchDiscrimination(in_features=8, kernels=4, kernel_dim=3)
    diverse = torch.randn(6, 8) * 3
    collapsed = diverse[:1].expand(6, 8)  # a collapsed generator: the same sample six times
    o_diverse, o_collapsed = layer(diverse)[:, 8:], layer(collapsed)[:, 8:]
    assert torch.allclose(o_collapsed, torch.full((6, 4), 6.0))  # every c_b = 1: o = n, the maximum
    assert (o_collapsed > o_diverse).all()


def test_gradient_reaches_t_and_the_features():
    # T = I (M_i = x_i), x₁ = (1, 0), x₂ = (0, 2): Σ_i o(x_i) = 2 + 2 e^{−d}, d = ‖M₁ − M₂‖₁ = 3.
    # ∂/∂x₁ = −2e^{−d} sign(x₁ − x₂) = (−2, 2) e^{−3}, ∂/∂x₂ = (2, −2) e^{−3};
    # ∂/∂T[a, 0, c] = −2e^{−d} sign(M₁c − M₂c) (x₁a − x₂a) = [[−2, 2], [4, −4]] e^{−3}
    layer = identity_layer()
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    layer(x)[:, 2:].sum().backward()
    e = math.exp(-3.0)
    torch.testing.assert_close(x.grad, torch.tensor([[-2 * e, 2 * e], [2 * e, -2 * e]]))
    torch.testing.assert_close(layer.T.grad, torch.tensor([[[-2 * e, 2 * e]], [[4 * e, -4 * e]]]))
