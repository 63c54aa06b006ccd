"""Run directories: a fresh run never writes into old results; a resume continues its own directory.

``runs/<model>-<data>/version_N`` holds one run. ``gan-zoo fit ... --ckpt_path last`` resumes the
newest version that has a loadable checkpoint, in place; without ``--ckpt_path`` a run gets a new
version, and pointing a fresh run at a directory with results is refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from gan_zoo.checkpoints import newest_loadable
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
    """The highest ``version_N`` under ``root`` holding a checkpoint that loads."""
    root = Path(root)
    return next(
        (v for v in versions(root) if newest_loadable(root / f"version_{v}" / CHECKPOINT_SUBDIR)), None
    )


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
