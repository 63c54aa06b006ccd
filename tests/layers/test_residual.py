"""The SNGAN/SAGAN/BigGAN residual blocks: shapes and shortcuts."""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.layers import ConditionalBatchNorm2d, ResidualDownBlock, ResidualUpBlock


def test_up_block_doubles_the_resolution_plain_or_conditional():
    x = torch.randn(2, 8, 4, 4)
    assert ResidualUpBlock(8, 4)(x).shape == (2, 4, 8, 8)
    block = ResidualUpBlock(8, 4, condition_dim=5)
    assert isinstance(block.bn1, ConditionalBatchNorm2d)
    assert block(x, torch.randn(2, 5)).shape == (2, 4, 8, 8)


def test_down_block_halves_the_resolution_and_keeps_an_identity_shortcut_when_it_can():
    x = torch.randn(2, 3, 8, 8)
    assert ResidualDownBlock(3, 6, preactivation=False)(x).shape == (2, 6, 4, 4)
    same = ResidualDownBlock(6, 6, downsample=False)
    assert isinstance(same.shortcut, nn.Identity)
    with torch.no_grad():
        same.conv2.weight.zero_()
        same.conv2.bias.zero_()
    h = torch.randn(2, 6, 4, 4)
    assert torch.equal(same(h), h)  # residual branch silenced → the block is its shortcut
