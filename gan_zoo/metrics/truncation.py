"""The truncation trade-off (Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High Fidelity
Natural Image Synthesis", §3.1, Figures 4 and 17).

Sampling z from a normal truncated at ψ (values of larger magnitude resampled) trades variety for
fidelity: as ψ falls, samples move towards the modes of G, the Inception Score (fidelity, confident
class predictions) rises and FID (which also penalizes lost variety) eventually worsens. The sweep
computes FID and IS of the same number of samples at each ψ, against one set of real features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan_zoo.metrics.cache import RealFeatureCache
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.real import real_features
from gan_zoo.metrics.sample_metrics import evaluate_generated, fid, inception_score


@dataclass
class TruncationPoint:
    """FID and IS of samples drawn with truncation ``psi`` (``None``: the untruncated prior)."""

    psi: float | None
    fid: float
    is_mean: float
    is_std: float


class Truncated:
    """``model`` sampled with z from a normal truncated at ``psi`` (``None``: the model's prior)."""

    def __init__(self, model: pl.LightningModule, psi: float | None) -> None:
        self.model, self.psi = model, psi
        self.device = model.device

    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        return self.model.sample(n, y, truncation=self.psi, generator=generator)


def check_normal_prior(model: pl.LightningModule) -> None:
    """A clear error unless ``model`` draws z from a normal distribution (what truncation applies to)."""
    prior = getattr(model, "latent_prior", None)
    if prior != "normal":
        described = {"uniform": "a uniform", "uniform_0_1": "a uniform"}.get(prior, "a model-specific")
        raise ValueError(
            f"the truncation trick needs a model with a normal prior; {type(model).__name__} draws z "
            f"from {described} distribution (latent_prior: {prior})"
        )


def truncation_sweep(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    extractor: FeatureExtractor,
    truncations: Sequence[float | None],
    *,
    num_samples: int = 10_000,
    real_split: str = "train",
    num_real: int | None = None,
    batch_size: int = 250,
    seed: int = 0,
    cache: RealFeatureCache | None = None,
    show_progress: bool = False,
) -> list[TruncationPoint]:
    """FID and IS at each truncation ψ in ``truncations`` (``None`` for no truncation).

    Args:
        model: a model with a normal prior and ``sample(n, y, truncation=ψ, generator=...)``.
        datamodule: the real data (features of its ``real_split``, computed once or read from ``cache``).
        extractor: the feature network: Inception-v3 or a domain classifier.
        truncations: the thresholds, in the order of the result.
        num_samples: generated images at each ψ; with the same ``seed`` each ψ uses the same batch seeds
            (and so the same class labels for a conditional model).
        real_split: split of the real images; ``num_real`` keeps only its first images.
        batch_size: images per generation batch.
        seed: selects the latents, and seeds the IS split permutation.
        cache: the real-feature cache, or ``None``.
        show_progress: progress bars.
    """
    check_normal_prior(model)
    real = real_features(
        datamodule,
        real_split,
        extractor,
        batch_size=batch_size,
        num_images=num_real,
        cache=cache,
        device=model.device,
        show_progress=show_progress,
    )
    points = []
    for psi in truncations:
        scores = evaluate_generated(
            Truncated(model, psi), [fid(extractor), inception_score(extractor)], extractor, real,
            num_samples=num_samples, batch_size=batch_size, seed=seed, show_progress=show_progress,
        )  # fmt: skip
        points.append(TruncationPoint(psi, scores["fid"], scores["is_mean"], scores["is_std"]))
    return points
