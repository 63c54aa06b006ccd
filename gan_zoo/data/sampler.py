"""The training order: a permutation per epoch drawn from ``(seed, epoch)``, resumable mid-epoch.

``DataLoader(shuffle=True)`` draws each epoch's permutation from the global torch RNG when the
iterator is created, so the data order depends on everything else that consumed random numbers, and a
resumed run (which creates its iterator at a different moment) sees another order. Here the order is a
pure function of ``(seed, epoch)`` and the position within the epoch is checkpointed, so a run resumed
at any batch continues with exactly the batches the interrupted run would have seen.

Under data parallelism every process draws the same permutation and takes every ``num_replicas``-th
index of it (``torch.utils.data.DistributedSampler``'s split, which also pads the permutation so that
all processes get as many indices), so a mid-epoch resume skips the same batches on every process. Being
a ``DistributedSampler``, it is used as it is: Lightning does not wrap it in its own distributed sampler.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

# Lightning warns on every mid-epoch resume unless the DataLoader itself has a state_dict; the position
# lives in the data module's state instead (ImageDataModule.state_dict), which Lightning restores.
warnings.filterwarnings(
    "ignore",
    message="You're resuming from a checkpoint that ended before the epoch ended and your dataloader",
)


class ResumableRandomSampler(DistributedSampler):
    """Indices ``0 … size-1`` in the order of ``randperm(size)`` seeded with ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch. The data module counts the batches handed to
    training (:meth:`batch_consumed`, not the ones prefetched), and :meth:`state_dict` /
    :meth:`load_state_dict` carry ``(epoch, batches consumed)`` through a checkpoint.

    Args:
        size: number of examples.
        batch_size: examples per batch of one process (to turn consumed batches into skipped indices).
        seed: seed of the epoch permutations.
        num_replicas: processes sharing the data; by default the size of the initialized
            ``torch.distributed`` process group, else 1.
        rank: this process's index among them; by default its rank in that group, else 0.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        seed: int = 0,
        num_replicas: int | None = None,
        rank: int | None = None,
    ) -> None:
        distributed = dist.is_available() and dist.is_initialized()
        if num_replicas is None:
            num_replicas = dist.get_world_size() if distributed else 1
        if rank is None:
            rank = dist.get_rank() if distributed and num_replicas > 1 else 0
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank must lie in [0, {num_replicas}), got {rank}")
        # Not DistributedSampler.__init__: it wants a dataset, and this sampler knows only its size.
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.num_replicas, self.rank = num_replicas, rank
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
        if self.num_replicas > 1:  # pad to a multiple of the processes, then every num_replicas-th index
            padded = order.repeat(math.ceil(len(self) * self.num_replicas / self.size))
            order = padded[: len(self) * self.num_replicas][self.rank :: self.num_replicas]
        self.consumed, skip, self._skip = self._skip, self._skip, 0
        yield from order[skip * self.batch_size :].tolist()

    def __len__(self) -> int:
        """Indices of one epoch for this process."""
        return math.ceil(self.size / self.num_replicas)

    def batch_consumed(self) -> None:
        self.consumed += 1

    def state_dict(self, epoch_length: int | float) -> dict[str, Any]:
        """Where training stands; a finished epoch is saved as the start of the next one."""
        if self.consumed >= epoch_length:
            return {"epoch": self.epoch + 1, "consumed": 0}
        return {"epoch": self.epoch, "consumed": self.consumed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self._skip, self.consumed = state["epoch"], state["consumed"], state["consumed"]
