"""Run directories: a fresh run never writes into old results; a resume continues its own directory.

``runs/<model>-<data>/version_N`` holds one run (``runs`` is ``--trainer.default_root_dir``).
``gan-zoo fit ... --ckpt_path last`` resumes the newest version that has a readable checkpoint, in
place, from its newest readable checkpoint; without ``--ckpt_path`` a run gets a new version, and
pointing a fresh run at a directory with results is refused.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import torch

from gan_zoo.checkpoints import allow_zoo_objects
from gan_zoo.errors import RunDirectoryExistsError

CHECKPOINT_SUBDIR = "checkpoints"
_VERSION = re.compile(r"^version_(\d+)$")


def versions(root: str | Path) -> list[int]:
    """The ``version_N`` numbers under ``root``, newest (highest) first."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = (_VERSION.match(p.name) for p in root.iterdir() if p.is_dir())
    return sorted((int(m.group(1)) for m in found if m), reverse=True)


def latest_resumable_version(root: str | Path) -> int | None:
    """The highest ``version_N`` under ``root`` holding a readable checkpoint."""
    root = Path(root)
    return next(
        (v for v in versions(root) if newest_checkpoint(root / f"version_{v}" / CHECKPOINT_SUBDIR)[0]), None
    )


def readable(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a whole ``torch.save`` file: not cut short, not a link to a removed file.

    Only the archive's index and the pickled structure are read (the tensors are memory-mapped, not
    loaded), and no code from the file runs: a file whose objects need full unpickling counts as
    readable here, and its loading is judged where it is loaded.
    """
    try:
        with allow_zoo_objects():
            torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except pickle.UnpicklingError as error:
        return "Unsupported global" in str(error)
    except Exception:  # cut short, not an archive, a link to nothing: none can be resumed from
        return False
    return True


def newest_checkpoint(directory: str | os.PathLike) -> tuple[Path | None, list[Path]]:
    """The most recently written ``*.ckpt`` in ``directory`` that is :func:`readable`, and the newer
    ones that are not (cut short by a kill on a filesystem without atomic rename, a full disk, or a
    ``last.ckpt`` link whose target was removed), newest first.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None, []
    # lstat: a link is as new as the moment it was made, and one whose target is gone still sorts.
    candidates = sorted(directory.glob("*.ckpt"), key=lambda p: p.lstat().st_mtime_ns, reverse=True)
    unreadable = []
    for path in candidates:
        if readable(path):
            return path, unreadable
        unreadable.append(path)
    return None, unreadable


def holds_results(log_dir: str | Path) -> bool:
    log_dir = Path(log_dir)
    return log_dir.is_dir() and any(log_dir.iterdir())


def ensure_fresh(log_dir: str | Path) -> None:
    """Raise :class:`RunDirectoryExistsError` when a new run would write into ``log_dir``'s results."""
    if holds_results(log_dir):
        raise RunDirectoryExistsError(
            f"run directory {log_dir} already holds results; resume it with --ckpt_path last, or "
            "leave --trainer.logger.version unset to start a new version"
        )


def resume_config_name(log_dir: str | Path) -> str:
    """``config.yaml`` for the first run in a directory, ``config.resume-K.yaml`` for the K-th resume."""
    log_dir = Path(log_dir)
    if not (log_dir / "config.yaml").exists():
        return "config.yaml"
    k = 1
    while (log_dir / f"config.resume-{k}.yaml").exists():
        k += 1
    return f"config.resume-{k}.yaml"
