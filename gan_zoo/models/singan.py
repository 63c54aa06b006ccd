"""SinGAN — Shaham, Dekel & Michaeli 2019, "SinGAN: Learning a Generative Model from a Single Natural
Image" (ICCV).

A pyramid of fully convolutional GANs learns the distribution of patches of *one* image at every scale.
Scales are numbered from the coarsest (0) to the finest (N), as in the authors' code (the paper counts
the other way). The real pyramid is x_n = x ↓ r^(N − n), with r ≈ 0.75 and the coarsest side ≈ 25 px.

Generation, coarse to fine (§2.1, Eqs. 1–2):

    x̃_0 = G_0(z_0)
    x̃_n = (x̃_{n−1})↑ + ψ_n(z_n + (x̃_{n−1})↑),    z_n ~ N(0, σ_n² I)

ψ_n is five 3×3 conv blocks (conv – BN – LeakyReLU(0.2)) ending in tanh, 32 kernels at the coarsest
scale, doubled every 4 scales; D_n has the same five blocks and outputs a map of patch scores (an 11×11
receptive field, the patch size of the paper). The training is sequential, coarse to fine; when scale n
trains, G_0 … G_{n−1} are frozen (§2.2):

    min_{G_n} max_{D_n}  L_adv(G_n, D_n) + α L_rec(G_n),    α = 10

L_adv is WGAN-GP. L_rec uses one fixed noise set {z*, 0, …, 0}: the coarsest scale must rebuild x_0
from z*, every finer one must rebuild x_n from the upsampled reconstruction below it:

    L_rec = ‖G_n(0, (x̃^rec_{n−1})↑) − x_n‖²  (n > 0),      ‖G_0(z*) − x_0‖²  (n = 0)

and σ_n, the standard deviation of z_n, is proportional to the RMSE between (x̃^rec_{n−1})↑ and x_n: how
much detail this scale has to add (0.1 × RMSE in the authors' code; σ_0 = 1).

Settings (the paper's implementation details and the authors' code): 2000 iterations per scale, each
3 D then 3 G updates; Adam(5e-4, β = (0.5, 0.999)), learning rate × 0.1 after 1600 iterations;
gradient penalty λ = 0.1; the coarsest noise map is one channel shared by R, G and B.

Random samples of any size and aspect ratio (§3), optionally starting at a finer scale (§3.1), come
from :meth:`SinGAN.sample`. The applications of §4 are methods too: :meth:`SinGAN.inject` (an image
injected at a chosen scale) behind :meth:`~SinGAN.harmonize`, :meth:`~SinGAN.edit` and
:meth:`~SinGAN.paint_to_image`, and :meth:`SinGAN.super_resolve`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.transforms.functional import gaussian_blur

from gan_zoo.core import AdversarialModule, draw_latent, optimizer
from gan_zoo.core.adversarial import Weights
from gan_zoo.core.step import Step
from gan_zoo.data.single_image import resize
from gan_zoo.layers import init_normal_
from gan_zoo.losses.regularizers import Network
from gan_zoo.models.registry import MODELS

Size = tuple[int, int]
NoiseFn = Callable[[int, Size], Tensor]  # (scale, size) -> z_k [n, C, h, w]


# ---------------------------------------------------------------------------------------- the pyramid
def pyramid_sizes(height: int, width: int, scale_factor: float = 0.75, min_size: int = 25) -> list[Size]:
    """``(h, w)`` of every scale, coarsest first, for an image of ``height × width``.

    N = ⌈log(min_size / short side) / log r⌉ downscalings; like the authors' code, the factor is then
    adjusted to (min_size / short side)^(1/N), so that the coarsest short side is exactly ``min_size``.
    An image whose short side is already ``min_size`` or less is a single scale.
    """
    if not 0.0 < scale_factor < 1.0:
        raise ValueError(f"scale_factor must be in (0, 1), got {scale_factor}")
    short = min(height, width)
    if short <= min_size:
        return [(height, width)]
    steps = math.ceil(math.log(min_size / short) / math.log(scale_factor) - 1e-9)
    sizes = []
    for n in range(steps + 1):
        scale = (min_size / short) ** ((steps - n) / steps)  # exact at both ends
        sizes.append((math.floor(height * scale + 0.5), math.floor(width * scale + 0.5)))
    return sizes


def scale_widths(num_scales: int, width: int = 32, max_width: int = 128) -> list[int]:
    """Kernels per conv block at each scale: ``width``, doubled every 4 scales, at most ``max_width``."""
    return [min(width * 2 ** (n // 4), max_width) for n in range(num_scales)]


def _conv_blocks(in_channels: int, width: int, layers: int) -> list[nn.Module]:
    """``layers − 1`` blocks of 3×3 conv (no padding) – BN – LeakyReLU(0.2)."""
    blocks: list[nn.Module] = []
    for i in range(layers - 1):
        blocks += [nn.Conv2d(in_channels if i == 0 else width, width, 3), nn.BatchNorm2d(width)]
        blocks.append(nn.LeakyReLU(0.2, inplace=True))
    return blocks


class ScaleGenerator(nn.Module):
    """G_n: ``(σ_n z_n + x̃↑, x̃↑) → x̃↑ + ψ_n(σ_n z_n + x̃↑)``, all ``[N, C, H, W]`` at the scale's size.

    The convolutions are unpadded; the input is zero-padded by 5 pixels once (as in the authors' code),
    so the output has the input's size.
    """

    def __init__(self, channels: int, width: int = 32, layers: int = 5) -> None:
        super().__init__()
        self.padding = layers  # (3 − 1) / 2 pixels lost per 3×3 conv
        self.body = nn.Sequential(
            *_conv_blocks(channels, width, layers), nn.Conv2d(width, channels, 3), nn.Tanh()
        )
        self.apply(init_normal_)

    def forward(self, noisy: Tensor, previous: Tensor) -> Tensor:
        return previous + self.body(F.pad(noisy, [self.padding] * 4))


class PatchDiscriminator(nn.Module):
    """D_n: images ``[N, C, H, W]`` → patch scores ``[N, 1, H − 10, W − 10]`` (11×11 patches)."""

    def __init__(self, channels: int, width: int = 32, layers: int = 5) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv_blocks(channels, width, layers), nn.Conv2d(width, 1, 3))
        self.apply(init_normal_)

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


@contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Every submodule in eval mode, each one's own mode restored afterwards."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


# ---------------------------------------------------------------------------------------- the model
@MODELS.register()
class SinGAN(AdversarialModule):
    """A pyramid of patch GANs trained coarse to fine on one image.

    The scale being trained and its progress are training state (saved in checkpoints; a resumed run
    continues at that scale). Each training batch is one D update at that scale; after every
    ``n_critic``-th one, G takes ``g_steps`` updates; ``iterations_per_scale`` such rounds train a
    scale. Training stops by itself after the finest scale, so set ``trainer.max_epochs: -1``. With the
    :class:`~gan_zoo.data.SingleImage` data, ``steps_per_epoch = iterations_per_scale × n_critic``
    makes one epoch one scale.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the defaults
    are the paper's and its code's: WGAN-GP with λ = 0.1 (:class:`~gan_zoo.losses.PixelGradientPenalty`),
    3 D then 3 G updates per iteration, every G update regenerating the fake from the same noise
    (``g_latents: reuse``), Adam(5e-4, β = (0.5, 0.999)) for each network with each scale its own
    parameter group, a 4×4 sample grid. ``latent_dim`` is unused: the noise maps have the image's
    channels.

    Args:
        scale_factor: r, the downscaling between scales (0.75: the paper's r = 4/3 is the upscaling).
        min_size: the coarsest scale's short side (≈ 25 px, §2.1).
        width: kernels per block at the coarsest scale (32).
        max_width: the cap on kernels per block (128).
        iterations_per_scale: training iterations per scale (2000).
        reconstruction_weight: α (10; 100 to train for super-resolution, §4).
        noise_amplitude: σ_n = this × RMSE of the reconstruction below (0.1, the authors' code).
        lr_milestone: after this many iterations at a scale, both learning rates × gamma (1600, 0.1).
        lr_gamma: see ``lr_milestone``.
    """

    defaults = {
        "image_shape": (3, 167, 250),
        "loss": "wasserstein",
        "regularizers": ["pixel_gradient_penalty"],
        "n_critic": 3,
        "g_steps": 3,
        "g_latents": "reuse",
        "g_optimizer": optimizer(torch.optim.Adam, lr=5e-4, betas=(0.5, 0.999)),
        "d_optimizer": optimizer(torch.optim.Adam, lr=5e-4, betas=(0.5, 0.999)),
        "grid_columns": 4,
    }

    def __init__(
        self,
        scale_factor: float = 0.75,
        min_size: int = 25,
        width: int = 32,
        max_width: int = 128,
        iterations_per_scale: int = 2000,
        reconstruction_weight: float = 10.0,
        noise_amplitude: float = 0.1,
        lr_milestone: int = 1600,
        lr_gamma: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        channels = self.image_shape[0]
        self.latent_dim = channels  # the noise maps have the image's channels
        self.iterations_per_scale = iterations_per_scale
        self.reconstruction_weight, self.noise_amplitude = reconstruction_weight, noise_amplitude
        self.lr_milestone, self.lr_gamma = lr_milestone, lr_gamma
        #: The scale being trained (the finest once training is done) and its D updates so far.
        self.scale, self.scale_updates = 0, 0
        # ((scale, device), G input, x̃↑) of the reconstruction path at the scale being trained
        self._reconstruction: tuple[tuple[int, torch.device], Tensor, Tensor] | None = None
        seeded = torch.Generator().manual_seed(0)
        coarsest = (1, *self.sizes[0])
        columns = self.hparams.grid_columns
        self.register_buffer("reconstruction_noise", torch.randn((1, *coarsest), generator=seeded))  # z*
        self.register_buffer("fixed_noise", torch.randn((columns**2, *coarsest), generator=seeded))
        self.register_buffer("noise_amplitudes", torch.ones(self.num_scales))  # σ_n, set as scales start
        self.register_buffer("reference", torch.zeros(1, *self.image_shape))  # the training image, x_N

    def check_arguments(self) -> None:
        super().check_arguments()
        h = self.hparams
        if h.min_size < 11:
            raise ValueError(f"min_size must be >= 11, the critic's patch size; got {h.min_size}")
        if h.iterations_per_scale < 1:
            raise ValueError(f"iterations_per_scale must be a positive integer, got {h.iterations_per_scale}")
        _, height, width = self.image_shape
        self.sizes = pyramid_sizes(height, width, h.scale_factor, h.min_size)
        self.widths = scale_widths(len(self.sizes), h.width, h.max_width)
        self.num_scales = len(self.sizes)

    def build_generator(self) -> nn.Module:
        return nn.ModuleList(ScaleGenerator(self.image_shape[0], w) for w in self.widths)

    def build_discriminator(self) -> nn.Module:
        return nn.ModuleList(PatchDiscriminator(self.image_shape[0], w) for w in self.widths)

    # ------------------------------------------------------------------------------ generation
    def scale_sizes(self, height_ratio: float = 1.0, width_ratio: float = 1.0) -> list[Size]:
        """The pyramid's sizes with every noise map stretched by these ratios (any size / aspect ratio)."""
        return [(max(1, round(h * height_ratio)), max(1, round(w * width_ratio))) for h, w in self.sizes]

    def _noise(self, scale: int, n: int, size: Size, generator: torch.Generator | None = None) -> Tensor:
        """z_n ``[n, C, h, w]`` ~ N(0, I); one channel repeated over C at the coarsest scale."""
        channels = 1 if scale == 0 else self.image_shape[0]
        device = generator.device if generator is not None else self.device
        z = torch.randn((n, channels, *size), device=device, generator=generator).to(self.device)
        return z.expand(-1, self.image_shape[0], -1, -1)

    def _refine(self, x: Tensor | None, scales: range, sizes: list[Size], noise: NoiseFn) -> Tensor:
        """Run G_k for k in ``scales`` on x̃ from the scale below (``None`` under the coarsest).

        Each G_k sees σ_k z_k + x̃↑ and x̃↑, where x̃↑ is x resized to ``sizes[k]`` and z_k = ``noise(k)``.
        """
        for k in scales:
            z = noise(k, sizes[k])
            previous = torch.zeros_like(z) if x is None else resize(x, sizes[k]).expand_as(z)
            x = self.generator[k](self.noise_amplitudes[k] * z + previous, previous)
        return x

    def _random_noise(self, n: int, generator: torch.Generator | None = None) -> NoiseFn:
        return lambda k, size: self._noise(k, n, size, generator)

    def _reconstruction_noise(self, n: int = 1) -> NoiseFn:
        """{z*, 0, …, 0}: the fixed noise of the reconstruction path."""
        channels = self.image_shape[0]
        z_star = self.reconstruction_noise.expand(n, channels, -1, -1)
        return lambda k, size: z_star if k == 0 else z_star.new_zeros(n, channels, *size)

    def _generate(
        self,
        n: int,
        sizes: list[Size],
        coarsest: Tensor | None = None,
        start_scale: int = 0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Images through every scale trained so far, then resized to ``sizes[-1]`` (the scales not
        trained yet pass the image through). Scales below ``start_scale`` take the reconstruction
        path; the coarsest random scale uses ``coarsest`` as z_0 when given."""
        reconstruction, random = self._reconstruction_noise(n), self._random_noise(n, generator)

        def noise(k: int, size: Size) -> Tensor:
            if k < start_scale:
                return reconstruction(k, size)
            if k == 0 and coarsest is not None:
                return coarsest.to(self.device).expand(-1, self.image_shape[0], -1, -1)
            return random(k, size)

        return resize(self._refine(None, range(self.scale + 1), sizes, noise), sizes[-1])

    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """Random images from the coarsest noise map ``z`` ``[n, 1, h_0, w_0]``, which fixes their layout
        (the finer scales' noise is drawn fresh). A z larger than the coarsest scale gives a larger
        image: the output is the training size stretched as much, ``[n, C, H', W']``."""
        sizes = self.scale_sizes(z.shape[-2] / self.sizes[0][0], z.shape[-1] / self.sizes[0][1])
        return self._generate(z.shape[0], sizes, coarsest=z)

    @property
    def has_ema(self) -> bool:
        """``False``: SinGAN samples its pyramid as trained, whatever ``ema_decay`` says (the paper keeps
        no average of G, and the pyramid's generation does not go through one network)."""
        return False

    def sample_latent(
        self, n: int, *, truncation: float | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """z_0, the coarsest noise map ``[n, 1, h_0, w_0]`` (one channel, shared by the colours)."""
        device = generator.device if generator is not None else self.device
        z = draw_latent((n, 1, *self.sizes[0]), "normal", truncation, device=device, generator=generator)
        return z.to(self.device)

    @torch.no_grad()
    def sample(
        self,
        n: int | None = None,
        y: Tensor | int | None = None,
        *,
        z: Tensor | None = None,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
        size: Size | None = None,
        start_scale: int = 0,
        weights: Weights | None = None,
    ) -> Tensor:
        """Random samples ``[n, C, H, W]`` in [-1, 1], of any size and aspect ratio (§3).

        Args:
            n: how many (not needed with ``z``).
            y: must be ``None`` (SinGAN is unconditional).
            z: the coarsest noise maps ``[n, 1, h, w]``; their size sets the output's.
            truncation: draw z_0 from a normal truncated at this threshold.
            generator: a ``torch.Generator`` for every noise map (reproducible samples).
            size: ``(H, W)`` of the output, any size and aspect ratio: every scale's noise map is
                stretched by ``H / H_train`` and ``W / W_train``. Default: the training image's.
            start_scale: keep the image's own content up to this scale (the scales below follow the
                reconstruction path, {z*, 0, …}) and draw only the finer ones (§3.1).
            weights: ``"raw"`` or ``None``: SinGAN samples its pyramid as trained (see :attr:`has_ema`).
        """
        self.labels_for(1, y, generator)  # raises for labels
        self.chosen_weights(weights)  # raises for "ema"
        if start_scale and (size is not None or z is not None):
            raise ValueError("start_scale keeps the image's coarse scales: it takes neither size nor z")
        if not 0 <= start_scale <= self.scale:
            raise ValueError(f"start_scale must be in [0, {self.scale}] (the scales trained so far)")
        if z is not None:
            if size is not None:
                raise ValueError("give the output size or z (whose size sets it), not both")
            with _eval_mode(self.generator):
                return self(z).float().clamp(-1.0, 1.0)
        if n is None:
            raise ValueError("sample() needs n or z")
        height, width = self.image_shape[1:] if size is None else size
        sizes = self.scale_sizes(height / self.image_shape[1], width / self.image_shape[2])
        sizes[-1] = (height, width)
        device = generator.device if generator is not None else self.device
        coarsest = (
            None
            if start_scale
            else draw_latent((n, 1, *sizes[0]), "normal", truncation, device=device, generator=generator)
        )
        with _eval_mode(self.generator):
            return self._generate(n, sizes, coarsest, start_scale, generator).float().clamp(-1.0, 1.0)

    @torch.no_grad()
    def reconstruct(self) -> Tensor:
        """x̃^rec ``[1, C, H, W]``: the image rebuilt from the fixed noise {z*, 0, …, 0}; deterministic."""
        with _eval_mode(self.generator):
            return self._generate(1, self.sizes, start_scale=self.scale + 1).clamp(-1.0, 1.0)

    # ------------------------------------------------------------------------------ applications (§4)
    @torch.no_grad()
    def inject(
        self,
        image: Tensor,
        scale: int,
        *,
        n: int = 1,
        mask: Tensor | None = None,
        dilation: int = 0,
        blur: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Inject ``image`` at ``scale`` and generate the finer scales from it: ``[n, C, H, W]``.

        As in the authors' code the image is brought down to scale − 1 and back up, so G_scale sees only
        the content it would receive from below, then every finer G adds detail in the image's style.
        With a ``mask`` (``[H', W']`` or ``[1, 1, H', W']`` in [0, 1]) the result is blended into
        ``image``: ``m · out + (1 − m) · image``, m being the mask dilated by ``dilation`` pixels and
        blurred with a Gaussian of std ``blur`` pixels (of the output).

        Args:
            image: ``[C, H', W']`` or ``[1, C, H', W']`` in [-1, 1], any size (resized).
            scale: 1 … the finest scale trained (coarser scales let the model change more).
        """
        if not 1 <= scale <= self.scale:
            raise ValueError(f"scale must be in [1, {self.scale}] (injection needs a scale below it)")
        image = (image[None] if image.ndim == 3 else image).to(self.device, torch.float32)
        start = resize(resize(image, self.sizes[scale - 1]), self.sizes[scale]).expand(n, -1, -1, -1)
        with _eval_mode(self.generator):
            out = self._refine(
                start, range(scale, self.scale + 1), self.sizes, self._random_noise(n, generator)
            )
        out = resize(out, self.sizes[-1])
        if mask is not None:
            soft = soft_mask(mask.to(self.device), self.sizes[-1], dilation, blur)
            out = soft * out + (1.0 - soft) * resize(image, self.sizes[-1])
        return out.float().clamp(-1.0, 1.0)

    def _mask_pixels(self, pixels_at_250: float) -> float:
        """A length of the authors' code (given for 250-pixel images) at this image's size."""
        return pixels_at_250 * max(self.image_shape[1:]) / 250

    def harmonize(self, composite: Tensor, mask: Tensor, scale: int, **kwargs: Any) -> Tensor:
        """Harmonization (§4): a pasted object (``mask``) takes on the image's look. Mask dilated by 7 px
        and blurred by 5 px at 250 px (the authors' code). ``kwargs`` go to :meth:`inject`."""
        soft = {"dilation": round(self._mask_pixels(7)), "blur": self._mask_pixels(5), **kwargs}
        return self.inject(composite, scale, mask=mask, **soft)

    def edit(self, edited: Tensor, mask: Tensor, scale: int, **kwargs: Any) -> Tensor:
        """Editing (§4): a copy-pasted region (``mask``) is blended in seamlessly. Mask dilated by 20 px
        and blurred by 5 px at 250 px (the authors' code). ``kwargs`` go to :meth:`inject`."""
        soft = {"dilation": round(self._mask_pixels(20)), "blur": self._mask_pixels(5), **kwargs}
        return self.inject(edited, scale, mask=mask, **soft)

    def paint_to_image(self, painting: Tensor, scale: int, **kwargs: Any) -> Tensor:
        """Paint-to-image (§4): a clipart ``painting`` becomes a photo in the image's style; inject at a
        coarse scale so the painting gives only the layout. ``kwargs`` go to :meth:`inject`."""
        return self.inject(painting, scale, **kwargs)

    @torch.no_grad()
    def super_resolve(
        self, image: Tensor | None = None, factor: float = 4.0, *, generator: torch.Generator | None = None
    ) -> Tensor:
        """Super-resolution (§4): upsample by ≈ 1/r and refine with the finest generator, k times.

        k = round(log factor / log(1/r)); each step upsamples by factor^(1/k), so the result is exactly
        ``factor`` times larger. The paper trains such a model with α = 100 and r = factor^(-1/k).

        Args:
            image: ``[C, H, W]`` or ``[N, C, H, W]`` in [-1, 1]; default the training image.
        """
        if factor <= 1:
            raise ValueError(f"factor must be > 1, got {factor}")
        x = self.reference if image is None else (image[None] if image.ndim == 3 else image)
        x = x.to(self.device, torch.float32)
        steps = max(1, round(math.log(factor) / -math.log(self.effective_scale_factor)))
        height, width = x.shape[-2:]
        finest = self.generator[self.scale]
        with _eval_mode(self.generator):
            for j in range(1, steps + 1):
                grown = factor ** (j / steps)
                x = resize(x, (round(height * grown), round(width * grown)))
                z = self._noise(self.scale, x.shape[0], x.shape[-2:], generator)
                x = finest(self.noise_amplitudes[self.scale] * z + x, x)
        return x.float().clamp(-1.0, 1.0)

    @property
    def effective_scale_factor(self) -> float:
        """r after the adjustment that makes the coarsest short side exactly ``min_size``."""
        if self.num_scales == 1:
            return self.hparams.scale_factor
        return (min(self.sizes[0]) / min(self.sizes[-1])) ** (1 / (self.num_scales - 1))

    # ------------------------------------------------------------------------------ training
    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D_n at the scale being trained: patch scores ``[N, P]`` (the objective averages them)."""
        return self.discriminator[self.scale](x).flatten(1)

    def make_step(self, batch: Any) -> Step:
        """x_n and a fake at the scale being trained: x̃↑ from a random pass through the frozen scales
        below, then fake = G_n(σ_n z_n + x̃↑, x̃↑); ``latent`` keeps G_n's two inputs."""
        real, labels = self.unpack(batch)
        n, s, size = real.shape[0], self.scale, self.sizes[self.scale]
        with torch.no_grad():
            below = self._refine(None, range(s), self.sizes, self._random_noise(n)) if s else None
        z = self._noise(s, n, size)
        previous = torch.zeros_like(z) if below is None else resize(below, size)
        noisy = self.noise_amplitudes[s] * z + previous
        fake = self.generator[s](noisy, previous)
        return Step(resize(real, size), labels, fake, None, latent=(noisy, previous))

    def regenerate(self, step: Step) -> Step:
        """The fake batch again from the same noise, through G_n as it is now."""
        noisy, previous = step.latent
        return replace(step, fake=self.generator[self.scale](noisy, previous), fake_logits=None)

    def parameter_groups(self, network: Network) -> Iterable[Any]:
        # One parameter group per scale: a scale starts with fresh Adam moments (its parameters have
        # none yet) and its own learning rate, which drops at its milestone.
        return [{"params": list(module.parameters())} for module in getattr(self, network)]

    def training_step(self, batch: Any, batch_idx: int) -> None:
        real, _ = self.unpack(batch)
        if not self._prepare_scale(real):
            return
        super().training_step(batch, batch_idx)  # one D update; after every n_critic-th, g_steps G updates
        self.scale_updates += 1
        if self.scale_updates % self.n_critic == 0:
            self.training_log.set({"train/scale": float(self.scale)})
        if self.scale_updates == self.lr_milestone * self.n_critic:
            for opt in self.optimizers():
                opt.param_groups[self.scale]["lr"] *= self.lr_gamma

    def generator_step(self, step: Step) -> dict[str, Tensor]:
        """L_adv + α L_rec, L_rec the mean squared error of the reconstruction path (the authors' code)."""
        terms = super().generator_step(step)
        noisy, previous = self._reconstruction_inputs()
        reconstruction = F.mse_loss(self.generator[self.scale](noisy, previous), step.real[:1])
        terms["loss"] = terms["loss"] + self.reconstruction_weight * reconstruction
        terms["reconstruction"] = reconstruction.detach()
        return terms

    def _prepare_scale(self, real: Tensor) -> bool:
        """Go to the next scale when this one is done, start a scale on its first update, freeze the
        others. Returns ``False`` once the finest scale is done (and asks the trainer to stop)."""
        if tuple(real.shape[1:]) != self.image_shape:
            raise ValueError(
                f"SinGAN was built for images {self.image_shape}, the batch has {tuple(real.shape[1:])}"
            )
        if self.scale_updates >= self.iterations_per_scale * self.n_critic:
            if self.scale == self.num_scales - 1:
                self.trainer.should_stop = True
                return False
            self.scale, self.scale_updates = self.scale + 1, 0
        if self.scale_updates == 0:
            self._start_scale(real[:1])
        self._freeze_other_scales()
        return True

    @torch.no_grad()
    def _start_scale(self, image: Tensor) -> None:
        """Initialize the scale about to train and set σ_n = noise_amplitude · RMSE(x̃^rec↑, x_n)."""
        s = self.scale
        self.reference.copy_(image)
        if s > 0 and self.widths[s] == self.widths[s - 1]:  # the authors' code: start from the scale below
            self.generator[s].load_state_dict(self.generator[s - 1].state_dict())
            self.discriminator[s].load_state_dict(self.discriminator[s - 1].state_dict())
        if s > 0:
            _, previous = self._reconstruction_inputs()
            rmse = (resize(image, self.sizes[s]) - previous).square().mean().sqrt()
            self.noise_amplitudes[s] = self.noise_amplitude * rmse

    def _reconstruction_inputs(self) -> tuple[Tensor, Tensor]:
        """G_n's input and x̃↑ on the reconstruction path at the scale being trained (cached per scale:
        the scales below are frozen)."""
        current = (self.scale, self.device)
        if self._reconstruction is None or self._reconstruction[0] != current:
            s, noise = self.scale, self._reconstruction_noise()
            with torch.no_grad(), _eval_mode(self.generator):
                below = self._refine(None, range(s), self.sizes, noise) if s else None
            z = noise(s, self.sizes[s])
            previous = torch.zeros_like(z) if below is None else resize(below, self.sizes[s])
            self._reconstruction = (current, self.noise_amplitudes[s] * z + previous, previous)
        return self._reconstruction[1], self._reconstruction[2]

    def _freeze_other_scales(self) -> None:
        """Only the scale being trained learns; the others are frozen, in eval mode (the authors' code)."""
        for k, (g, d) in enumerate(zip(self.generator, self.discriminator, strict=True)):
            active = k == self.scale
            g.requires_grad_(active).train(active and self.training)
            d.requires_grad_(active).train(active and self.training)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["singan"] = {"scale": self.scale, "scale_updates": self.scale_updates}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        state = checkpoint.get("singan", {})
        self.scale, self.scale_updates = state.get("scale", 0), state.get("scale_updates", 0)
        self._reconstruction = None


def soft_mask(mask: Tensor, size: Size, dilation: int = 0, blur: float = 0.0) -> Tensor:
    """A mask ``[H', W']`` / ``[1, 1, H', W']`` in [0, 1] at ``size``, dilated by a disk of ``dilation``
    pixels and blurred with a Gaussian of std ``blur`` pixels: ``[1, 1, H, W]``."""
    mask = mask.reshape(1, 1, *mask.shape[-2:]).float()
    mask = F.interpolate(mask, size=size, mode="bilinear", align_corners=False).clamp(0.0, 1.0)
    if dilation > 0:
        offsets = torch.arange(-dilation, dilation + 1, device=mask.device, dtype=mask.dtype)
        disk = (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= dilation**2).to(mask.dtype)
        mask = (F.conv2d(mask, disk[None, None], padding=dilation) > 0.5).to(mask.dtype)
    if blur > 0:
        mask = gaussian_blur(mask, kernel_size=2 * math.ceil(3 * blur) + 1, sigma=blur)
    return mask
