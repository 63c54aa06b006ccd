"""The training order: a permutation per epoch drawn from ``(seed, epoch)``, resumable mid-epoch.

``DataLoader(shuffle=True)`` draws each epoch's permutation from the global torch RNG when the
iterator is created, so the data order depends on everything else that consumed random numbers, and a
resumed run (which creates its iterator at a different moment) sees another order. Here the order is a
pure function of ``(seed, epoch)`` and the position within the epoch is checkpointed, so a run resumed
at any batch continues with exactly the batches the interrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import Sampler


class ResumableRandomSampler(Sampler[int]):
    """Indices ``0 … size-1`` in the order of ``randperm(size)`` seeded with ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch. The data module counts the batches handed to
    training (:meth:`batch_consumed`, not the ones prefetched), and :meth:`state_dict` /
    :meth:`load_state_dict` carry ``(epoch, batches consumed)`` through a checkpoint.

    Args:
        size: number of examples.
        batch_size: examples per batch (to turn consumed batches into skipped indices).
        seed: seed of the epoch permutations.
    """

    def __init__(self, size: int, batch_size: int, seed: int = 0) -> None:
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.epoch = 0
        self.consumed = 0  # batches of the current epoch handed to training
        self._skip = 0  # batches to skip at the start of the next iteration (after a resume)

    def permutation(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.size, generator=generator)

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self.consumed, self._skip = epoch, 0, 0

    def __iter__(self) -> Iterator[int]:
        order = self.permutation(self.epoch)
        self.consumed, skip, self._skip = self._skip, self._skip, 0
        yield from order[skip * self.batch_size :].tolist()

    def __len__(self) -> int:
        return self.size

    def batch_consumed(self) -> None:
        self.consumed += 1

    def state_dict(self, epoch_length: int | float) -> dict[str, Any]:
        """Where training stands; a finished epoch is saved as the start of the next one."""
        if self.consumed >= epoch_length:
            return {"epoch": self.epoch + 1, "consumed": 0}
        return {"epoch": self.epoch, "consumed": self.consumed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self._skip, self.consumed = state["epoch"], state["consumed"], state["consumed"]
