"""Pre-emption at a chosen point: callbacks that SIGKILL their own run.

The kill-and-resume tests add them to a ``gan-zoo fit`` subprocess with ``--trainer.callbacks+=...``; this
directory is on the subprocess's ``PYTHONPATH``. A run started in a session of its own
(``start_new_session=True``) with ``KILL_PROCESS_GROUP=1`` in its environment is killed as a whole, every
process of a multi-process run with it, as when a machine goes away; otherwise only the calling process.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch

#: Where in training :class:`KillAt` strikes with SIGKILL.
PHASES = ("batch_start", "optimizer_step", "checkpoint_write", "last_checkpoint_write")


#: Set by a harness that started the run in a session of its own: the whole process group may be killed.
GROUP_ENV = "KILL_PROCESS_GROUP"


def die() -> None:
    """SIGKILL this run: its process group when the harness allows it, else this process."""
    if os.environ.get(GROUP_ENV) == "1":
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


class KillAtStep(pl.Callback):
    """SIGKILL at the start of the first training batch once ``trainer.global_step >= step``.

    By then the batch that reached ``step`` has ended and its checkpoint is written (Lightning runs
    checkpoint callbacks after all others, and the write is synchronous), so the run resumes from
    exactly that point, whatever the machine's load.
    """

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, i: int
    ) -> None:
        if trainer.global_step >= self.step:
            die()


class KillAt(KillAtStep):
    """SIGKILL once ``trainer.global_step >= step``, at one of :data:`PHASES`:

    * ``batch_start``: before the next batch (the checkpoint of ``step`` is written);
    * ``optimizer_step``: inside the next batch's training step, before an optimizer step (for a GAN
      after the discriminator's forward and backward pass, or between its D and G updates);
    * ``checkpoint_write``: half-way through writing the next checkpoint file to disk;
    * ``last_checkpoint_write``: half-way through the second file written then (``last.ckpt``, after
      the step's own file);
    * ``sigterm``: not a kill: SIGTERM to the first process at the start of the next batch, as a
      scheduler sends before it kills (the run saves and exits by itself).
    """

    def __init__(self, step: int, phase: str = "batch_start") -> None:
        if phase not in (*PHASES, "sigterm"):
            raise ValueError(f"phase must be one of {PHASES} or 'sigterm', got {phase!r}")
        super().__init__(step)
        self.phase = phase
        self.writes = 0
        self.signalled = False

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, i: int
    ) -> None:
        if self.phase == "batch_start":
            super().on_train_batch_start(trainer, pl_module, batch, i)
        elif self.phase == "sigterm" and trainer.global_step >= self.step and not self.signalled:
            self.signalled = True
            if trainer.is_global_zero:  # one process hears it; they agree to stop together
                os.kill(os.getpid(), signal.SIGTERM)

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: Any
    ) -> None:
        if self.phase == "optimizer_step" and trainer.global_step >= self.step:
            die()

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.phase not in ("checkpoint_write", "last_checkpoint_write"):
            return
        checkpoint_io = trainer.strategy.checkpoint_io
        save = checkpoint_io.save_checkpoint
        nth = 1 if self.phase == "checkpoint_write" else 2

        def save_or_die(checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
            if trainer.global_step >= self.step:
                self.writes += 1
                if self.writes == nth:
                    data = io.BytesIO()
                    torch.save(checkpoint, data)
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                    with open(Path(path), "wb") as f:  # half a file on disk, as a kill mid-write leaves
                        f.write(data.getvalue()[: len(data.getvalue()) // 2])
                        f.flush()
                        os.fsync(f.fileno())
                    die()
            save(checkpoint, path, storage_options)

        checkpoint_io.save_checkpoint = save_or_die
