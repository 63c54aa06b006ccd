"""LSGAN — Mao et al. 2017, "Least Squares Generative Adversarial Networks" (ICCV).

D is trained as a regressor onto codes instead of a classifier:

    min_D ½ E_x[(D(x) − b)²] + ½ E_z[(D(G(z)) − a)²]
    min_G ½ E_z[(D(G(z)) − c)²]                                                   (Eq. 2)

with a the code of fake data, b of real data and c the value G wants D to believe. Two codings are
studied (§3.2.3): a = −1, b = 1, c = 0 makes G minimize the Pearson χ² divergence (b − c = 1 and
b − a = 2, Eq. 8); the 0-1 coding a = 0, b = c = 1 (Eq. 9) is what the experiments use. The objective
is :class:`~gan_zoo.losses.LeastSquares`, so any model can be an LSGAN from YAML
(``loss: {class_path: gan_zoo.losses.LeastSquares, init_args: {a: -1, b: 1, c: 0}}``); this file adds
the paper's own networks for LSUN-size scenes (Figure 3, 112×112):

    G: z ∈ R^1024 → fc 7×7×256, BN, ReLU
       → 3×3 deconv 256 /2 → 3×3 deconv 256 /1 → 3×3 deconv 256 /2 → 3×3 deconv 256 /1
       → 3×3 deconv 128 /2 → 3×3 deconv 64 /2  (each BN, ReLU)  → 3×3 deconv 3 /1 → tanh
    D: 5×5 conv 64 /2, LReLU → 5×5 conv 128 /2 → 5×5 conv 256 /2 → 5×5 conv 512 /2 (each BN, LReLU)
       → fc 1 → least squares loss

"/2" is stride 2. The networks scale to any square side divisible by 16 (G starts at side/16: 7 for
112, 2 for 32, 1 for 16); widths are multiples of ``g_width`` / ``d_width`` (64 in the paper). At 16×16
G starts from a single pixel, and it collapsed in our CPU runs on digits; 32×32 trains
(``experiments/lsgan/digits.yaml``).
Training (the authors' ``train_lsun.py``): Adam with learning rate 0.001 and β1 = 0.5, batch 64,
z ~ U(−1, 1)^1024; both updates are fed the same z batch (their DCGAN-TensorFlow loop), so G's update
reuses D's fake batch (``g_latents: reuse``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, optimizer
from gan_zoo.layers import init_normal_
from gan_zoo.models.registry import MODELS


def lsgan_base_size(image_shape: tuple[int, int, int]) -> int:
    """Side of G's first feature map (side / 16); raises a clear error for other shapes."""
    channels, height, width = image_shape
    if channels < 1 or height != width or height % 16:
        raise ValueError(
            f"LSGAN's networks need square images whose side is a multiple of 16 (112 in the paper); "
            f"got image_shape={tuple(image_shape)}. Set data.image_size to 16, 32, 64, 112, ..."
        )
    return height // 16


def _deconv(in_channels: int, out_channels: int, stride: int) -> list[nn.Module]:
    # 3×3, "same" padding: stride 2 doubles the side (output_padding 1), stride 1 keeps it
    conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride, 1, output_padding=stride - 1, bias=False)
    return [conv, nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)]


class LSGANGenerator(nn.Module):
    """z [N, latent_dim] → images [N, C, H, W] in [-1, 1] (Figure 3a)."""

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], width: int = 64) -> None:
        super().__init__()
        self.base = lsgan_base_size(image_shape)
        wide = 4 * width  # 256
        self.project = nn.Linear(latent_dim, wide * self.base**2)  # fc, 7×7×256
        self.net = nn.Sequential(
            nn.BatchNorm2d(wide),
            nn.ReLU(inplace=True),
            *_deconv(wide, wide, 2),
            *_deconv(wide, wide, 1),
            *_deconv(wide, wide, 2),
            *_deconv(wide, wide, 1),
            *_deconv(wide, 2 * width, 2),
            *_deconv(2 * width, width, 2),
            nn.ConvTranspose2d(width, image_shape[0], 3, 1, 1),
            nn.Tanh(),
        )
        self.apply(init_normal_)

    def forward(self, z: Tensor) -> Tensor:
        h = self.project(z).view(z.shape[0], -1, self.base, self.base)
        return self.net(h)


class LSGANDiscriminator(nn.Module):
    """images [N, C, H, W] → D(x) [N, 1] (Figure 3b); ``feature_layer`` is the last conv block."""

    def __init__(self, image_shape: tuple[int, int, int], width: int = 64) -> None:
        super().__init__()
        base = lsgan_base_size(image_shape)
        layers: list[nn.Module] = [nn.Conv2d(image_shape[0], width, 5, 2, 2), nn.LeakyReLU(0.2, inplace=True)]
        channels = width
        for _ in range(3):  # 128, 256, 512
            layers += [
                nn.Conv2d(channels, 2 * channels, 5, 2, 2, bias=False),
                nn.BatchNorm2d(2 * channels),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels *= 2
        self.feature_layer = f"net.{len(layers) - 1}"
        layers += [nn.Flatten(), nn.Linear(channels * base**2, 1)]  # fc, 1: no sigmoid, D regresses codes
        self.net = nn.Sequential(*layers)
        self.apply(init_normal_)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@MODELS.register()
class LSGAN(AdversarialModule):
    """Least-squares GAN with the paper's networks for scene images.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the
    defaults are the paper's (the 0-1 coding a = 0, b = c = 1 of Eq. 9, Adam(1e-3, β = (0.5, 0.999)),
    z ~ U(−1, 1)^1024).

    Args:
        g_width: the narrowest generator layer (64); the others are 2× and 4× it.
        d_width: D's first layer (64); doubling to 8× it.
    """

    defaults = {
        "image_shape": (3, 112, 112),
        "latent_dim": 1024,
        "latent_prior": "uniform",
        "loss": "least_squares",
        "g_latents": "reuse",
        "g_optimizer": optimizer(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999)),
        "d_optimizer": optimizer(torch.optim.Adam, lr=1e-3, betas=(0.5, 0.999)),
    }

    def __init__(self, g_width: int = 64, d_width: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def build_generator(self) -> nn.Module:
        return LSGANGenerator(self.latent_dim, self.image_shape, self.hparams.g_width)

    def build_discriminator(self) -> nn.Module:
        return LSGANDiscriminator(self.image_shape, self.hparams.d_width)
