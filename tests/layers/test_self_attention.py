"""SelfAttention2d against SAGAN's Eqs. (1)–(3)."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.layers import SelfAttention2d


def test_gamma_starts_at_zero_and_the_block_is_then_the_identity():
    block = SelfAttention2d(16)
    assert block.gamma.item() == 0.0
    x = torch.randn(3, 16, 5, 4)
    assert torch.equal(block(x), x)


def test_attention_matches_a_hand_computed_example():
    # C = 2, C̄ = 1, two positions x_1 = (1, 2), x_2 = (3, 0); f(x) = x⁰, g(x) = x¹, h(x) = x⁰ − x¹,
    # v(o) = (o, 2o), γ = 0.5.
    block = SelfAttention2d(2, reduction=2)
    with torch.no_grad():
        block.f.weight.copy_(torch.tensor([1.0, 0.0]).view(1, 2, 1, 1))
        block.g.weight.copy_(torch.tensor([0.0, 1.0]).view(1, 2, 1, 1))
        block.h.weight.copy_(torch.tensor([1.0, -1.0]).view(1, 2, 1, 1))
        block.v.weight.copy_(torch.tensor([1.0, 2.0]).view(2, 1, 1, 1))
        block.gamma.fill_(0.5)
    x = torch.tensor([[1.0, 3.0], [2.0, 0.0]]).view(1, 2, 1, 2)  # channels × positions
    y = block(x).view(2, 2)
    # j = 2: s_i2 = f(x_i)·g(x_2) = 0 for both i → β uniform → Σ β h = (−1 + 3)/2 = 1 → o = (1, 2)
    assert y[:, 1].tolist() == pytest.approx([3.0 + 0.5, 0.0 + 1.0])
    # j = 1: s_11 = 1·2, s_21 = 3·2 → β = (σ(−4), σ(4)) → Σ β h = −σ(−4) + 3σ(4) = 4σ(4) − 1
    a = 4 / (1 + math.exp(-4)) - 1
    assert y[:, 0].tolist() == pytest.approx([1.0 + 0.5 * a, 2.0 + 0.5 * 2 * a])


def test_each_output_position_attends_over_all_positions():
    block = SelfAttention2d(8, reduction=4)
    with torch.no_grad():
        block.gamma.fill_(1.0)
    x = torch.randn(1, 8, 4, 4, requires_grad=True)
    block(x)[0, :, 0, 0].sum().backward()  # one output position
    assert (x.grad[0].abs().sum(dim=0) > 0).all()  # depends on every input position
