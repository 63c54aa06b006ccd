"""DCGAN — Radford, Metz & Chintala 2016, "Unsupervised Representation Learning with Deep Convolutional
Generative Adversarial Networks" (ICLR).

The architecture guidelines of §3, each visible below:

* no pooling: strided convolutions in D, fractional-strided (transposed) convolutions in G;
* no fully connected hidden layers: z is "projected and reshaped" to 4×4 (a 4×4 transposed conv of a
  1×1 map is exactly that projection) and D's last 4×4 conv gives the logit;
* batch norm in both, except G's output layer and D's input layer;
* ReLU in G with tanh at the output; LeakyReLU(0.2) in D;
* weights ~ N(0, 0.02) (§4); Adam, learning rate 2e-4, β1 = 0.5 (§4);
* z ~ U[−1, 1]^100 (the authors' dcgan.torch: ``noise:uniform(-1, 1)``); as there, G's update trains on
  the fake batch D's update just saw, without generating it again (``g_latents: reuse``).

Resolution: any power of two ≥ 16. Each stage doubles the size, so a 2^k image has k − 2 stages, and
channel widths halve from G's 4×4 map down to ``g_width`` (Figure 1: 4×4×1024 → … → 64×64×3 with
``g_width=128``). MNIST-family images (28×28) are resized to 32×32 by the data module
(``data.image_size: 32``) rather than padded: the digits then fill the frame as in the originals.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, optimizer
from gan_zoo.layers import MinibatchDiscrimination, VirtualBatchNorm, init_normal_, reference_batch
from gan_zoo.models.registry import MODELS

#: §4: Adam, learning rate 2e-4, β1 = 0.5.
DCGAN_ADAM = optimizer(torch.optim.Adam, lr=2e-4, betas=(0.5, 0.999))


def dcgan_stages(image_shape: tuple[int, int, int], min_size: int = 16) -> int:
    """Number of ×2 stages between 4×4 and the image; raises a clear error for impossible shapes."""
    channels, height, width = image_shape
    if channels < 1 or height != width or height < min_size or height & (height - 1):
        raise ValueError(
            f"DCGAN needs square images whose side is a power of two >= {min_size} and >= 1 channel; "
            f"got image_shape={tuple(image_shape)}. Set data.image_size to 16, 32, 64, 128, ..."
        )
    return int(math.log2(height)) - 2


GeneratorNorm = Literal["batch", "virtual"]
DiscriminatorNorm = Literal["batch", "layer", "none"]


def _generator_norm(kind: GeneratorNorm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "virtual":  # Salimans et al. 2016, §3.5
        return VirtualBatchNorm(channels)
    raise ValueError(f"unknown generator norm {kind!r}; choose 'batch' or 'virtual'")


def _discriminator_norm(kind: DiscriminatorNorm, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":  # over (C, H, W) of each sample, per-channel affine: Gulrajani et al. 2017, §4
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown discriminator norm {kind!r}; choose 'batch', 'layer' or 'none'")


class DCGANGenerator(nn.Module):
    """z [N, latent_dim] → images [N, C, H, W] in [-1, 1].

    Args:
        norm: ``"batch"`` (the paper) or ``"virtual"``: virtual batch norm against a reference batch
            of ``reference_size`` latents drawn once at construction (Salimans et al. 2016, §3.5).
    """

    def __init__(
        self,
        latent_dim: int,
        image_shape: tuple[int, int, int],
        width: int = 64,
        norm: GeneratorNorm = "batch",
        reference_size: int = 64,
    ) -> None:
        super().__init__()
        stages = dcgan_stages(image_shape)
        channels = width * 2 ** (stages - 1)
        layers: list[nn.Module] = [  # project and reshape: [N, latent, 1, 1] → [N, channels, 4, 4]
            nn.ConvTranspose2d(latent_dim, channels, 4, 1, 0, bias=False),
            _generator_norm(norm, channels),
            nn.ReLU(inplace=True),
        ]
        for _ in range(stages - 1):  # each fractional-strided conv doubles H and W, halves channels
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                _generator_norm(norm, channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        layers += [nn.ConvTranspose2d(channels, image_shape[0], 4, 2, 1), nn.Tanh()]  # no BN at the output
        self.net = nn.Sequential(*layers)
        self.apply(init_normal_)
        reference = None
        if norm == "virtual":  # the reference batch, "chosen once and fixed at the start of training"
            reference = torch.randn(reference_size, latent_dim, generator=torch.Generator().manual_seed(1))
        self.register_buffer("reference_z", reference)

    def forward(self, z: Tensor) -> Tensor:
        z = z.view(z.shape[0], -1, 1, 1)
        if self.reference_z is None:
            return self.net(z)
        with reference_batch(self.net, self.reference_z.view(*self.reference_z.shape, 1, 1)):
            return self.net(z)


class DCGANDiscriminator(nn.Module):
    """images [N, C, H, W] → logits [N, 1, 1, 1] (``[N, 1]`` with minibatch discrimination); mirror
    image of the generator.

    ``feature_layer`` names the last hidden layer (the 4×4 feature maps) for feature matching.

    Args:
        norm: ``"batch"`` (the paper), ``"layer"`` or ``"none"``: a critic trained with a gradient
            penalty must not use batch norm, which couples the samples of a batch (Gulrajani et al.
            2017, §4).
        minibatch_kernels: B > 0 adds minibatch discrimination (Salimans et al. 2016, §3.2) on the
            flattened 4×4 features, followed by a linear logit; 0 keeps the paper's 4×4 conv logit.
        minibatch_kernel_dim: C of the minibatch discrimination tensor.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        width: int = 64,
        norm: DiscriminatorNorm = "batch",
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
    ) -> None:
        super().__init__()
        stages = dcgan_stages(image_shape)
        layers: list[nn.Module] = [  # no BN on the input layer
            nn.Conv2d(image_shape[0], width, 4, 2, 1),
            nn.LeakyReLU(0.2, inplace=True),
        ]
        channels = width
        for _ in range(stages - 1):  # strided convs halve H and W, double channels
            layers += [
                nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=norm == "none"),
                _discriminator_norm(norm, channels * 2),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            channels *= 2
        self.feature_layer = f"net.{len(layers) - 1}"
        if minibatch_kernels:
            discrimination = MinibatchDiscrimination(channels * 16, minibatch_kernels, minibatch_kernel_dim)
            layers += [nn.Flatten(), discrimination, nn.Linear(discrimination.out_features, 1)]
        else:
            layers.append(nn.Conv2d(channels, 1, 4, 1, 0))  # 4×4 → 1×1 logit
        self.net = nn.Sequential(*layers)
        self.apply(init_normal_)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@MODELS.register()
class DCGAN(AdversarialModule):
    """Deep convolutional GAN.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`.

    Args:
        g_width: channels of G's last hidden layer; doubles towards the 4×4 input (128 in Figure 1).
        d_width: channels of D's first layer; doubles towards the 4×4 output.
        g_norm: ``"batch"`` (the paper) or ``"virtual"`` batch norm in G (Salimans et al. 2016, §3.5).
        d_norm: ``"batch"`` (the paper), ``"layer"`` or ``"none"`` in D (a WGAN-GP critic: no batch norm).
        d_minibatch_kernels: B > 0 adds minibatch discrimination with B kernels of dimension 5 before
            D's output (Salimans et al. 2016, §3.2; B = 100 in their code).
    """

    defaults = {
        "latent_prior": "uniform",
        "g_latents": "reuse",
        "g_optimizer": DCGAN_ADAM,
        "d_optimizer": DCGAN_ADAM,
    }

    def __init__(
        self,
        g_width: int = 64,
        d_width: int = 64,
        g_norm: GeneratorNorm = "batch",
        d_norm: DiscriminatorNorm = "batch",
        d_minibatch_kernels: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)

    def build_generator(self) -> nn.Module:
        h = self.hparams
        return DCGANGenerator(self.latent_dim, self.image_shape, h.g_width, h.g_norm)

    def build_discriminator(self) -> nn.Module:
        h = self.hparams
        return DCGANDiscriminator(self.image_shape, h.d_width, h.d_norm, h.d_minibatch_kernels)
