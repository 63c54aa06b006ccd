"""Stop cleanly when the machine is being taken away: SIGTERM → checkpoint → exit.

Cluster schedulers (SLURM, Kubernetes) and preemptible cloud machines send SIGTERM, then SIGKILL after
a grace period (often 30 s). On SIGTERM this callback lets the current training batch finish, writes
``last.ckpt`` through the run's checkpoint callback (atomically), prints one line naming the file, and
ends the process with exit status 143 (128 + SIGTERM, the status of a process stopped by SIGTERM), so a
retry loop or a scheduler sees an interrupted run, not a finished one. The next
``gan-zoo fit ... --ckpt_path last`` resumes from that checkpoint exactly.

The signal handler only records the signal: saving a file or talking to the other processes inside a
signal handler is unsafe (Lightning's own SIGTERM handler broadcasts to the other processes from inside
the handler, which can collide with a collective the training step is in). Under data parallelism the
processes agree after every batch (one tiny all-reduce) whether any of them was signalled, so all of
them stop after the same batch and write one checkpoint together.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import torch

from gan_zoo.callbacks.atomic_checkpoint import AtomicModelCheckpoint, save_atomically
from gan_zoo.errors import ConfigError
from gan_zoo.lightning_compat import Callback


class Preempted(SystemExit):
    """Training stopped on a signal after writing a checkpoint; ``code`` is 128 + the signal number."""

    def __init__(self, signum: int, checkpoint: Path) -> None:
        super().__init__(128 + signum)
        self.signum, self.checkpoint = signum, checkpoint


class PreemptionCheckpoint(Callback):
    """On SIGTERM (or the signals given), checkpoint after the current batch and exit.

    The signal is acted on after each training batch: a signal that arrives during a long validation
    or an epoch-end evaluation (FID) waits for the next batch, so keep those shorter than the grace
    period, or rely on the periodic checkpoints for that case.

    Args:
        signals: names of the signals that mean "save and stop", e.g. ``["SIGTERM", "SIGUSR1"]``
            (SLURM's ``--signal=USR1@120`` sends SIGUSR1 ahead of the time limit).
    """

    def __init__(self, signals: Sequence[str] = ("SIGTERM",)) -> None:
        unknown = [name for name in signals if not isinstance(getattr(signal, name, None), signal.Signals)]
        if unknown:
            raise ConfigError(
                f"preemption.signals: unknown signal names {unknown}; use names such as SIGTERM or SIGUSR1"
            )
        self.signals = [signal.Signals[name] for name in signals]
        self.received: int | None = None
        self._original: dict[int, Any] = {}

    # ------------------------------------------------------------------ the handler
    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum

    def _install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only
        for sig in self.signals:
            previous = signal.signal(sig, self._record)
            self._original.setdefault(sig, previous)

    def _uninstall(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig, previous in self._original.items():
                signal.signal(sig, previous)
        self._original.clear()

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        # The Trainer has put its own SIGTERM handler in place by now; ours replaces it until training
        # ends (Lightning puts back what was there before it when it tears down). A SIGTERM that came
        # before (during the sanity check) was recorded by Lightning's handler.
        self.received = int(signal.SIGTERM) if getattr(trainer, "received_sigterm", False) else None
        self._install()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._uninstall()

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self._uninstall()

    # ------------------------------------------------------------------ acting on it
    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        # Before the checkpoint callbacks' own on_train_batch_end (Lightning runs those last). The
        # decision is reduced over the processes every batch, so they all stop after this batch.
        signalled = trainer.strategy.reduce_boolean_decision(self.received is not None, all=False)
        if not signalled:
            return
        # The signal one of the processes received (the same one everywhere, as a rule).
        signum = int(trainer.strategy.reduce(torch.tensor(self.received or 0), reduce_op="max"))
        path = save_last(trainer)
        self._uninstall()
        if trainer.is_global_zero:
            print(
                f"{signal.Signals(signum).name} received: saved {path} at epoch {trainer.current_epoch}, "
                f"global step {trainer.global_step}; resume with --ckpt_path last (or ckpt_path=that file)",
                file=sys.stderr,
                flush=True,
            )
        raise Preempted(signum, path)


def save_last(trainer: Any) -> Path:
    """Write ``last.ckpt`` where the run's checkpoints go, atomically; every process must call it."""
    callback = trainer.checkpoint_callback
    if isinstance(callback, AtomicModelCheckpoint):
        return callback.save_last_now(trainer)
    directory = (
        getattr(callback, "dirpath", None)
        or Path(trainer.log_dir or trainer.default_root_dir) / "checkpoints"
    )
    path = Path(directory) / "last.ckpt"
    save_atomically(trainer, path)
    return path
