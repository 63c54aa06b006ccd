"""How a discriminator exposes f(x), and the Gaussian noise layer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_zoo.layers import GaussianNoise, feature_module, forward_with_features


def net_with_features() -> nn.Sequential:
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32, 1))
    net.feature_layer = "1"
    return net


def test_features_are_the_named_layers_output_flattened():
    net = net_with_features()
    x = torch.randn(3, 1, 4, 4)
    out, features = forward_with_features(net, feature_module(net), x)
    assert torch.equal(out, net(x))
    assert torch.equal(features, net[1](net[0](x)).flatten(1))
    assert features.shape == (3, 32)


def test_any_submodule_can_be_named():
    net = net_with_features()
    assert feature_module(net, "3") is net[3]


def test_unknown_or_missing_layers_list_the_valid_names():
    net = net_with_features()
    with pytest.raises(ValueError, match=r"'7' is not a submodule .* give one of: 0, 1, 2, 3"):
        feature_module(net, "7")
    with pytest.raises(ValueError, match="names no feature_layer"):
        feature_module(nn.Sequential(nn.Linear(2, 1)))


def test_the_hook_is_removed_after_the_pass():
    net = net_with_features()
    forward_with_features(net, feature_module(net), torch.randn(1, 1, 4, 4))
    assert not net[1]._forward_hooks


def test_gaussian_noise_in_training_only():
    noise = GaussianNoise(0.5)
    x = torch.zeros(20000)
    assert noise(x).std().item() == pytest.approx(0.5, rel=0.03)
    assert torch.equal(noise.eval()(x), x)
    with pytest.raises(ValueError):
        GaussianNoise(-1.0)
