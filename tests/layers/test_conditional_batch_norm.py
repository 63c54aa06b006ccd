"""ConditionalBatchNorm2d: per-class affine parameters, by hand."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.layers import ConditionalBatchNorm2d


def test_one_hot_condition_picks_each_class_gain_and_bias():
    cbn = ConditionalBatchNorm2d(1, condition_dim=2, eps=1e-12)
    with torch.no_grad():
        cbn.gain.weight.copy_(torch.tensor([[0.5, 2.0]]))  # γ_class − 1
        cbn.bias.weight.copy_(torch.tensor([[10.0, 20.0]]))  # β_class
    x = torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)  # batch mean 2, variance 1 → x̂ = (−1, 1) (ε negligible)
    classes = F.one_hot(torch.tensor([0, 1]), 2).float()
    y = cbn(x, classes).flatten().tolist()
    assert y == pytest.approx([-1.0 * 1.5 + 10.0, 1.0 * 3.0 + 20.0])


def test_affine_parameters_are_linear_in_the_condition_and_zero_gives_plain_batch_norm():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, condition_dim=4)
    x, condition = torch.randn(6, 3, 2, 2), torch.randn(6, 4)
    normalized = F.batch_norm(x, None, None, training=True, eps=cbn.norm.eps)
    gain = 1 + condition @ cbn.gain.weight.T  # [6, 3]
    bias = condition @ cbn.bias.weight.T
    expected = normalized * gain[:, :, None, None] + bias[:, :, None, None]
    assert torch.allclose(cbn(x, condition), expected, atol=1e-6)
    with torch.no_grad():
        cbn.gain.weight.zero_()
        cbn.bias.weight.zero_()
    assert torch.allclose(cbn(x, condition), normalized, atol=1e-6)
