"""A pre-emption at a chosen point: a callback that SIGKILLs its own process.

The kill-and-resume tests add it to a ``gan-zoo fit`` subprocess with ``--trainer.callbacks+=...``; this
directory is on the subprocess's ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import pytorch_lightning as pl


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
            os.kill(os.getpid(), signal.SIGKILL)
