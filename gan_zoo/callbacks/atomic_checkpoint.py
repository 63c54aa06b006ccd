"""``ModelCheckpoint`` whose files are whole or absent: temp file, fsync, rename.

A kill or a full disk while saving leaves the previous ``last.ckpt`` in place, never half a file.
Lightning's own save goes through an fsspec transaction (rename, no fsync); this adds the fsyncs that
make the rename survive a power cut, and keeps the temporary file out of Lightning's ``last*.ckpt``
pattern and gan_zoo's ``*.ckpt`` resume search.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytorch_lightning as pl

from gan_zoo.lightning_compat import (
    ModelCheckpoint,
    as_automatic_optimization,
    quiet_checkpoint_restore,
    start_epoch_after_resume_from_last_batch,
)


def durable_replace(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move ``source`` over ``target`` atomically, with its bytes and the rename flushed to disk."""
    with open(source, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(source, target)
    if hasattr(os, "O_DIRECTORY"):  # POSIX: the rename itself lives in the directory entry
        directory = os.open(Path(target).parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def partial_path(filepath: str | os.PathLike) -> Path:
    """Where ``filepath`` is written before it is renamed into place."""
    filepath = Path(filepath)
    return filepath.with_name(f".{filepath.name}.partial")


def save_atomically(trainer: pl.Trainer, filepath: str | os.PathLike, weights_only: bool = False) -> None:
    """``trainer.save_checkpoint(filepath)``, written to :func:`partial_path` and renamed into place.

    Every process must call it (the checkpoint's contents are gathered from all of them); rank 0 writes.
    """
    partial = partial_path(filepath)
    trainer.save_checkpoint(partial, weights_only)
    if trainer.is_global_zero:
        durable_replace(partial, filepath)
    trainer.strategy.barrier("atomic_checkpoint")


class AtomicModelCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` (same arguments), writing each file atomically and durably.

    ``save_last="link"`` replaces ``last.ckpt`` by the new link in one rename as well. A kill between
    Lightning's removal of an older checkpoint and the new link can still leave ``last.ckpt`` pointing to
    a removed file; ``gan-zoo fit --ckpt_path last`` then says so and resumes from the newest file that
    loads.
    """

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        partial = partial_path(filepath)
        super()._save_checkpoint(trainer, str(partial))  # every rank takes part; rank 0 writes
        if trainer.is_global_zero:
            durable_replace(partial, filepath)
        trainer.strategy.barrier("atomic_checkpoint")
        self._last_checkpoint_saved = filepath
        self._saved_step = trainer.global_step

    @staticmethod
    def _link_checkpoint(trainer: pl.Trainer, filepath: str, linkpath: str) -> None:
        if trainer.is_global_zero and os.path.abspath(filepath) != os.path.abspath(linkpath):
            partial = partial_path(linkpath)
            partial.unlink(missing_ok=True)
            try:
                os.symlink(os.path.relpath(filepath, os.path.dirname(linkpath)), partial)
            except OSError:  # no symbolic links (Windows without the privilege): a copy, as Lightning does
                shutil.copy(filepath, partial)
            durable_replace(partial, linkpath)
        trainer.strategy.barrier("atomic_checkpoint")

    def save_last_now(self, trainer: pl.Trainer) -> Path:
        """Write ``last.ckpt`` (with the optimizer states, whatever ``save_weights_only`` says) in
        :attr:`dirpath` now, e.g. before the process is stopped; every process must call it."""
        filepath = Path(self.format_checkpoint_name({}, self.CHECKPOINT_NAME_LAST))
        self.last_model_path = str(filepath)  # part of this callback's saved state
        save_atomically(trainer, filepath)
        self._last_global_step_saved = self._saved_step = trainer.global_step  # nothing more to save here
        return filepath

    #: Set when the fit resumes from a checkpoint of this directory (``gan-zoo fit --ckpt_path``): its
    #: checkpoints are expected there. Otherwise Lightning warns about a directory that holds some.
    resuming: bool = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if not self.resuming:
            super().setup(trainer, pl_module, stage)
            return
        with quiet_checkpoint_restore():
            super().setup(trainer, pl_module, stage)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        with quiet_checkpoint_restore():  # validate/test write to a directory of their own
            super().load_state_dict(state_dict)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._first_step = trainer.global_step
        # A resume from a checkpoint written after an epoch's last batch (by this callback, with
        # every_n_train_steps or train_time_interval) must start the next epoch like an uninterrupted run.
        start_epoch_after_resume_from_last_batch(trainer)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # Lightning's branch for manual optimization ignores train_time_interval (see the function).
        super().on_train_batch_end(trainer, as_automatic_optimization(pl_module), outputs, batch, batch_idx)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning writes last.ckpt here only when this fit saved nothing at all, so with a time
        # interval the final weights were never saved. Here they are whenever they are not on disk yet;
        # a resumed run that found training finished trains nothing and writes nothing.
        trained = trainer.global_step != getattr(self, "_first_step", None)
        if self.save_last and trained and getattr(self, "_saved_step", None) != trainer.global_step:
            self.save_last_now(trainer)
