"""SAGAN — Zhang, Goodfellow, Metaxas & Odena 2019, "Self-Attention Generative Adversarial Networks"
(ICML).

Convolutions only relate pixels within a local neighbourhood. SAGAN inserts a self-attention block
(§3, :class:`~gan_zoo.layers.SelfAttention2d`) so that G can coordinate details across the whole
image and D can check that distant parts agree. The rest of the recipe:

* residual G and D — the SNGAN ResNet (Miyato et al. 2018), :mod:`gan_zoo.layers.residual`;
* self-attention on the 32×32 feature maps of both networks ("feat32", the best row of Table 1; the
  authors' code puts it after G's 32×32 block and after D's 64 → 32 block);
* spectral normalization in G *and* D (§4.1);
* the hinge loss (§5, Eq. 5):
      L_D = E[max(0, 1 − D(x, y))] + E[max(0, 1 + D(G(z), y))],   L_G = −E[D(G(z), y)];
* TTUR, separate learning rates: Adam(lr_D = 4·10⁻⁴, lr_G = 10⁻⁴, β₁ = 0, β₂ = 0.9) (§4.2, §5);
* class-conditional (ImageNet, §5): conditional batch norm in G and a projection discriminator
  (Miyato & Koyama 2018), D(x, y) = ψ(φ(x)) + embed(y)ᵀ φ(x). Here ``conditional: true``; the default is
  unconditional.

Widths: G's feature maps have 1·ch channels at the image resolution, twice as many at every halving,
at most 16·ch (the authors' 128×128 network: 16, 16, 8, 4, 2, 1 × ch from 4×4 to 128×128, ch = 64);
D mirrors G. The same rule serves every square power-of-two image of ≥ 8 px (CIFAR-10 at ch = 64:
512, 256, 128, 64 channels; BigGAN's code uses 4·ch throughout at 32 px).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, optimizer
from gan_zoo.layers import (
    ConditionalBatchNorm2d,
    ResidualDownBlock,
    ResidualUpBlock,
    SelfAttention2d,
    apply_spectral_norm,
    init_weights_,
)
from gan_zoo.models.registry import MODELS


def feature_sizes(image_shape: Sequence[int]) -> list[int]:
    """4, 8, …, H: the sides of G's feature maps; raises a clear error for impossible shapes."""
    channels, height, width = image_shape
    if channels < 1 or height != width or height < 8 or height & (height - 1):
        raise ValueError(
            "the residual SAGAN/BigGAN networks need square images whose side is a power of two >= 8; "
            f"got image_shape={tuple(image_shape)}. Set data.image_size to 16, 32, 64, 128, ..."
        )
    return [4 * 2**i for i in range(int(math.log2(height)) - 1)]


def resnet_widths(image_size: int, width: int) -> dict[int, int]:
    """Channels of G's feature map at each size (D's map at size s has G's width at 2s)."""
    return {size: width * min(16, image_size // size) for size in feature_sizes((1, image_size, image_size))}


def attention_sizes(image_shape: Sequence[int], requested: Iterable[int]) -> tuple[int, ...]:
    """Check that every requested size is one of the maps both G (8 … H) and D (H/2 … 4) have."""
    height = image_shape[1]
    valid = [size for size in feature_sizes(image_shape) if 8 <= size <= height // 2]
    sizes = tuple(requested)
    invalid = [size for size in sizes if size not in valid]
    if invalid:
        raise ValueError(
            f"self-attention at {invalid} is impossible for {height}×{height} images; "
            f"both networks have feature maps of sizes {valid}"
        )
    return sizes


class ResidualGenerator(nn.Module):
    """The generator trunk of SAGAN and BigGAN:

        z₀ → linear → 4×4 map → [up-block(·, cᵢ) → self-attention at the chosen sizes]… → BN → ReLU →
        conv₃ → tanh

    Each up-block gets its own condition vector cᵢ (or ``None`` for plain batch norm).

    Shapes: z₀ ``[N, in_features]``, cᵢ ``[N, condition_dims[i]]`` → ``[N, C, H, W]``.
    """

    def __init__(
        self,
        in_features: int,
        out_channels: int,
        widths: dict[int, int],
        condition_dims: Sequence[int | None],
        attention: Sequence[int] = (),
        bn_eps: float = 1e-5,
    ) -> None:
        super().__init__()
        sizes = sorted(widths)
        self.linear = nn.Linear(in_features, widths[4] * 4 * 4)
        self.blocks = nn.ModuleList(
            ResidualUpBlock(widths[a], widths[b], condition_dim, bn_eps)
            for (a, b), condition_dim in zip(pairwise(sizes), condition_dims, strict=True)
        )
        self.attention = nn.ModuleDict({str(size): SelfAttention2d(widths[size]) for size in attention})
        self.head = nn.Sequential(
            nn.BatchNorm2d(widths[sizes[-1]], eps=bn_eps),
            nn.ReLU(),
            nn.Conv2d(widths[sizes[-1]], out_channels, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, conditions: Sequence[Tensor | None]) -> Tensor:
        h = self.linear(z).view(z.shape[0], -1, 4, 4)
        for block, condition in zip(self.blocks, conditions, strict=True):
            h = block(h, condition)
            if str(h.shape[-1]) in self.attention:
                h = self.attention[str(h.shape[-1])](h)
        return self.head(h)


class SAGANGenerator(nn.Module):
    """z [N, latent_dim] (and labels y [N] when ``num_classes``) → images [N, C, H, W] in [-1, 1].

    Conditional: every batch norm is a :class:`~gan_zoo.layers.ConditionalBatchNorm2d` of one-hot(y),
    i.e. each layer has its own per-class gains and biases, as in the authors' code. Spectral norm on
    every convolution and linear layer (§4.1), not on those class tables.
    """

    def __init__(
        self,
        latent_dim: int,
        image_shape: tuple[int, int, int],
        width: int = 64,
        attention: Sequence[int] = (32,),
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        widths = resnet_widths(image_shape[1], width)
        self.num_classes = num_classes
        conditions = [num_classes] * (len(widths) - 1)
        self.trunk = ResidualGenerator(latent_dim, image_shape[0], widths, conditions, attention)
        init_weights_(self, "xavier")  # the authors' code: Glorot-uniform
        class_tables = [m for m in self.modules() if isinstance(m, ConditionalBatchNorm2d)]
        apply_spectral_norm(self, skip=class_tables)

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        condition = F.one_hot(y, self.num_classes).to(z.dtype) if self.num_classes else None
        return self.trunk(z, [condition] * len(self.trunk.blocks))


class SAGANDiscriminator(nn.Module):
    """images [N, C, H, W] (and labels y [N] when ``num_classes``) → logits [N].

    φ: a first residual block without pre-activation, residual blocks halving the resolution down to
    4×4, one more block at 4×4, ReLU and a sum over positions. ψ: a linear layer. With classes, the
    projection term embed(y)ᵀ φ(x) is added. Spectral norm everywhere, the class embedding included.

    Args:
        init: weight initialization before spectral norm (``"xavier"``, SAGAN's code; ``"ortho"``,
            BigGAN).
        sn_eps: ε of the spectral-norm power iteration.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        width: int = 64,
        attention: Sequence[int] = (32,),
        num_classes: int | None = None,
        init: str = "xavier",
        sn_eps: float = 1e-12,
    ) -> None:
        super().__init__()
        height = image_shape[1]
        g_widths = resnet_widths(height, width)
        widths = {size // 2: channels for size, channels in g_widths.items() if size > 4}  # D's maps
        sizes = sorted(widths, reverse=True)  # H/2, …, 4
        blocks: list[nn.Module] = [ResidualDownBlock(image_shape[0], widths[sizes[0]], preactivation=False)]
        blocks += [ResidualDownBlock(widths[a], widths[b]) for a, b in pairwise(sizes)]
        self.blocks = nn.ModuleList(blocks)
        self.attention = nn.ModuleDict({str(size): SelfAttention2d(widths[size]) for size in attention})
        self.last_block = ResidualDownBlock(widths[4], widths[4], downsample=False)
        self.linear = nn.Linear(widths[4], 1)
        self.embed = nn.Embedding(num_classes, widths[4]) if num_classes else None
        init_weights_(self, init)
        apply_spectral_norm(self, eps=sn_eps)

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        h = x
        for block in self.blocks:
            h = block(h)
            if str(h.shape[-1]) in self.attention:
                h = self.attention[str(h.shape[-1])](h)
        phi = F.relu(self.last_block(h)).sum(dim=(2, 3))  # φ(x): [N, C]
        logits = self.linear(phi).squeeze(1)  # ψ(φ(x))
        if self.embed is not None:
            logits = logits + (self.embed(y) * phi).sum(dim=1)  # projection: embed(y)ᵀ φ(x)
        return logits


@MODELS.register()
class SAGAN(AdversarialModule):
    """Self-attention GAN.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`. The
    defaults are the paper's: the hinge loss, TTUR Adam(G 10⁻⁴, D 4·10⁻⁴, β = (0, 0.9)), z ∈ R^128
    ~ N(0, I) drawn afresh for each G update (the authors' code).

    Args:
        conditional: class-conditional G (conditional batch norm) and projection D; needs labelled
            data.
        g_width: ch of G (64 in the authors' code).
        d_width: ch of D (64 in the authors' code).
        attention_resolutions: sizes of the feature maps that get a self-attention block, in both
            networks; ``None`` means 32×32 (§5, "feat32"), or H/2 for images smaller than 64 px (none
            at 8 px).
    """

    defaults = {
        "image_shape": (3, 128, 128),
        "latent_dim": 128,
        "loss": "hinge",
        # TTUR (§4.2, §5): Adam, lr 10⁻⁴ for G and 4·10⁻⁴ for D, β₁ = 0, β₂ = 0.9
        "g_optimizer": optimizer(torch.optim.Adam, lr=1e-4, betas=(0.0, 0.9)),
        "d_optimizer": optimizer(torch.optim.Adam, lr=4e-4, betas=(0.0, 0.9)),
    }

    def __init__(
        self,
        conditional: bool = False,
        g_width: int = 64,
        d_width: int = 64,
        attention_resolutions: tuple[int, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)

    def attention(self) -> tuple[int, ...]:
        """The feature-map sizes with self-attention (``attention_resolutions`` or the paper's choice)."""
        sizes = self.hparams.attention_resolutions
        if sizes is None:
            sizes = (min(32, self.image_shape[1] // 2),) if self.image_shape[1] >= 16 else ()
        return attention_sizes(self.image_shape, sizes)

    def build_generator(self) -> nn.Module:
        classes = self.num_classes if self.conditional else None
        return SAGANGenerator(
            self.latent_dim, self.image_shape, self.hparams.g_width, self.attention(), classes
        )

    def build_discriminator(self) -> nn.Module:
        classes = self.num_classes if self.conditional else None
        return SAGANDiscriminator(self.image_shape, self.hparams.d_width, self.attention(), classes)
