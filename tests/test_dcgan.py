"""DCGAN's architecture guidelines (Radford et al. 2016 §3) and shape handling."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_zoo.models import DCGAN
from gan_zoo.models.dcgan import DCGANDiscriminator, DCGANGenerator


@pytest.mark.parametrize("size", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_any_power_of_two_resolution(size, channels):
    g = DCGANGenerator(10, (channels, size, size), width=4)
    d = DCGANDiscriminator((channels, size, size), width=4)
    x = g(torch.randn(2, 10))
    assert x.shape == (2, channels, size, size)
    assert d(x).shape == (2, 1, 1, 1)


def test_paper_figure_1_widths():
    # 4×4×1024 → 8×8×512 → 16×16×256 → 32×32×128 → 64×64×3 with g_width = 128
    g = DCGANGenerator(100, (3, 64, 64), width=128)
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [1024, 512, 256, 128, 3]


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 8, 8), (3, 32, 64), (0, 32, 32), (1, 48, 48)])
def test_impossible_shapes_fail_at_construction(shape):
    with pytest.raises(ValueError, match="power of two"):
        DCGAN(image_shape=shape)


def test_guidelines_no_pooling_no_hidden_fc_bn_placement():
    model = DCGAN(image_shape=(3, 32, 32), g_width=8, d_width=8)
    for net in (model.generator, model.discriminator):
        assert not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d, nn.Linear)) for m in net.modules())
    g_layers, d_layers = list(model.generator.net), list(model.discriminator.net)
    assert isinstance(g_layers[-1], nn.Tanh) and isinstance(
        g_layers[-2], nn.ConvTranspose2d
    )  # no BN at output
    assert isinstance(d_layers[1], nn.LeakyReLU) and d_layers[1].negative_slope == 0.2  # no BN at input
    assert any(isinstance(m, nn.ReLU) for m in g_layers)


def test_weights_are_normal_with_std_002():
    g = DCGANGenerator(100, (3, 64, 64), width=64)
    weights = torch.cat([m.weight.flatten() for m in g.modules() if isinstance(m, nn.ConvTranspose2d)])
    assert weights.mean().abs() < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)


def test_default_optimizer_is_the_papers_adam():
    model = DCGAN(image_shape=(1, 16, 16), g_width=4, d_width=4)
    g_opt, d_opt = model.configure_optimizers()[0]
    for opt in (g_opt, d_opt):
        assert isinstance(opt, torch.optim.Adam)
        assert opt.defaults["lr"] == 2e-4 and opt.defaults["betas"] == (0.5, 0.999)
