"""Spectral normalization through torch's parametrization: σ(W) ≈ 1 for every normalized layer."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from gan_zoo.layers import apply_spectral_norm, raw_weight


def largest_singular_value(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.reshape(weight.shape[0], -1), ord=2).item()


def test_normalized_layers_have_unit_spectral_norm():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3), nn.Flatten(), nn.Linear(16 * 6 * 6, 10))
    embedding = nn.Embedding(10, 16)
    with torch.no_grad():  # make the raw weights far from norm 1
        for layer in (net[0], net[2], embedding):
            layer.weight.mul_(50.0)
    apply_spectral_norm(net)
    apply_spectral_norm(embedding)
    x = torch.randn(4, 3, 8, 8)
    for _ in range(20):  # one power iteration per training forward pass
        net(x)
        embedding(torch.arange(10))
    for layer in (net[0], net[2], embedding):
        assert parametrize.is_parametrized(layer, "weight")
        assert largest_singular_value(raw_weight(layer)) > 5.0
        assert abs(largest_singular_value(layer.weight) - 1.0) < 1e-3


def test_skip_leaves_a_subtree_alone_and_applying_twice_is_harmless():
    keep = nn.Embedding(5, 4)
    net = nn.ModuleDict({"keep": keep, "conv": nn.Conv2d(1, 2, 3), "block": nn.Sequential(nn.Linear(2, 2))})
    apply_spectral_norm(net, skip=[keep])
    apply_spectral_norm(net, skip=[keep])
    assert not parametrize.is_parametrized(keep)
    assert parametrize.is_parametrized(net["conv"], "weight")
    assert len(net["conv"].parametrizations.weight) == 1  # not normalized twice
    assert parametrize.is_parametrized(net["block"][0], "weight")
    assert raw_weight(keep) is keep.weight
