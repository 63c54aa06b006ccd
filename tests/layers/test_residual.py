"""The SNGAN/SAGAN/BigGAN residual blocks against a numpy implementation of the papers' layer order."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hand_computed import numpy_batch_norm
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from gan_zoo.layers import ConditionalBatchNorm2d, ResidualDownBlock, ResidualUpBlock


def array(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().numpy()


def conv(x: np.ndarray, layer: nn.Conv2d) -> np.ndarray:
    """Stride-1 convolution with zero padding k // 2: Σ_{c,u,v} x[n, c, i+u, j+v] w[o, c, u, v] + b[o]."""
    k = layer.kernel_size[0]
    padded = np.pad(x, ((0, 0), (0, 0), (k // 2, k // 2), (k // 2, k // 2)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # [N, C, H, W, k, k]
    return np.einsum("nchwuv,ocuv->nohw", windows, array(layer.weight)) + array(layer.bias)[:, None, None]


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def up(x: np.ndarray) -> np.ndarray:
    """Nearest-neighbour ×2: each pixel becomes a 2 × 2 square."""
    return x.repeat(2, axis=2).repeat(2, axis=3)


def pool(x: np.ndarray) -> np.ndarray:
    """2 × 2 average pooling."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def norm(x: np.ndarray, layer: nn.Module, condition: np.ndarray | None) -> np.ndarray:
    """Batch norm with its affine: per channel (plain) or 1 + W_γ c and W_β c (conditional)."""
    if condition is None:
        gain, bias = array(layer.weight)[None], array(layer.bias)[None]
    else:
        gain, bias = 1 + condition @ array(layer.gain.weight).T, condition @ array(layer.bias.weight).T
    return (
        numpy_batch_norm(x, layer.eps if condition is None else layer.norm.eps) * gain[:, :, None, None]
        + (bias[:, :, None, None])
    )


def randomize(block: nn.Module) -> nn.Module:
    """Non-trivial affine parameters everywhere, in float64."""
    torch.manual_seed(0)
    with torch.no_grad():
        for module in block.modules():
            if isinstance(module, nn.BatchNorm2d) and module.affine:
                module.weight.normal_(1.0, 0.5)
                module.bias.normal_()
            elif isinstance(module, ConditionalBatchNorm2d):
                module.gain.weight.normal_(0.0, 0.5)
                module.bias.weight.normal_()
    return block.double()


@pytest.mark.parametrize("conditional", [False, True])
def test_up_block_is_bn_relu_up_conv_bn_relu_conv_plus_up_conv1x1(conditional):
    # SNGAN Appendix B.4 / SAGAN / BigGAN Figure 15(b): h = conv₃(ReLU(BN(conv₃(up(ReLU(BN(x)))))));
    # y = h + conv₁(up(x))
    block = randomize(ResidualUpBlock(3, 2, condition_dim=4 if conditional else None))
    x = torch.randn(4, 3, 4, 4, dtype=torch.float64)
    c = torch.randn(4, 4, dtype=torch.float64) if conditional else None
    xn, cn = array(x), (array(c) if conditional else None)
    h = conv(up(relu(norm(xn, block.bn1, cn))), block.conv1)
    h = conv(relu(norm(h, block.bn2, cn)), block.conv2)
    expected = h + conv(up(xn), block.shortcut)
    out = block(x, c) if conditional else block(x)
    assert out.shape == (4, 2, 8, 8)
    np.testing.assert_allclose(array(out), expected, rtol=1e-9, atol=1e-9)


def test_down_block_is_relu_conv_relu_conv_pool_plus_conv1x1_pool():
    # SNGAN's D block: h = pool(conv₃(ReLU(conv₃(ReLU(x))))), y = h + pool(conv₁(x))
    block = ResidualDownBlock(2, 3).double()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    xn = array(x)
    expected = pool(conv(relu(conv(relu(xn), block.conv1)), block.conv2)) + pool(conv(xn, block.shortcut))
    np.testing.assert_allclose(array(block(x)), expected, rtol=1e-9, atol=1e-9)


def test_first_down_block_has_no_preactivation_and_pools_before_its_shortcut():
    # SNGAN's "optimized block" on the image: h = pool(conv₃(ReLU(conv₃(x)))), y = h + conv₁(pool(x))
    block = ResidualDownBlock(1, 3, preactivation=False).double()
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    xn = array(x)
    expected = pool(conv(relu(conv(xn, block.conv1)), block.conv2)) + conv(pool(xn), block.shortcut)
    out = block(x)
    assert out.shape == (2, 3, 2, 2)
    np.testing.assert_allclose(array(out), expected, rtol=1e-9, atol=1e-9)


def test_down_block_keeping_shape_and_width_has_an_identity_shortcut():
    block = ResidualDownBlock(3, 3, downsample=False).double()
    assert isinstance(block.shortcut, nn.Identity)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    xn = array(x)
    expected = conv(relu(conv(relu(xn), block.conv1)), block.conv2) + xn
    np.testing.assert_allclose(array(block(x)), expected, rtol=1e-9, atol=1e-9)
