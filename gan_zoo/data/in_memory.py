"""A dataset of uint8 images held in one tensor, fetched a whole batch per indexing operation."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset


class InMemoryImages(Dataset):
    """uint8 images ``[N, C, H, W]`` with long labels ``[N]``.

    The DataLoader calls :meth:`__getitems__` with a whole batch of indices, so a batch costs one
    gather instead of ``batch_size`` Python calls and a collate; use :func:`keep_batch` as the
    loader's ``collate_fn``.
    """

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"expected uint8 images [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
        if labels.shape != images.shape[:1]:
            raise ValueError(f"{images.shape[0]} images but labels of shape {tuple(labels.shape)}")
        self.images, self.labels = images, labels.long()

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images[index], self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long)
        return self.images[index], self.labels[index]

    def subset(self, indices: Tensor) -> InMemoryImages:
        return InMemoryImages(self.images[indices], self.labels[indices])


def keep_batch(batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """``collate_fn`` for :class:`InMemoryImages`: the batch is already stacked."""
    return batch
