"""Carry the random number generators through a checkpoint, so a resumed run draws the same latents.

Lightning saves weights, optimizers, schedulers and loop counters but not the RNG streams. Latents
(``torch.randn`` in the training step), dropout masks and any other draw from the global generators
would differ after a resume. This callback saves the torch (CPU and CUDA), NumPy and Python states in
every checkpoint (those of every process, under data parallelism) and puts them back just before the
first training batch after a resume: the point the interrupted run had reached, since nothing between a
checkpoint and the next batch draws from them. The data order has its own generator
(:class:`~gan_zoo.data.sampler.ResumableRandomSampler`), and validation, which draws latents too, runs
on a fork of the streams: a run that validates after a checkpoint and one resumed from it train on.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from gan_zoo.lightning_compat import Callback


def capture() -> dict[str, Any]:
    """The global RNG states, as tensors and plain Python values (loadable with weights_only=True)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached],
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class RandomState(Callback):
    """Saves the RNG states in checkpoints; restores them before the first batch after a resume.

    The saved state is that of process 0 (a single-process run's only one), with ``"ranks"`` holding
    every process's under data parallelism; each process takes back its own.
    """

    def __init__(self) -> None:
        self._to_restore: dict[str, Any] | None = None
        self._outside_validation: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        # Lightning builds a checkpoint's contents on every process, so every process is here.
        state = capture()
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            ranks: list[Any] = [None] * dist.get_world_size()
            dist.all_gather_object(ranks, state)
            state = {**ranks[0], "ranks": ranks}
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._to_restore = state_dict

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
        if self._to_restore is not None:
            saved = self._to_restore.get("ranks") or [self._to_restore]
            # A run with another number of processes cannot continue the streams: it keeps its own.
            if len(saved) == trainer.world_size:
                restore(saved[trainer.global_rank])
            self._to_restore = None

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self._outside_validation = capture()

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        # Before ModelCheckpoint's on_validation_end (Lightning runs checkpoint callbacks last).
        if self._outside_validation is not None:
            restore(self._outside_validation)
            self._outside_validation = None
