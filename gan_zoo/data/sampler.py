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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import Sampler


class ResumableRandomSampler(Sampler[int]):
    """Indices ``0 … size-1`` in the order of ``randperm(size)`` seeded with ``(seed, epoch)``.

    Lightning calls :meth:`set_epoch` before each epoch; on a resume, after the loader's iterator is
    created (and its workers have started fetching). :meth:`state_dict` / :meth:`load_state_dict`
    carry ``(epoch, indices handed out)`` through a checkpoint; a loaded position applies to the next
    iteration over that same epoch, and is dropped when :meth:`set_epoch` moves on to another.

    Args:
        size: number of examples.
        batch_size: examples per batch.
        seed: seed of the epoch permutations.
        epoch_length: batches in an epoch as the trainer runs it (``limit_train_batches`` included),
            asked when the state is saved; by default all full batches.
    """

    def __init__(
        self, size: int, batch_size: int, seed: int = 0, epoch_length: Callable[[], float] | None = None
    ) -> None:
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.epoch_length = epoch_length or (lambda: size // batch_size)
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
        order = self.permutation(self.epoch).tolist()
        self.yielded, self._skip = self._skip, 0
        for index in order[self.yielded :]:
            self.yielded += 1
            yield index

    def __len__(self) -> int:
        return self.size

    def state_dict(self) -> dict[str, Any]:
        """Where the epoch stands; a finished epoch is saved as the start of the next one (with worker
        processes the next epoch's first batches are fetched before Lightning sets its epoch)."""
        if self.yielded >= self.epoch_length() * self.batch_size:
            return {"epoch": self.epoch + 1, "yielded": 0}
        return {"epoch": self.epoch, "yielded": self.yielded}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch, self.yielded, self._skip = state["epoch"], state["yielded"], state["yielded"]
