"""Diversity within a class (Odena, Olah & Shlens 2017, §4.2): the mean MS-SSIM of random pairs of
images of one class, for generated samples and for real images of that class. MS-SSIM is 1 for
identical images, so a *lower* value means a *more* diverse class; a class whose generated samples
score at or below its real images is at least as diverse as the data (the paper: 84.7% of ImageNet
classes).

**MS-SSIM settings for small images.** MS-SSIM (Wang, Simoncelli & Bovik 2003) compares images at
five scales, halving the resolution four times, with an 11×11 Gaussian window (σ = 1.5) and per-scale
exponents β = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333). At 32×32 the fifth scale would be 2×2 pixels,
smaller than the window. We keep the window and use as many scales as keep the coarsest at least
16×16 pixels — ``1 + floor(log2(side / 16))``, capped at five: 1 scale (plain SSIM) at 16–31 px, 2 at
32–63 px, 3 at 64, 4 at 128, all 5 from 256 — with the first β's renormalised to sum to 1. Negative
contrast terms are clipped at 0 (torchmetrics' ``normalize="relu"``) so fractional exponents stay real.
Pixels are compared in [0, 1] (``data_range = 1``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytorch_lightning as pl
import torch
from torch import Tensor
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

from gan_zoo.metrics.discriminability import check_conditional
from gan_zoo.metrics.streams import dataset_batches, generated_batches, quiet_loader, split_dataset

#: Wang et al. 2003, Table 1 / §3.2: the exponents of the five scales, finest first.
WANG_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW_SIGMA = 1.5  # → an 11-tap Gaussian window
MIN_SCALE_SIDE = 16


def msssim_betas(side: int) -> tuple[float, ...]:
    """The per-scale exponents for square images of ``side`` pixels (one per scale, finest first)."""
    if side < MIN_SCALE_SIDE:
        raise ValueError(
            f"MS-SSIM with an 11×11 window needs images of at least 16×16 pixels, got {side}×{side}"
        )
    scales = min(len(WANG_BETAS), 1 + int(math.log2(side / MIN_SCALE_SIDE)))
    kept = WANG_BETAS[:scales]
    return tuple(b / sum(kept) for b in kept)


def pairwise_msssim(first: Tensor, second: Tensor) -> Tensor:
    """MS-SSIM of each pair ``(first[i], second[i])`` of uint8 images ``[P, C, H, W]`` → ``[P]``."""
    return multiscale_structural_similarity_index_measure(
        first.float() / 255,
        second.float() / 255,
        sigma=WINDOW_SIGMA,
        kernel_size=11,
        betas=msssim_betas(min(first.shape[-2:])),
        data_range=1.0,
        reduction="none",
        normalize="relu",
    )


def mean_pairwise_msssim(images: Tensor) -> float:
    """Mean MS-SSIM over the disjoint pairs ``(images[0], images[1]), (images[2], images[3]), …``."""
    pairs = images.shape[0] // 2
    if pairs == 0:
        raise ValueError("need at least two images to form a pair")
    return float(pairwise_msssim(images[0 : 2 * pairs : 2], images[1 : 2 * pairs : 2]).mean())


@dataclass
class ClassDiversity:
    """Mean within-class MS-SSIM of generated and real images (lower = more diverse).

    Attributes:
        generated / real: per class, ``[num_classes]``.
        share_at_least_as_diverse: fraction of classes with ``generated <= real``.
        pairs: pairs per class.
    """

    generated: list[float]
    real: list[float]
    share_at_least_as_diverse: float
    pairs: int


def real_images_by_class(
    datamodule: pl.LightningDataModule, split: str, num_classes: int, per_class: int, seed: int = 0
) -> list[Tensor]:
    """``per_class`` random uint8 images of each class from ``split`` (fewer if a class has fewer)."""
    dataset, collate_fn = split_dataset(datamodule, split)
    labels = torch.cat([batch[1] for batch in quiet_loader(dataset, 4096, collate_fn)])
    chosen = torch.Generator().manual_seed(seed)
    images = []
    for c in range(num_classes):
        members = torch.nonzero(labels == c).squeeze(1)
        pick = members[torch.randperm(len(members), generator=chosen)[:per_class]].tolist()
        images.append(torch.cat(list(dataset_batches(dataset, collate_fn, pick, per_class or 1))))
    return images


def class_diversity(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    pairs: int = 100,
    *,
    real_split: str = "train",
    batch_size: int = 250,
    seed: int = 0,
) -> ClassDiversity:
    """Odena et al.'s diversity analysis: ``pairs`` random pairs per class, generated and real.

    Args:
        model: a class-conditional model with ``sample(n, y, generator=...)`` and ``num_classes``.
        datamodule: the data the model was trained on, for the real pairs.
        pairs: pairs per class (100 in the paper).
        real_split: the split the real pairs come from (the paper compares with training data).
        batch_size: images per generation batch.
        seed: selects the latents and the real images.
    """
    num_classes = check_conditional(model, "diversity")
    labels = torch.arange(num_classes).repeat_interleave(2 * pairs)
    generated = torch.cat(
        [images for images, _ in generated_batches(model, len(labels), batch_size, seed, labels=labels)]
    )
    by_class = generated.view(num_classes, 2 * pairs, *generated.shape[1:])
    fake = [mean_pairwise_msssim(images) for images in by_class]
    real = [
        mean_pairwise_msssim(images)
        for images in real_images_by_class(datamodule, real_split, num_classes, 2 * pairs, seed)
    ]
    share = sum(f <= r for f, r in zip(fake, real, strict=True)) / num_classes
    return ClassDiversity(fake, real, share, pairs)
