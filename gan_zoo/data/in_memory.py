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
        index = self._index(indices)
        return self.images[index], self.labels[index]

    def _index(self, indices: Sequence[int]) -> Tensor:
        # On an accelerator the index list is copied non-blocking: from pageable memory CUDA stages
        # it at once, without waiting for the kernels already queued (no host-device sync per batch).
        return torch.as_tensor(indices, dtype=torch.long).to(self.images.device, non_blocking=True)

    @property
    def device(self) -> torch.device:
        return self.images.device

    def to(self, device: torch.device | str) -> InMemoryImages:
        """Move the images (still uint8) and labels to ``device``, in place; returns ``self``."""
        self.images, self.labels = self.images.to(device), self.labels.to(device)
        return self

    def subset(self, indices: Tensor) -> InMemoryImages:
        return InMemoryImages(self.images[indices], self.labels[indices])


def keep_batch(batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """``collate_fn`` for :class:`InMemoryImages`: the batch is already stacked."""
    return batch
