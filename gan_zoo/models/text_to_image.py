"""GAN-INT-CLS — Reed, Akata, Yan, Logeswaran, Schiele & Lee 2016, "Generative Adversarial Text to Image
Synthesis" (ICML).

Both players see the caption t through a text embedding φ(t), compressed by a learned projection to
128 dimensions followed by a leaky ReLU (§4.1, Fig. 2). G is DCGAN's generator on [z, proj(φ(t))]; D is
DCGAN's discriminator down to 4×4, where proj(φ(t)) is replicated spatially and depth-concatenated,
followed by a 1×1 convolution and a 4×4 convolution to the score.

GAN-CLS, the matching-aware discriminator (§4.2, Algorithm 1), scores three kinds of pairs:

    s_r = D(x, h)    real image, matching text
    s_w = D(x, ĥ)    real image, mismatching text
    s_f = D(x̂, h)    fake image x̂ = G(z, h), matching text
    L_D = log s_r + (log(1 − s_w) + log(1 − s_f)) / 2           (maximized)
    L_G = log s_f                                               (maximized)

so D must judge whether image and text match, not only whether the image is real. GAN-INT (§4.3)
also trains G on interpolated embeddings, for which no real image exists:

    E_{t1,t2}[log(1 − D(G(z, β φ(t1) + (1 − β) φ(t2))))],   β = 0.5   (minimized by G)

Both terms are written with the objective object: L_D = ½ d_loss(s_r, s_f) + ½ d_loss(s_r, s_w) is
exactly the above for the sigmoid objectives (each d_loss is a real term plus a fake term), and G's
loss is g_loss(s_f) + λ_int g_loss(s_int) (non-saturating by default, as in the paper's code).

Settings (§5): Adam(2e-4, β1 = 0.5), batch 64, 600 epochs, 64×64 images, z ∈ R^100 ~ N(0, I).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.adversarial import Weights
from gan_zoo.core.step import Step
from gan_zoo.data.text import as_captions, encode_text
from gan_zoo.layers import init_normal_
from gan_zoo.layers.text_encoders import TextEncoder, build_text_encoder
from gan_zoo.losses import AdversarialLoss
from gan_zoo.models.dcgan import DCGAN_ADAM, DCGANDiscriminator, DCGANGenerator
from gan_zoo.models.registry import MODELS


def matching_aware_loss(
    loss: AdversarialLoss, real: Tensor, wrong: Tensor, fake: Tensor, mismatch_weight: float = 0.5
) -> Tensor:
    """GAN-CLS's discriminator loss from D's logits on (real, match), (real, mismatch), (fake, match).

    (1 − w) · d_loss(s_r, s_f) + w · d_loss(s_r, s_w); with w = ½ and a sigmoid objective this is
    −[log s_r + ½ log(1 − s_w) + ½ log(1 − s_f)] (Algorithm 1). w = 0 is a plain conditional GAN.
    """
    return (1.0 - mismatch_weight) * loss.d_loss(real, fake) + mismatch_weight * loss.d_loss(real, wrong)


def interpolate(first: Tensor, second: Tensor, beta: float = 0.5) -> Tensor:
    """GAN-INT's embedding β φ(t1) + (1 − β) φ(t2) (§4.3)."""
    return beta * first + (1.0 - beta) * second


def text_projection(embedding_dim: int, projected_dim: int) -> nn.Sequential:
    """φ(t) → 128-d: a fully connected layer followed by a leaky ReLU (§4.1)."""
    return nn.Sequential(nn.Linear(embedding_dim, projected_dim), nn.LeakyReLU(0.2, inplace=True))


class TextConditionedGenerator(nn.Module):
    """(z ``[N, latent_dim]``, φ(t) ``[N, E]``) → images ``[N, C, H, W]`` in [-1, 1]."""

    def __init__(
        self,
        latent_dim: int,
        embedding_dim: int,
        image_shape: tuple[int, int, int],
        width: int,
        projected_dim: int,
    ) -> None:
        super().__init__()
        self.projection = text_projection(embedding_dim, projected_dim)
        self.net = DCGANGenerator(latent_dim + projected_dim, image_shape, width)  # on [z, proj(φ(t))]
        self.projection.apply(init_normal_)

    def forward(self, z: Tensor, embedding: Tensor) -> Tensor:
        return self.net(torch.cat([z, self.projection(embedding)], dim=1))


class MatchingDiscriminator(nn.Module):
    """(images ``[N, C, H, W]``, φ(t) ``[N, E]``) → logits ``[N]``: does the image match the text?

    Holds the text encoder when it is trainable, so that it learns with D's optimizer.
    """

    def __init__(
        self, image_shape: tuple[int, int, int], embedding_dim: int, width: int, projected_dim: int
    ) -> None:
        super().__init__()
        dcgan = DCGANDiscriminator(image_shape, width)
        self.features = dcgan.net[:-1]  # DCGAN's D down to its 4×4 map (without the final 4×4 conv)
        channels = dcgan.net[-1].in_channels
        self.projection = text_projection(embedding_dim, projected_dim)
        self.head = nn.Sequential(
            nn.Conv2d(channels + projected_dim, channels, 1, bias=False),  # 1×1 conv on the concatenation
            nn.BatchNorm2d(channels),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(channels, 1, 4),  # 4×4 → the score
        )
        self.projection.apply(init_normal_)
        self.head.apply(init_normal_)

    def forward(self, x: Tensor, embedding: Tensor) -> Tensor:
        features = self.features(x)  # [N, C', 4, 4]
        text = self.projection(embedding)[:, :, None, None].expand(-1, -1, *features.shape[-2:])
        return self.head(torch.cat([features, text], dim=1)).flatten()


@dataclass
class CaptionStep(Step):
    """A :class:`Step` whose condition is text: ``real_labels`` / ``fake_labels`` hold the matching
    captions (uint8 ``[N, k, L]``) and ``wrong_text`` the mismatching ones."""

    wrong_text: Tensor | None = None


@MODELS.register()
class TextToImageGAN(AdversarialModule):
    """GAN-INT-CLS: a DCGAN conditioned on captions, with the matching-aware D and interpolation.

    Batches come from a captioned data module (:class:`~gan_zoo.data.CaptionedImages`,
    :class:`~gan_zoo.data.FashionMNISTCaptions`): images, labels, captions, mismatching captions.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the
    defaults are the paper's (§5): Adam(2e-4, β1 = 0.5), z ∈ R^100 ~ N(0, I), 64×64 images, and, as in
    the authors' code (built on dcgan.torch), G's update on the fake batch D's update just saw.

    Args:
        text_encoder: φ by name from ``TEXT_ENCODERS`` (``char_cnn``, ``sentence_transformer``).
        text_encoder_options: keyword arguments of the encoder (e.g. ``{"model": "/models/minilm"}``).
        projected_dim: the text projection's size (128, §4.1).
        g_width: DCGAN generator width (the paper's code: ngf 128).
        d_width: DCGAN discriminator width (the paper's code: ndf 64).
        mismatch_weight: weight of the (real image, wrong text) term: ½ is GAN-CLS, 0 turns it off.
        interpolation_weight: λ_int of GAN-INT (1 in the paper's code); 0 turns it off.
        interpolation_beta: β (0.5, §4.3).
        grid_captions: captions of the sample grid's rows; by default taken from the training data.
        max_caption_length: captions are cut after this many UTF-8 bytes.
    """

    defaults = {"g_latents": "reuse", "g_optimizer": DCGAN_ADAM, "d_optimizer": DCGAN_ADAM}

    def __init__(
        self,
        text_encoder: str = "char_cnn",
        text_encoder_options: dict[str, Any] | None = None,
        projected_dim: int = 128,
        g_width: int = 128,
        d_width: int = 64,
        mismatch_weight: float = 0.5,
        interpolation_weight: float = 1.0,
        interpolation_beta: float = 0.5,
        grid_captions: list[str] | None = None,
        max_caption_length: int = 128,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mismatch_weight, self.max_caption_length = mismatch_weight, max_caption_length
        self.interpolation_weight, self.interpolation_beta = interpolation_weight, interpolation_beta
        columns = self.hparams.grid_columns
        rows = columns  # the grid is square: one caption per row
        text = encode_text(grid_captions or [], max_caption_length)
        if len(text):
            text = text[torch.arange(rows) % len(text)]
        else:
            text = torch.zeros(rows, max_caption_length, dtype=torch.uint8)
        self.register_buffer("fixed_text", text.repeat_interleave(columns, 0)[:, None])  # [rows·cols, 1, L]

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """G and D around one text encoder φ: trained with D when it is trainable (it then lives in D),
        frozen and outside every optimizer otherwise."""
        h = self.hparams
        encoder = build_text_encoder(h.text_encoder, h.text_encoder_options)
        embedding_dim = encoder.embedding_dim
        generator = TextConditionedGenerator(
            self.latent_dim, embedding_dim, self.image_shape, h.g_width, h.projected_dim
        )
        discriminator = MatchingDiscriminator(self.image_shape, embedding_dim, h.d_width, h.projected_dim)
        if encoder.trainable:
            discriminator.text_encoder = encoder  # trained by D's matching-aware loss
        self._encoder = None if encoder.trainable else encoder
        return generator, discriminator

    # ------------------------------------------------------------------ text
    @property
    def text_encoder(self) -> TextEncoder:
        return self.discriminator.text_encoder if self._encoder is None else self._encoder

    def embed(self, text: Tensor) -> Tensor:
        """φ(t) averaged over each image's captions: uint8 ``[N, k, L]`` → ``[N, E]``."""
        n, k, length = text.shape
        return self.text_encoder(text.reshape(n * k, length)).view(n, k, -1).mean(1)

    def score(self, images: Tensor, embedding: Tensor) -> Tensor:
        """D's logits ``[N]`` for images and text embeddings."""
        return self.discriminator(images, embedding)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D(x, t) for captions ``y`` (uint8 ``[N, k, L]``), e.g. for a gradient penalty."""
        return self.score(x, self.embed(y))

    # ------------------------------------------------------------------ generation
    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """G(z, φ(t)) for captions ``y`` (uint8 ``[N, k, L]``)."""
        return self.generator(z, self.embed(y))

    @torch.no_grad()
    def sample(
        self,
        n: int | None = None,
        y: str | list[str] | Tensor | None = None,
        *,
        z: Tensor | None = None,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
        weights: Weights | None = None,
    ) -> Tensor:
        """Images ``[n, C, H, W]`` in [-1, 1] for captions ``y``: one string for all, a list of strings
        (one per image) or uint8 captions ``[n, (k,) L]``; ``None`` cycles the grid captions. ``weights``:
        see :meth:`AdversarialModule.sample`."""
        if n is None and z is None:
            n = len(y) if isinstance(y, list) else (y.shape[0] if torch.is_tensor(y) else None)
            if n is None:
                raise ValueError("sample() needs n, z, or one caption per image")
        z = (
            self.sample_latent(n, truncation=truncation, generator=generator)
            if z is None
            else z.to(self.device)
        )
        embedding = self.caption_embedding(y, z.shape[0])
        network = self.sampling_network(weights)
        was_training = network.training
        network.eval()
        try:
            images = network(z, embedding)
        finally:
            network.train(was_training)
        return images.float().clamp(-1.0, 1.0)

    @torch.no_grad()
    def caption_embedding(self, y: str | list[str] | Tensor | None, n: int) -> Tensor:
        """φ(t) ``[n, E]`` of the captions ``y`` as :meth:`sample` takes them (``None``: the grid
        captions, cycled), with the encoder in eval mode."""
        if y is None:
            if not bool(self.fixed_text.any()):
                raise ValueError("no captions: pass y=..., set grid_captions, or fit on captioned data first")
            y = self.fixed_text[torch.arange(n, device=self.device) % len(self.fixed_text)]
        text = as_captions(y, n, self.max_caption_length).to(self.device)
        was_training = self.discriminator.training
        self.discriminator.eval()  # the encoder, when trainable, lives in D
        try:
            return self.embed(text)
        finally:
            self.discriminator.train(was_training)

    def generator_inputs(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """``(z, φ(t))`` with the grid captions t (one per class when taken from the data): the captions
        of the training batches are not kept with the model."""
        return self.sample_latent(n, generator=generator), self.caption_embedding(None, n)

    def on_fit_start(self) -> None:
        # Grid captions from the data when none were given (one example per class).
        datamodule = getattr(self.trainer, "datamodule", None)
        if not bool(self.fixed_text.any()) and hasattr(datamodule, "example_captions"):
            rows = self.fixed_text.shape[0] // self.hparams.grid_columns
            text = encode_text(datamodule.example_captions(rows), self.max_caption_length)
            self.fixed_text.copy_(text.repeat_interleave(self.hparams.grid_columns, 0)[:, None])

    # ------------------------------------------------------------------ training
    def make_step(self, batch: Any) -> CaptionStep:
        """x, its captions t and mismatching t̂, and x̂ = G(z, φ(t)) (φ detached: it learns with D)."""
        if not (isinstance(batch, list | tuple) and len(batch) == 4):
            raise ValueError(
                "TextToImageGAN trains on captioned batches (images, labels, captions, mismatching "
                "captions): use a captioned data module such as FashionMNISTCaptions or CaptionedImages"
            )
        images, _, text, wrong = batch
        with torch.no_grad():
            embedding = self.embed(text)
        z = self.sample_latent(images.shape[0])
        return CaptionStep(images, text, self.generator(z, embedding), text, latent=z, wrong_text=wrong)

    def regenerate(self, step: CaptionStep) -> CaptionStep:
        """The fake batch again from the same z and captions, through G as it is now."""
        with torch.no_grad():
            embedding = self.embed(step.fake_labels)
        return replace(step, fake=self.generator(step.latent, embedding), fake_logits=None)

    def discriminator_step(self, step: CaptionStep) -> dict[str, Tensor]:
        """The matching-aware loss on s_r = D(x, h), s_w = D(x, ĥ), s_f = D(x̂, h)."""
        matching, mismatching = self.embed(step.real_labels), self.embed(step.wrong_text)
        step.real_logits = self.score(step.real, matching)
        wrong_logits = self.score(step.real, mismatching)
        step.fake_logits = self.score(step.fake, matching)
        loss = matching_aware_loss(
            self.loss, step.real_logits, wrong_logits, step.fake_logits, self.mismatch_weight
        )
        return {
            "loss": loss,
            "real": self.loss.output(step.real_logits.detach()).mean(),
            "wrong": self.loss.output(wrong_logits.detach()).mean(),
            "fake": self.loss.output(step.fake_logits.detach()).mean(),
        }

    def generator_step(self, step: CaptionStep) -> dict[str, Tensor]:
        """g_loss(s_f) + λ_int g_loss(D(G(z', h_int), h_int)), h_int mixing the two halves of the batch."""
        with torch.no_grad():
            embedding = self.embed(step.fake_labels)
        step.fake_logits = self.score(step.fake, embedding)
        terms = {"loss": self.loss.g_loss(step.fake_logits)}
        half = step.batch_size // 2
        if self.interpolation_weight > 0 and half > 0:
            mixed = interpolate(embedding[:half], embedding[half : 2 * half], self.interpolation_beta)
            mixed_logits = self.score(self.generator(self.sample_latent(half), mixed), mixed)
            terms["interpolated"] = self.loss.g_loss(mixed_logits)
            terms["loss"] = terms["loss"] + self.interpolation_weight * terms["interpolated"]
        return terms
