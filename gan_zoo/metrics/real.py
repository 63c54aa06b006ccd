"""Features of a real split: read from the cache, or computed once (sharded over processes) and cached."""

from __future__ import annotations

import hashlib

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import Dataset

from gan_zoo.metrics.cache import RealFeatureCache, cache_key
from gan_zoo.metrics.distributed import all_ranks_agree, gather_rows, rank_and_world, shard
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.streams import as_uint8, dataset_batches, split_dataset


def content_hash(dataset: Dataset, num_images: int, probes: int = 64) -> str:
    """A hash of up to ``probes`` images spread evenly over the first ``num_images`` of ``dataset``."""
    digest = hashlib.sha256()
    for index in torch.linspace(0, num_images - 1, min(probes, num_images)).long().tolist():
        item = dataset[index]
        image = as_uint8(item[0] if isinstance(item, (tuple, list)) else item)
        digest.update(image.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def real_features(
    datamodule: pl.LightningDataModule,
    split: str,
    extractor: FeatureExtractor,
    *,
    batch_size: int = 250,
    num_images: int | None = None,
    cache: RealFeatureCache | None = None,
    device: torch.device | str = "cpu",
    show_progress: bool = False,
) -> Tensor:
    """Features ``[N, D]`` (on the CPU) of the first ``num_images`` (default: all) images of ``split``.

    With a ``cache`` the features are read back when the key matches; otherwise each process extracts
    its contiguous share, the shares are gathered on every process, and rank 0 writes the cache entry.
    Every process returns the whole matrix.
    """
    dataset, collate_fn = split_dataset(datamodule, split)
    n = len(dataset) if num_images is None else min(num_images, len(dataset))
    key = None
    if cache is not None:
        first = dataset[0]
        resolution = tuple(as_uint8(first[0] if isinstance(first, (tuple, list)) else first).shape)
        dataset_name = f"{type(datamodule).__module__}.{type(datamodule).__qualname__}"
        key = cache_key(
            dataset_name,
            split,
            resolution,
            n,
            content_hash(dataset, n),
            extractor.name,
            extractor.fingerprint(),
        )
        cached = cache.load(key)
        if all_ranks_agree(cached is not None, torch.device(device)):
            return cached

    rank, world = rank_and_world()
    extractor = extractor.to(device)
    batches = dataset_batches(
        dataset,
        collate_fn,
        shard(n, rank, world),
        batch_size,
        description=f"{split} features",
        show_progress=show_progress,
    )
    mine = [extractor.extract(images.to(device))[0] for images in batches]
    features = gather_rows(
        torch.cat(mine) if mine else torch.empty(0, extractor.num_features, device=device)
    ).cpu()
    if cache is not None and rank == 0:
        cache.save(key, features)
    return features
