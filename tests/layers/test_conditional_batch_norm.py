"""ConditionalBatchNorm2d: y = x̂ · (1 + W_γ c) + W_β c, by hand and against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hand_computed import numpy_batch_norm
from torch import nn

from gan_zoo.layers import ConditionalBatchNorm2d, init_weights_


def test_one_hot_condition_picks_each_class_gain_and_bias():
    cbn = ConditionalBatchNorm2d(1, condition_dim=2, eps=1e-12)
    with torch.no_grad():
        cbn.gain.weight.copy_(torch.tensor([[0.5, 2.0]]))  # γ_class − 1
        cbn.bias.weight.copy_(torch.tensor([[10.0, 20.0]]))  # β_class
    x = torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)  # batch mean 2, variance 1 → x̂ = (−1, 1) (ε negligible)
    classes = F.one_hot(torch.tensor([0, 1]), 2).float()
    y = cbn(x, classes).flatten().tolist()
    assert y == pytest.approx([-1.0 * 1.5 + 10.0, 1.0 * 3.0 + 20.0])


def test_a_dense_condition_is_projected_to_the_gain_and_bias_by_hand():
    # W_γ = (0.5, −1), W_β = (2, 3); x = (1, 3) → x̂ = (−1, 1).
    # c = (1, 1): γ = 1 + 0.5 − 1 = 0.5, β = 5 → −0.5 + 5 = 4.5
    # c = (2, 0): γ = 1 + 1 = 2, β = 4 → 2 + 4 = 6
    cbn = ConditionalBatchNorm2d(1, condition_dim=2, eps=1e-12)
    with torch.no_grad():
        cbn.gain.weight.copy_(torch.tensor([[0.5, -1.0]]))
        cbn.bias.weight.copy_(torch.tensor([[2.0, 3.0]]))
    x = torch.tensor([1.0, 3.0]).view(2, 1, 1, 1)
    condition = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    assert cbn(x, condition).flatten().tolist() == pytest.approx([4.5, 6.0])


def test_affine_parameters_are_linear_in_the_condition_against_numpy():
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, condition_dim=4)
    with torch.no_grad():
        cbn.gain.weight.normal_()
        cbn.bias.weight.normal_()
    x, condition = torch.randn(6, 3, 2, 2), torch.randn(6, 4)
    w_gain, w_bias = cbn.gain.weight.detach().double().numpy(), cbn.bias.weight.detach().double().numpy()
    c = condition.double().numpy()
    gain, bias = 1 + c @ w_gain.T, c @ w_bias.T  # [6, 3]
    expected = (
        numpy_batch_norm(x.double().numpy(), cbn.norm.eps) * gain[:, :, None, None] + bias[:, :, None, None]
    )
    np.testing.assert_allclose(cbn(x, condition).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_a_new_layer_is_plain_batch_norm_whatever_the_condition():
    # γ = 1 and β = 0 for every class at the start, as SAGAN's code initializes its tables
    torch.manual_seed(0)
    cbn = ConditionalBatchNorm2d(3, condition_dim=5)
    assert not cbn.gain.weight.any() and not cbn.bias.weight.any()
    x, condition = torch.randn(4, 3, 2, 2) * 3 + 1, F.one_hot(torch.tensor([0, 4, 2, 4]), 5).float()
    expected = numpy_batch_norm(x.double().numpy(), cbn.norm.eps)
    np.testing.assert_allclose(cbn(x, condition).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("scheme", ["xavier", "ortho", "N02"])
def test_weight_init_leaves_the_conditional_tables_alone_unless_asked(scheme):
    network = nn.ModuleDict({"conv": nn.Conv2d(3, 3, 1), "cbn": ConditionalBatchNorm2d(3, condition_dim=5)})
    with torch.no_grad():
        network["conv"].weight.zero_()
    init_weights_(network, scheme)
    assert network["conv"].weight.any()  # re-initialized
    assert not network["cbn"].gain.weight.any() and not network["cbn"].bias.weight.any()
    init_weights_(network, scheme, conditional_norms=True)  # BigGAN: the projections like any linear layer
    assert network["cbn"].gain.weight.any() and network["cbn"].bias.weight.any()
