"""Carry the random number generators through a checkpoint, so a resumed run draws the same latents.

Lightning saves weights, optimizers, schedulers and loop counters but not the RNG streams. Latents
(``torch.randn`` in the training step), dropout masks and any other draw from the global generators
would differ after a resume. This callback saves the torch (CPU and CUDA), NumPy and Python states in
every checkpoint and puts them back just before the first training batch after a resume — the point
the interrupted run had reached, since nothing between a checkpoint and the next batch draws from them
(the data order has its own generator, :class:`~gan_zoo.data.sampler.ResumableRandomSampler`).
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch

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
    """Saves the RNG states in checkpoints; restores them before the first batch after a resume."""

    def __init__(self) -> None:
        self._to_restore: dict[str, Any] | None = None

    def state_dict(self) -> dict[str, Any]:
        return capture()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._to_restore = state_dict

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, i: int
    ) -> None:
        if self._to_restore is not None:
            restore(self._to_restore)
            self._to_restore = None
