"""``ModelCheckpoint`` whose files are whole or absent: temp file, fsync, rename.

A kill or a full disk while saving leaves the previous ``last.ckpt`` in place, never half a file.
Lightning's own save goes through an fsspec transaction (rename, no fsync); this adds the fsyncs that
make the rename survive a power cut, and keeps the temporary file out of Lightning's ``last*.ckpt``
pattern and gan_zoo's ``*.ckpt`` resume search.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytorch_lightning as pl

from gan_zoo.lightning_compat import ModelCheckpoint


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


class AtomicModelCheckpoint(ModelCheckpoint):
    """Lightning's ``ModelCheckpoint`` (same arguments), writing each file atomically and durably."""

    def _save_checkpoint(self, trainer: pl.Trainer, filepath: str) -> None:
        partial = partial_path(filepath)
        super()._save_checkpoint(trainer, str(partial))  # every rank takes part; rank 0 writes
        if trainer.is_global_zero:
            durable_replace(partial, filepath)
        trainer.strategy.barrier("atomic_checkpoint")
        self._last_checkpoint_saved = filepath
