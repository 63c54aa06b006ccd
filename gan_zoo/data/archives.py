"""Fetching dataset files: verified downloads, and tar extraction that never half-finishes.

torchvision.datasets.utils does the transfer (``download_url``: redirects, Google Drive, a progress
bar) and the md5 (``calculate_md5``). What it does not do, and this module adds around it:

* A file takes its name only once verified. ``download_url`` writes to the final name and, on a bad
  checksum, raises "File not found or corrupted." with the bad file left in place; the data modules
  here recognise a dataset by its files (an md5 of 800 MB on every run would cost seconds), so a
  corrupt file must never sit under a good name.
* SHA-256 and sizes: the Stanford Dogs digests on record (TensorFlow Datasets') are SHA-256, which
  torchvision does not check.
* Errors that say what to do: which file, from where, the expected checksum, and (through
  :func:`explained`) where to put the files by hand and the offline flag; a failed download leaves no
  folder behind that it created.
* Extraction through a staging folder: torchvision's ``extract_archive`` unpacks in place, so an
  interrupted extraction leaves a half-filled folder that looks complete.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.error
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from torchvision.datasets.utils import calculate_md5, download_url

from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.errors import GanZooError


@dataclass(frozen=True)
class Resource:
    """A file of an official dataset release: where it lives and how to recognise it.

    Args:
        name: file name (``images.tar``).
        urls: where to download it, mirrors in the order to try them.
        md5: its MD5 digest, hex (what torchvision records).
        sha256: its SHA-256 digest, hex.
        size: its size in bytes.
        contents: the top-level entries an archive unpacks to (``("Images",)``); empty for a file
            used as it is.
    """

    name: str
    urls: tuple[str, ...]
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    contents: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def checksum(self) -> tuple[str, str] | None:
        """``(algorithm, expected digest)``, SHA-256 when known."""
        if self.sha256:
            return "sha256", self.sha256
        return ("md5", self.md5) if self.md5 else None

    def extracted(self, root: Path) -> bool:
        return all((root / entry).exists() for entry in self.contents)


class DownloadError(GanZooError, OSError):
    """A file could not be downloaded (no network, a server error, a bad checksum)."""


class IntegrityError(DownloadError):
    """A downloaded file does not have the expected size or digest."""


class DamagedArchiveError(GanZooError, OSError):
    """An archive that cannot be unpacked."""


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_verified(resource: Resource, root: Path) -> Path:
    """Download ``resource`` into ``root``, checking its size and digest before it takes its name.

    The download goes to ``<name>.part``; a file that fails the check is deleted. Mirrors are tried
    in order until one gives the right file.

    Raises:
        IntegrityError: what arrived had another size or digest (and was deleted).
        DownloadError: no mirror could be reached.
    """
    root.mkdir(parents=True, exist_ok=True)
    part = root / f"{resource.name}.part"
    failures, corrupt = [], False
    for url in resource.urls:
        part.unlink(missing_ok=True)  # our own leftover from an interrupted download
        try:
            download_url(url, root, part.name)
        except (urllib.error.URLError, OSError, RuntimeError) as error:
            part.unlink(missing_ok=True)
            failures.append(f"{url}: {getattr(error, 'reason', None) or error}")
            continue
        problem = _problem(part, resource)
        if problem is None:
            return part.rename(root / resource.name)
        part.unlink()
        corrupt = True
        failures.append(f"{url}: corrupt, {problem}")
    if corrupt:
        raise IntegrityError(
            f"the download of {resource.name} failed its check, deleted ({'; '.join(failures)})"
        )
    raise DownloadError(f"could not download {resource.name} ({'; '.join(failures)})")


def _problem(path: Path, resource: Resource) -> str | None:
    """What is wrong with the downloaded ``path``; ``None`` when its size and digest are right."""
    size = path.stat().st_size
    if resource.size is not None and size != resource.size:
        return f"{size} bytes, expected {resource.size}"
    if resource.checksum is not None:
        algorithm, expected = resource.checksum
        digest = sha256_of(path) if algorithm == "sha256" else calculate_md5(path)
        if digest != expected:
            return f"{algorithm} {digest}, expected {expected}"
    return None


@contextmanager
def explained(dataset: str, files: Sequence[str], target: Path) -> Iterator[None]:
    """Turn a :class:`DownloadError` inside the block into a :class:`DatasetNotFoundError` that also
    says where to put ``files`` by hand and how to stop downloading; folders the block created and
    left empty are removed."""
    created = [d for d in (target, *target.parents) if not d.exists()]  # deepest first
    try:
        yield
    except DownloadError as error:
        for directory in created:
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise DatasetNotFoundError(
            f"{dataset}: {error}. Without a network, put {', '.join(files)} in {target} and set "
            "download: false (CLI: --data.download false)."
        ) from error


def extract_tar(path: Path, root: Path) -> None:
    """Unpack the tar file ``path`` (compressed or not) into ``root``.

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
        raise DamagedArchiveError(
            f"cannot extract {path}: {error}; the file is damaged, fetch it again"
        ) from error
    for entry in staging.iterdir():
        if not (root / entry.name).exists():
            entry.rename(root / entry.name)
    shutil.rmtree(staging)
