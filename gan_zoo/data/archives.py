"""Fetching and unpacking dataset archives: verified downloads, tar extraction that never half-finishes."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from torchvision.datasets.utils import download_url


@dataclass(frozen=True)
class Archive:
    """An official archive: where it lives, how to recognise it and what it unpacks to.

    Args:
        name: file name (``images.tar``).
        url: where to download it.
        size: its size in bytes.
        sha256: its SHA-256 digest, hex.
        contents: the top-level entries it unpacks to (``("Images",)``).
    """

    name: str
    url: str
    size: int
    sha256: str
    contents: tuple[str, ...]

    def extracted(self, root: Path) -> bool:
        return all((root / entry).exists() for entry in self.contents)


class IntegrityError(OSError):
    """A downloaded file does not have the expected size or digest."""


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_verified(archive: Archive, root: Path) -> Path:
    """Download ``archive`` into ``root``, checking its size and SHA-256 before it takes its name.

    The download goes to ``<name>.part``; a file that fails the check is deleted and
    :class:`IntegrityError` raised, so a bad download never looks like a good archive.
    """
    root.mkdir(parents=True, exist_ok=True)
    part = root / f"{archive.name}.part"
    part.unlink(missing_ok=True)  # our own leftover from an interrupted download
    download_url(archive.url, root, part.name)
    size = part.stat().st_size
    problem = f"size {size} bytes, expected {archive.size}" if size != archive.size else None
    if problem is None and (digest := sha256_of(part)) != archive.sha256:
        problem = f"sha256 {digest}, expected {archive.sha256}"
    if problem:
        part.unlink()
        raise IntegrityError(f"download of {archive.url} is corrupt ({problem}); deleted it, try again")
    return part.rename(root / archive.name)


def extract_tar(path: Path, root: Path) -> None:
    """Unpack the tar file ``path`` into ``root``.

    Members go to a staging folder first and each top-level entry is then moved into ``root``, so an
    interrupted extraction never leaves a half-filled ``Images/`` that looks complete. Entries that
    already exist in ``root`` are left as they are. Member paths are checked by tarfile's ``data``
    filter (no absolute paths, no ``..``, no device files).
    """
    staging = root / f".{path.name}.extracting"
    shutil.rmtree(staging, ignore_errors=True)  # our own leftover from an interrupted extraction
    try:
        with tarfile.open(path) as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, EOFError, OSError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OSError(f"cannot extract {path}: {error}; the file is damaged, fetch it again") from error
    for entry in staging.iterdir():
        if not (root / entry.name).exists():
            entry.rename(root / entry.name)
    shutil.rmtree(staging)
