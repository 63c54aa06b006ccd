"""LSUN scenes (Yu, Zhang, Song, Seff & Xiao 2015, "LSUN: Construction of a Large-scale Image Dataset
using Deep Learning with Humans in the Loop", arXiv:1506.03365), read from the official lmdb exports.

Each category and split is one lmdb environment, a folder ``<category>_<split>_lmdb`` holding
``data.mdb`` and ``lock.mdb``; keys are image ids (40 hex digits), values the encoded images (WebP in
the current release, JPEG in the first), resized so that their shorter side is 256.

Not ``torchvision.datasets.LSUN``: it lists every key when it is built and pickles the list into a
``_cache_<root>`` file in the working directory (3 M keys for bedrooms, written wherever the command
runs, and silently stale if the database changes), it keeps the keys in a Python list (copied into
every DataLoader worker page by page, see :class:`~gan_zoo.data.encoded.StringTable`), it opens its
environment when built and hands it to forked workers (lmdb environments must not cross a fork, see
:func:`open_lmdb`), and it yields full-size PIL images, without the quirk handling of
:mod:`gan_zoo.data.quirks`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

import lmdb
import numpy as np

from gan_zoo.data.base import Split
from gan_zoo.data.encoded import EncodedImageDataModule, EncodedImages, StringTable
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.quirks import Quirks, check_image

DOWNLOAD_URL = "http://dl.yf.io/lsun/scenes/"
TOOLS_URL = "https://github.com/fyu/lsun"

#: The ten scene categories of the challenge release.
CATEGORIES: tuple[str, ...] = (
    "bedroom",
    "bridge",
    "church_outdoor",
    "classroom",
    "conference_room",
    "dining_room",
    "kitchen",
    "living_room",
    "restaurant",
    "tower",
)


_environments: dict[Path, lmdb.Environment] = {}
_environments_pid = os.getpid()


def open_lmdb(path: Path) -> lmdb.Environment:
    """This process's read-only environment for ``path``, opened on first use and then kept.

    lmdb refuses to open one environment twice in a process, so every dataset shares this one.
    In a forked child (a DataLoader worker) the parent's environments are forgotten, never used, and
    the child opens its own. ``lock=False``: nothing writes to a released dataset, so readers need no
    lock table (and the folder may be read-only); ``readahead=False``: reads are random.
    """
    global _environments_pid
    if _environments_pid != os.getpid():
        _environments.clear()  # the parent's handles; lmdb does not close them in a child
        _environments_pid = os.getpid()
    path = Path(path).resolve()
    if path not in _environments:
        _environments[path] = lmdb.open(str(path), readonly=True, lock=False, readahead=False, meminit=False)
    return _environments[path]


class LmdbImages(EncodedImages):
    """Encoded images stored as lmdb values: sample ``i`` is key ``keys[i]`` of ``databases[db[i]]``.

    Environments come from :func:`open_lmdb`, in the process that reads: each DataLoader worker
    opens its own.

    Args:
        databases: lmdb folders.
        keys: the key of each sample.
        database_index: ``[N]`` index into ``databases`` of each sample.
        Other arguments: see :class:`~gan_zoo.data.encoded.EncodedImages`.
    """

    def __init__(
        self,
        databases: list[Path],
        keys: StringTable,
        database_index: np.ndarray,
        labels: np.ndarray,
        size: int,
        channels: int,
    ) -> None:
        super().__init__(labels, size, channels)
        if not len(keys) == len(database_index) == len(self.labels):
            raise ValueError(
                f"{len(keys)} keys, {len(database_index)} database indices, {len(self.labels)} labels"
            )
        self.databases = [Path(d) for d in databases]
        self.keys = keys
        self.database_index = np.asarray(database_index, dtype=np.int16)

    def read(self, index: int) -> bytes:
        database = self.databases[self.database_index[index]]
        with open_lmdb(database).begin() as txn:
            value = txn.get(self.keys[index])
        if not value:
            raise KeyError(f"no value for key {self.keys[index].decode()} in {database}")
        return value

    def describe(self, index: int) -> str:
        return f"{self.databases[self.database_index[index]]}[{self.keys[index].decode(errors='replace')}]"


class LSUN(EncodedImageDataModule):
    """LSUN scene categories, centre-cropped and resized (64 px for DCGAN).

    Looks for ``<category>_train_lmdb`` (and ``<category>_val_lmdb`` for the test split; LSUN's own
    test set is unlabelled and mixed) in ``data_dir`` and ``data_dir/lsun``. LSUN has no download
    that torchvision or this module can run: a missing database raises an error that names the zip
    files to fetch and where to unzip them. Nothing is written anywhere (no key caches).

    With one category the data is unlabelled (``num_classes`` is ``None``); with several, labels
    are the category's position in ``categories``.

    Setup lists the keys only; the images are checked as they are decoded,
    and one that cannot be decoded is replaced by the next (see
    :class:`~gan_zoo.data.encoded.EncodedImages`). ``verify_images=True`` checks every value's header
    at setup instead, which reads the whole database (3 M images for bedrooms).

    Args:
        categories: one category or a list (see :data:`CATEGORIES`).
        max_images: use at most this many images of each category: the first ones in key order,
            which is the order of the image ids (SHA-1 digests), so an unbiased sample.
        verify_images: decode every header at setup; skipped values are counted.
        Other arguments: see :class:`~gan_zoo.data.ImageDataModule` (``download`` is unused: LSUN
            cannot be fetched automatically).
    """

    folder: ClassVar[str] = "lsun"

    def __init__(
        self,
        categories: str | list[str] = "bedroom",
        max_images: int | None = None,
        verify_images: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.categories = [categories] if isinstance(categories, str) else list(categories)
        unknown = [c for c in self.categories if c not in CATEGORIES]
        if unknown or not self.categories:
            raise ValueError(f"unknown LSUN categories {unknown}; choose from {', '.join(CATEGORIES)}")
        if max_images is not None and max_images < 1:
            raise ValueError(f"max_images must be >= 1, got {max_images}")
        self.max_images, self.verify_images = max_images, verify_images
        self.classes = tuple(self.categories) if len(self.categories) > 1 else ()

    def _search_dirs(self) -> list[Path]:
        return [self.data_dir, self.data_dir / self.folder]

    def databases(self, split: Split) -> list[Path]:
        """The lmdb folders of ``split`` (``test`` reads LSUN's ``val``), in category order."""
        names = [f"{c}_{'train' if split == 'train' else 'val'}_lmdb" for c in self.categories]
        found, missing = [], []
        for name in names:
            where = [d / name for d in self._search_dirs() if (d / name / "data.mdb").is_file()]
            (found if where else missing).append(where[0] if where else name)
        if missing:
            raise self._not_found(missing)
        return found

    def _not_found(self, missing: list[str]) -> DatasetNotFoundError:
        zips = [f"{name}.zip" for name in missing]
        present = [z for z in zips if any((d / z).is_file() for d in self._search_dirs())]
        where = ", ".join(str(d) for d in self._search_dirs())
        message = (
            f"LSUN not found: no {', '.join(missing)} (a folder holding data.mdb and lock.mdb) in {where}. "
            f"LSUN cannot be downloaded automatically: fetch {', '.join(zips)} from {DOWNLOAD_URL} "
            f"(e.g. `curl -O {DOWNLOAD_URL}{zips[0]}`, or `python download.py -c {self.categories[0]}` "
            f"from {TOOLS_URL}) and unzip them in {self.data_dir}."
        )
        if present:
            message += f" Found {', '.join(present)}: unzip it there."
        return DatasetNotFoundError(message)

    def scan(self, split: Split) -> tuple[LmdbImages, Quirks]:
        databases = self.databases(split)
        keys: list[bytes] = []
        index: list[int] = []
        quirks = Quirks()
        for db, path in enumerate(databases):
            with open_lmdb(path).begin() as txn:
                found = self._keys(txn, quirks)
            keys += found
            index += [db] * len(found)
        dataset = LmdbImages(
            databases, StringTable(keys), np.array(index), np.array(index), self.image_size, self.out_channels
        )
        return dataset, quirks

    def _keys(self, txn: lmdb.Transaction, quirks: Quirks) -> list[bytes]:
        limit = self.max_images or -1
        keys: list[bytes] = []
        cursor = txn.cursor()
        records = cursor.iternext(keys=True, values=self.verify_images)
        for record in records:
            key = record[0] if self.verify_images else record
            if self.verify_images and not self._usable(record[1], quirks):
                continue
            keys.append(bytes(key))
            if len(keys) == limit:
                break
        return keys

    def _usable(self, value: bytes, quirks: Quirks) -> bool:
        if not value:
            quirks.add("empty_value")
            return False
        return check_image(value, quirks, self.out_channels, self.image_size) is not None
