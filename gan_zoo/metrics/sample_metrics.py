"""FID, KID, IS, MiFID and precision/recall of generated samples, on torchmetrics, with the features
extracted once.

The metrics are torchmetrics' own (``FrechetInceptionDistance``, ``KernelInceptionDistance``,
``InceptionScore``, ``MemorizationInformedFrechetInceptionDistance``). Each is built with
``feature=Precomputed(d)``, an identity, and fed features that a :class:`FeatureExtractor` computed
once per batch: one network pass serves every metric, and real features can come from the cache.
Feeding ``extractor(images)`` to a metric built on the identity gives exactly the state the metric
reaches when built with ``feature=extractor`` and fed the images.

Under DDP each process feeds its own share of the generated images and a contiguous share of the real
features; torchmetrics gathers the states in ``compute()``. Randomness inside ``compute`` (KID's
subsets, IS's split permutation) is seeded, so results are reproducible and equal on every process.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.image import (
    FrechetInceptionDistance,
    InceptionScore,
    KernelInceptionDistance,
    MemorizationInformedFrechetInceptionDistance,
)

from gan_zoo.metrics.cache import RealFeatureCache
from gan_zoo.metrics.distributed import rank_and_world, shard
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.manifold import ManifoldPrecisionRecall
from gan_zoo.metrics.real import real_features
from gan_zoo.metrics.streams import generated_batches


class Precomputed(nn.Identity):
    """The "feature network" of a torchmetrics metric whose inputs are already features ``[N, D]``."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features  # read by FrechetInceptionDistance instead of a dummy pass


@dataclass
class SampleMetric:
    """One torchmetrics metric over precomputed features, and how to feed and report it.

    Metrics whose state is a sum (FID) are updated batch by batch. Metrics that keep every feature
    (KID, IS, MiFID: torchmetrics list states) receive this process's features in *one* update per
    side, just before ``compute``: torchmetrics gathers list states element by element, interleaving
    the processes' batches, while one element per process keeps rank order — the single-process order.

    Attributes:
        name: ``"fid"``, ``"kid"``, ``"is"``, ``"mifid"`` or ``"precision_recall"``; prefixes the result
            keys of metrics that return a (mean, std) pair.
        metric: the torchmetrics metric, built on :class:`Precomputed`.
        reads: which output of the extractor it takes: ``"features"`` or ``"logits"``.
        uses_real: whether it compares with real images (all but IS).
        streamed: update the metric batch by batch (its state is a sum, not a list of features).
        subset_size: KID only: the requested subset size, capped at the sample counts.
        swap_sides: feed real images as the metric's "fake" side and generated ones as its "real"
            side (MiFID: see :func:`mifid`).
    """

    name: str
    metric: Metric
    reads: Literal["features", "logits"] = "features"
    uses_real: bool = True
    streamed: bool = False
    subset_size: int | None = None
    swap_sides: bool = False
    pending: dict[bool, list[Tensor]] = field(default_factory=lambda: {True: [], False: []})

    def update(self, features: Tensor, logits: Tensor | None, real: bool = False) -> None:
        inputs = features if self.reads == "features" else logits
        if self.streamed:
            self._feed(inputs, real)
        else:
            self.pending[real].append(inputs)

    def _feed(self, inputs: Tensor, real: bool) -> None:
        if self.uses_real:
            self.metric.update(inputs, real=real != self.swap_sides)
        else:
            self.metric.update(inputs)

    def compute(self, num_real: int, num_fake: int) -> dict[str, float]:
        """The metric as floats: ``{"fid": …}``, ``{"kid_mean": …, "kid_std": …}``,
        ``{"precision": …, "recall": …}``, … ; then reset."""
        for real, chunks in self.pending.items():
            if chunks:
                self._feed(torch.cat(chunks), real)
            chunks.clear()
        if self.subset_size is not None:
            self.metric.subset_size = min(self.subset_size, num_real, num_fake)
        value = self.metric.compute()
        self.metric.reset()
        if isinstance(value, dict):
            return {key: float(v) for key, v in value.items()}
        if isinstance(value, tuple):
            return {f"{self.name}_mean": float(value[0]), f"{self.name}_std": float(value[1])}
        return {self.name: float(value)}


def fid(extractor: FeatureExtractor) -> SampleMetric:
    """Fréchet distance (Heusel et al. 2017) between Gaussians fitted to real and generated features."""
    return SampleMetric(
        "fid", FrechetInceptionDistance(feature=Precomputed(extractor.num_features)), streamed=True
    )


def kid(extractor: FeatureExtractor, subsets: int = 100, subset_size: int = 1000) -> SampleMetric:
    """Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with a cubic polynomial kernel,
    mean and std over ``subsets`` random subsets of ``subset_size`` (capped at the sample counts)."""
    with warnings.catch_warnings():  # "will save all extracted features": yes, that is KID
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=Precomputed(extractor.num_features), subsets=subsets)
    return SampleMetric("kid", metric, subset_size=subset_size)


def inception_score(extractor: FeatureExtractor, splits: int = 10) -> SampleMetric:
    """Inception Score (Salimans et al. 2016): exp E[KL(p(y|x) ‖ p(y))] of the extractor's logits,
    mean and std over ``splits`` splits. With a domain classifier: the "MNIST score" kind of IS."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        metric = InceptionScore(feature=Precomputed(extractor.num_logits), splits=splits)
    return SampleMetric("is", metric, reads="logits", uses_real=False)


def mifid(extractor: FeatureExtractor, cosine_distance_eps: float = 0.1) -> SampleMetric:
    """Memorization-informed FID (Bai et al. 2021; Kaggle "Generative Dog Images").

    MiFID = FID / d when d < ``cosine_distance_eps`` (else FID), where d is "the minimum cosine distance
    of all training samples in the feature space, averaged across all user generated image samples"
    (the competition's definition): for each *generated* image, its nearest real image. torchmetrics
    takes the minimum the other way (for each real image, its nearest generated one), which misses a
    generator that copies a few training images. FID is symmetric in its two sides, so feeding the
    sides swapped gives the competition's metric from torchmetrics' code. Compare with the *training*
    split: memorization is of training images.
    """
    metric = MemorizationInformedFrechetInceptionDistance(
        feature=Precomputed(extractor.num_features), cosine_distance_eps=cosine_distance_eps
    )
    return SampleMetric("mifid", metric, swap_sides=True)


def precision_recall(extractor: FeatureExtractor, k: int = 3) -> SampleMetric:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN balls, k = 3: the share of
    generated samples on the real manifold and of real samples on the generated one; see
    :mod:`gan_zoo.metrics.manifold`. A collapsed generator shows as a low recall."""
    return SampleMetric("precision_recall", ManifoldPrecisionRecall(k))


#: The metric builders by name, for configuration and ``gan-zoo evaluate --metrics``.
SAMPLE_METRICS: dict[str, Callable[[FeatureExtractor], SampleMetric]] = {
    "fid": fid,
    "kid": kid,
    "is": inception_score,
    "mifid": mifid,
    "precision_recall": precision_recall,
}


def evaluate_samples(
    metrics: list[SampleMetric],
    extractor: FeatureExtractor,
    fake_batches: Iterable[Tensor],
    num_fake: int,
    real: Tensor | None = None,
    *,
    batch_size: int = 250,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> dict[str, float]:
    """Feed this process's generated batches and its share of ``real`` to ``metrics``; compute them.

    Args:
        metrics: what to compute.
        extractor: the feature network.
        fake_batches: this process's uint8 images ``[B, C, H, W]``.
        num_fake: generated images over all processes.
        real: the features of *all* real images ``[N, D]`` (every process passes the same matrix);
            needed when a metric uses real images.
        batch_size: rows of real features fed per update.
        seed: seeds the randomness inside the metrics' ``compute``.
        device: where features and metric states live.
    """
    if real is None and any(m.uses_real for m in metrics):
        raise ValueError(f"{[m.name for m in metrics if m.uses_real]} need the features of real images")
    extractor.to(device)
    for m in metrics:
        m.metric.to(device)
    if real is not None:
        rank, world = rank_and_world()
        rows = shard(real.shape[0], rank, world)
        for chunk in real[rows.start : rows.stop].split(batch_size):
            for m in metrics:
                if m.uses_real:
                    m.update(chunk.to(device), None, real=True)
    for images in fake_batches:
        features, logits = extractor.extract(images.to(device))
        for m in metrics:
            m.update(features, logits)
    results: dict[str, float] = {}
    num_real = real.shape[0] if real is not None else 0
    for m in metrics:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            results |= m.compute(num_real, num_fake)
    return results


def evaluate_model(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    metrics: list[SampleMetric],
    extractor: FeatureExtractor,
    *,
    num_samples: int = 10_000,
    real_split: str = "train",
    num_real: int | None = None,
    batch_size: int = 250,
    seed: int = 0,
    cache: RealFeatureCache | None = None,
    show_progress: bool = False,
    real: Tensor | None = None,
) -> dict[str, float]:
    """``metrics`` of ``num_samples`` images from ``model.sample`` against the ``real_split`` of the data.

    Works in one process or under DDP (call it on every process); the result is the same either way.
    ``real``: the features of the real images when the caller has them already (as
    :func:`~gan_zoo.metrics.real_features` gives them); they are extracted otherwise.
    """
    if num_samples < 2:
        raise ValueError(f"num_samples must be at least 2, got {num_samples}")
    if real is None and any(m.uses_real for m in metrics):
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
    return evaluate_generated(
        model, metrics, extractor, real, num_samples=num_samples, batch_size=batch_size, seed=seed,
        show_progress=show_progress,
    )  # fmt: skip


def evaluate_generated(
    model: pl.LightningModule,
    metrics: list[SampleMetric],
    extractor: FeatureExtractor,
    real: Tensor | None,
    *,
    num_samples: int,
    batch_size: int = 250,
    seed: int = 0,
    show_progress: bool = False,
) -> dict[str, float]:
    """``metrics`` of ``num_samples`` images from ``model.sample`` (see
    :func:`~gan_zoo.metrics.streams.generated_batches`) against the features ``real`` ``[N, D]``."""
    fakes = (
        images
        for images, _ in generated_batches(model, num_samples, batch_size, seed, show_progress=show_progress)
    )
    return evaluate_samples(
        metrics, extractor, fakes, num_samples, real, batch_size=batch_size, seed=seed, device=model.device
    )
