"""ProGAN — Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for Improved Quality,
Stability, and Variation" (ICLR).

G and D start at 4×4 and grow together, one doubling at a time (§3, Figure 1). A new stage is faded
in smoothly (Figure 2): while α rises from 0 to 1 over ``phase_images`` real images,

    G:  x = (1 − α) · up(toRGB_{r/2}(h_{r/2})) + α · toRGB_r(block_r(h_{r/2}))
    D:  h = (1 − α) · fromRGB_{r/2}(pool(x)) + α · block_r(fromRGB_r(x))

(``up`` nearest-neighbour, ``pool`` 2×2 average), then the stage is stabilized for as many images.
At α = 0 the new stage computes exactly what the previous one did. The real images follow the same
path: they are average-pooled to the current resolution and, during a fade-in, blended with their
half-resolution version the same way (§3 and the authors' ``process_reals``).

Other ingredients, each a layer in :mod:`gan_zoo.layers`:

* equalized learning rate (§4.1): N(0, 1) weights scaled by He's constant at run time;
* pixelwise feature normalization after every 3×3 convolution of G, and on z (§4.2);
* minibatch standard deviation as an extra feature map before D's last block (§3);
* WGAN-GP (λ = 10, n_critic = 1) plus the drift term ε_drift · E[D(x)²], ε_drift = 0.001 (§A.1);
* Adam(α = 0.001, β₁ = 0, β₂ = 0.99, ε = 10⁻⁸), latent 512, leaky ReLU 0.2, an exponential moving
  average of G with decay 0.999, minibatch 16 up to 128² then 14/6/3 (Appendix A.1);
* widths as in Table 2: min(8192 / (r/2), 512) channels at resolution r (``fmap_base`` /
  ``fmap_max`` of the authors' code).

**Sizes.** As in the authors' code, both networks take and give images at the final resolution:
G's output at the current resolution r is nearest-upsampled to H×H and D average-pools its input
down to r, so sample grids, metrics and the gradient penalty see one shape throughout training (the
penalty is thus taken with respect to the full-size images, as there).
Real batches arrive at full resolution from any data module — the dataset is never reloaded — and
are pooled (and faded) on the device. The batch size per resolution is met by taking the first
``batch_sizes[r]`` images of each loader batch, so ``data.batch_size`` must be at least the largest
of them.

**Training state.** The number of real images shown so far determines (resolution, α) through
:class:`~gan_zoo.core.GrowthSchedule`; it is saved in checkpoints with the resolution and α, and a
resumed run continues at the same stage and α. The optimizers' moments are reset whenever a phase
begins (``reset_opt_for_new_lod`` in the authors' code).
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, GrowthSchedule, GrowthState, optimizer
from gan_zoo.core.growth import PAPER_BATCH_SIZES
from gan_zoo.layers import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm
from gan_zoo.models.registry import MODELS


def progan_channels(resolution: int, fmap_base: int = 8192, fmap_max: int = 512) -> int:
    """Feature maps at ``resolution``: ``nf(log2(r) − 1) = min(fmap_base / 2^(log2(r) − 1), fmap_max)``."""
    return min(fmap_base // (resolution // 2), fmap_max)


def upsample(x: Tensor, size: int) -> Tensor:
    """Nearest-neighbour upsampling of a square batch to ``size``×``size`` (the paper's ``up``)."""
    return x if x.shape[-1] == size else F.interpolate(x, scale_factor=size // x.shape[-1], mode="nearest")


def downsample(x: Tensor, size: int) -> Tensor:
    """Average pooling of a square batch down to ``size``×``size`` (the paper's box filter)."""
    if x.shape[-1] < size:
        raise ValueError(
            f"images of {x.shape[-1]}×{x.shape[-1]} are smaller than the current resolution {size}"
        )
    return x if x.shape[-1] == size else F.avg_pool2d(x, x.shape[-1] // size)


def fade(old: Tensor, new: Tensor, alpha: float) -> Tensor:
    """(1 − α) · old + α · new; exactly ``old`` at α = 0, ``new`` at α = 1."""
    return new if alpha >= 1.0 else torch.lerp(old, new, alpha)


def _conv(in_channels: int, out_channels: int, normalize: bool) -> list[nn.Module]:
    layers = [EqualizedConv2d(in_channels, out_channels, 3), nn.LeakyReLU(0.2)]
    return [*layers, PixelNorm()] if normalize else layers


class ProGANGenerator(nn.Module):
    """z [N, latent_dim] → images [N, C, H, W]: the current stage's output, upsampled to H.

    ``stage`` and ``alpha`` select the output; the module that trains G sets them.
    """

    def __init__(
        self, latent_dim: int, image_shape: tuple[int, int, int], fmap_base: int = 8192, fmap_max: int = 512
    ) -> None:
        super().__init__()
        channels, self.image_size, _ = image_shape
        resolutions = [4 * 2**s for s in range(int(math.log2(self.image_size)) - 1)]
        width = [progan_channels(r, fmap_base, fmap_max) for r in resolutions]
        self.stage, self.alpha = 0, 1.0
        # 4×4: normalize z, dense to 4×4 (gain √2/4 as in the authors' code), conv 3×3 (Table 2).
        first = nn.Sequential(
            PixelNorm(),
            EqualizedLinear(latent_dim, width[0] * 16, gain=math.sqrt(2) / 4),
            nn.Unflatten(1, (width[0], 4, 4)),
            nn.LeakyReLU(0.2),
            PixelNorm(),
            *_conv(width[0], width[0], normalize=True),
        )
        # r×r: up, conv 3×3, conv 3×3.
        growing = [
            nn.Sequential(nn.Upsample(scale_factor=2), *_conv(a, b, True), *_conv(b, b, True))
            for a, b in pairwise(width)
        ]
        self.blocks = nn.ModuleList([first, *growing])
        self.to_rgb = nn.ModuleList(EqualizedConv2d(w, channels, 1, gain=1.0) for w in width)

    def native(self, z: Tensor) -> Tensor:
        """Images at the current resolution, ``[N, C, r, r]``."""
        h = self.blocks[0](z)
        for block in self.blocks[1 : self.stage]:
            h = block(h)  # h: features at r/2 (or 4×4 at stage 0)
        if self.stage == 0:
            return self.to_rgb[0](h)
        new = self.to_rgb[self.stage](self.blocks[self.stage](h))
        if self.alpha >= 1.0:
            return new
        old = upsample(self.to_rgb[self.stage - 1](h), new.shape[-1])
        return fade(old, new, self.alpha)

    def forward(self, z: Tensor) -> Tensor:
        return upsample(self.native(z), self.image_size)


class ProGANDiscriminator(nn.Module):
    """images [N, C, R, R] (R = the current resolution r or any power-of-two multiple) → scores [N].

    fromRGB_r, the blocks r → 4 (conv 3×3, conv 3×3, pool), then minibatch stddev, conv 3×3, a
    dense layer over the 4×4 map and a linear score (Table 2).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        fmap_base: int = 8192,
        fmap_max: int = 512,
        mbstd_group_size: int = 4,
    ) -> None:
        super().__init__()
        channels, image_size, _ = image_shape
        resolutions = [4 * 2**s for s in range(int(math.log2(image_size)) - 1)]
        width = [progan_channels(r, fmap_base, fmap_max) for r in resolutions]
        self.stage, self.alpha = 0, 1.0
        last = nn.Sequential(
            MinibatchStdDev(mbstd_group_size),
            *_conv(width[0] + 1, width[0], normalize=False),
            nn.Flatten(),
            EqualizedLinear(width[0] * 16, progan_channels(2, fmap_base, fmap_max)),
            nn.LeakyReLU(0.2),
            EqualizedLinear(progan_channels(2, fmap_base, fmap_max), 1, gain=1.0),
        )
        shrinking = [
            nn.Sequential(*_conv(b, b, False), *_conv(b, a, False), nn.AvgPool2d(2))
            for a, b in pairwise(width)
        ]
        self.blocks = nn.ModuleList([last, *shrinking])
        self.from_rgb = nn.ModuleList(
            nn.Sequential(EqualizedConv2d(channels, w, 1), nn.LeakyReLU(0.2)) for w in width
        )

    def forward(self, x: Tensor) -> Tensor:
        x = downsample(x, 4 * 2**self.stage)
        h = self.from_rgb[self.stage](x)
        if self.stage > 0:
            h = self.blocks[self.stage](h)
            if self.alpha < 1.0:
                h = fade(self.from_rgb[self.stage - 1](F.avg_pool2d(x, 2)), h, self.alpha)
        for block in reversed(self.blocks[1 : self.stage]):
            h = block(h)
        return self.blocks[0](h).squeeze(1)


@MODELS.register()
class ProGAN(AdversarialModule):
    """Progressive growing of GANs.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the defaults
    are the paper's (Appendix A.1): Wasserstein loss with the gradient penalty (λ = 10) and the drift
    term (ε = 0.001), ``n_critic=1`` with fresh latents for G (the authors' code draws them in each
    loss), Adam(α = 0.001, β₁ = 0, β₂ = 0.99, ε = 10⁻⁸), latent 512, EMA of G with decay 0.999.

    Args:
        fmap_base: widths are ``min(fmap_base / (r/2), fmap_max)`` channels at r×r.
        fmap_max: the cap on those widths.
        mbstd_group_size: group size of the minibatch-stddev layer (4 in the authors' code).
        phase_images: real images per fade-in and per stabilization phase (800k, Appendix A.1).
        batch_sizes: minibatch per resolution, ``{4: 16, …}``; ``None`` is the paper's (16 up to
            128², then 14, 6, 3). The data module's ``batch_size`` must be at least the largest.
        reset_optimizer_state: clear Adam's moments when a phase begins (the authors' code).
    """

    defaults = {
        "image_shape": (3, 1024, 1024),
        "latent_dim": 512,
        "loss": "wasserstein",
        "regularizers": ["gradient_penalty", "drift"],
        "g_optimizer": optimizer(torch.optim.Adam, lr=1e-3, betas=(0.0, 0.99), eps=1e-8),
        "d_optimizer": optimizer(torch.optim.Adam, lr=1e-3, betas=(0.0, 0.99), eps=1e-8),
        "ema_decay": 0.999,
    }

    def __init__(
        self,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        mbstd_group_size: int = 4,
        phase_images: int = 800_000,
        batch_sizes: dict[int, int] | None = None,
        reset_optimizer_state: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.growth = GrowthSchedule(self.image_shape[1], phase_images, batch_sizes or PAPER_BATCH_SIZES)
        self.reset_optimizer_state = reset_optimizer_state
        self.images_seen = 0  # real images shown to D so far: the clock of the schedule
        self.growth_state = self.growth.at(0)
        self._show(self.growth_state)

    def check_arguments(self) -> None:
        super().check_arguments()
        if self.image_shape[1] != self.image_shape[2]:
            raise ValueError(f"ProGAN needs square images, got image_shape={self.image_shape}")

    def build_generator(self) -> nn.Module:
        h = self.hparams
        return ProGANGenerator(self.latent_dim, self.image_shape, h.fmap_base, h.fmap_max)

    def build_discriminator(self) -> nn.Module:
        h = self.hparams
        return ProGANDiscriminator(self.image_shape, h.fmap_base, h.fmap_max, h.mbstd_group_size)

    # ------------------------------------------------------------------ growth
    def _show(self, state: GrowthState) -> None:
        """Set every network (the EMA copy of G included) to ``state``'s stage and α."""
        networks = [self.generator, self.discriminator]
        if self.generator_ema is not None:
            networks.append(self.generator_ema.module)
        for network in networks:
            network.stage, network.alpha = state.stage, state.alpha
        self.growth_state = state

    def reals_at_current_resolution(self, real: Tensor) -> Tensor:
        """Real images as the current stage sees them: pooled to r×r, faded with their r/2 version
        during a fade-in, and nearest-upsampled back to the batch's size. ``[N, C, H, W]`` → same."""
        state, size = self.growth_state, real.shape[-1]
        real_r = downsample(real, state.resolution)
        if state.fading:
            real_r = fade(upsample(F.avg_pool2d(real_r, 2), state.resolution), real_r, state.alpha)
        return upsample(real_r, size)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        real, labels = self.unpack(batch)
        state = self.growth.at(self.images_seen)
        if state != self.growth_state:  # only if the schedule was changed since the checkpoint
            self._show(state)
        if real.shape[0] < state.batch_size:
            raise ValueError(
                f"ProGAN's schedule asks for batches of {state.batch_size} at {state.resolution}×"
                f"{state.resolution} but the data module gives {real.shape[0]}; set data.batch_size "
                f"to at least {max(self.growth.batch_sizes.values())}"
            )
        real = self.reals_at_current_resolution(real[: state.batch_size])
        labels = labels[: state.batch_size] if labels is not None else None
        super().training_step((real, labels), batch_idx)
        self.training_log.set({"train/resolution": float(state.resolution), "train/alpha": state.alpha})
        self._advance(state.batch_size)

    def _advance(self, images: int) -> None:
        """Count the images just shown and move the networks to the next step's state."""
        self.images_seen += images
        state = self.growth.at(self.images_seen)
        if state.phase != self.growth_state.phase and self.reset_optimizer_state:
            for optimizer in self.optimizers():
                optimizer.optimizer.state.clear()  # Adam's moments and step count start afresh
        self._show(state)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        real, labels = self.unpack(batch)
        super().validation_step((self.reals_at_current_resolution(real), labels), batch_idx)

    def test_step(self, batch: Any, batch_idx: int) -> None:
        real, labels = self.unpack(batch)
        super().test_step((self.reals_at_current_resolution(real), labels), batch_idx)

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["progressive_growing"] = {
            "images_seen": self.images_seen,
            "resolution": self.growth_state.resolution,
            "alpha": self.growth_state.alpha,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get("progressive_growing")
        if saved is None:
            return
        self.images_seen = saved["images_seen"]
        stage = int(math.log2(saved["resolution"])) - 2
        phase = self.growth.at(self.images_seen).phase
        self._show(GrowthState(stage, saved["alpha"], phase, self.growth.batch_sizes[saved["resolution"]]))
