"""The training order: a permutation per epoch drawn from ``(seed, epoch)``, resumable mid-epoch.

``DataLoader(shuffle=True)`` draws each epoch's permutation from the global torch RNG when the
iterator is created, so the data order depends on everything else that consumed random numbers, and a
resumed run (which creates its iterator at a different moment) sees another order. Here the order is a
pure function of ``(seed, epoch)``, and the position within the epoch travels through a checkpoint, so
a run resumed at any batch continues with exactly the batches the interrupted run would have seen.

The sampler is the sampler of a torchdata ``StatefulDataLoader``, whose state Lightning saves in the
checkpoint and restores on resume by itself. The loader asks the sampler for its state
(:meth:`~ResumableRandomSampler.state_dict`) at the batch it last handed out, also when worker
processes have fetched ahead. torchdata's own ``RandomSampler`` resumes too, but draws its permutation
from a generator that advances with every epoch, so the order of epoch ``e`` would depend on how many
epochs this process has iterated; and it knows nothing of epochs, so a checkpoint written after an
epoch's last batch (with ``limit_train_batches``, before the sampler is exhausted) would resume the
old epoch instead of starting the next. Here a position at the end of the epoch as the trainer runs
it is saved as the start of the next epoch.

Under data parallelism every process draws the same permutation and takes every ``num_replicas``-th
index of it (``torch.utils.data.DistributedSampler``'s split, which also pads the permutation so that
all processes get as many indices), so a mid-epoch resume skips the same batches on every process. Being
a ``DistributedSampler``, it is used as it is: Lightning does not wrap it in its own distributed sampler.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler


class ResumableRandomSampler(DistributedSampler):
    """Indices ``0 … size-1`` in the order of ``randperm(size)`` seeded with ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch; on a resume, after the loader's iterator is
    created (and its workers have started fetching). :meth:`state_dict` / :meth:`load_state_dict`
    carry ``(epoch, indices handed out)`` through a checkpoint; a loaded position applies to the next
    iteration over that same epoch, and is dropped when :meth:`set_epoch` moves on to another.

    Args:
        size: number of examples.
        batch_size: examples per batch of one process.
        seed: seed of the epoch permutations.
        epoch_length: batches in an epoch as the trainer runs it (``limit_train_batches`` included),
            asked when the state is saved; by default all full batches of this process.
        num_replicas: processes sharing the data; by default the size of the initialized
            ``torch.distributed`` process group, else 1.
        rank: this process's index among them; by default its rank in that group, else 0.
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        seed: int = 0,
        epoch_length: Callable[[], float] | None = None,
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
        self.epoch_length = epoch_length or (lambda: len(self) // batch_size)
        self.epoch = 0
        self.yielded = 0  # indices of the current epoch handed out
        self._skip = 0  # indices to skip at the start of the next iteration (after a resume)

    def permutation(self, epoch: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.size, generator=generator)

    def set_epoch(self, epoch: int) -> None:
        if epoch != self.epoch:
            self.epoch, self.yielded, self._skip = epoch, 0, 0

    def __iter__(self) -> Iterator[int]:
        # The epoch is read at the first index, not when the iterator is created: Lightning creates the
        # iterator before it calls set_epoch.
        order = self.permutation(self.epoch)
        if self.num_replicas > 1:  # pad to a multiple of the processes, then every num_replicas-th index
            padded = order.repeat(math.ceil(len(self) * self.num_replicas / self.size))
            order = padded[: len(self) * self.num_replicas][self.rank :: self.num_replicas]
        order = order.tolist()
        self.yielded, self._skip = self._skip, 0
        for index in order[self.yielded :]:
            self.yielded += 1
            yield index

    def __len__(self) -> int:
        """Indices of one epoch for this process."""
        return math.ceil(self.size / self.num_replicas)

    def state_dict(self) -> dict[str, Any]:
        """Where the epoch stands; a finished epoch is saved as the start of the next one (with worker
        processes the next epoch's first batches are fetched before Lightning sets its epoch)."""
        if self.yielded >= self.epoch_length() * self.batch_size:
            return {"epoch": self.epoch + 1, "yielded": 0}
        return {"epoch": self.epoch, "yielded": self.yielded}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.yielded, self._skip = state["epoch"], state["yielded"], state["yielded"]
