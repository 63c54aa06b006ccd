"""The error every data module raises when its files are missing."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gan_zoo.errors import GanZooError


class DatasetNotFoundError(GanZooError, FileNotFoundError):
    """A dataset's files are not where the data module looked."""

    @classmethod
    def build(
        cls, name: str, files: Iterable[str], searched: Iterable[Path], target: Path, hint: str = ""
    ) -> DatasetNotFoundError:
        where = ", ".join(str(p) for p in searched)
        message = (
            f"{name} not found (looked in: {where}). Use download=True (CLI: --data.download true), "
            f"or put {', '.join(files)} in {target}."
        )
        return cls(message + (f" {hint}" if hint else ""))
