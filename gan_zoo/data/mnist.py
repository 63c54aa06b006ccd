"""MNIST (LeCun et al. 1998) and Fashion-MNIST (Xiao et al. 2017): 28×28 gray images, 10 classes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torchvision
from torch import Tensor

from gan_zoo.data.archives import Resource, download_verified, explained
from gan_zoo.data.base import InMemoryImageDataModule, Split
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.idx import read_idx

_PREFIX = {"train": "train", "test": "t10k"}


class MNIST(InMemoryImageDataModule):
    """MNIST handwritten digits, read from the four IDX files (``.gz`` or extracted).

    Looks in ``data_dir/MNIST/raw`` (torchvision's layout, where ``download=True`` puts them),
    ``data_dir/MNIST`` and ``data_dir``. Arguments: see :class:`~gan_zoo.data.ImageDataModule`.
    """

    native_shape = (1, 28, 28)
    classes: ClassVar[tuple[str, ...]] = tuple("0123456789")
    folder: ClassVar[str] = "MNIST"
    title: ClassVar[str] = "MNIST"
    #: Places outside ``data_dir`` where system packages install the files.
    system_dirs: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""

    def prepare_data(self) -> None:
        if not self.download:
            return
        # torchvision's dataset class keeps the official mirrors and md5 sums; its own download()
        # would also unpack the files (the reader takes them gzipped) and print and raise an
        # exception per mirror, and leave a file that fails its md5 check in place.
        library = getattr(torchvision.datasets, self.folder)
        resources = [
            Resource(name, tuple(m + name for m in library.mirrors), md5) for name, md5 in library.resources
        ]
        missing = [r for r in resources if self._locate(r.name.removesuffix(".gz")) is None]
        target = self.data_dir / self.folder / "raw"
        with explained(self.title, [r.name for r in missing], target):
            for resource in missing:
                download_verified(resource, target)

    def load_split(self, split: Split) -> tuple[Tensor, Tensor]:
        images = read_idx(self._find(f"{_PREFIX[split]}-images-idx3-ubyte"))
        labels = read_idx(self._find(f"{_PREFIX[split]}-labels-idx1-ubyte"))
        return images.unsqueeze(1), labels.long()

    def _search_dirs(self) -> list[Path]:
        root = self.data_dir
        return [root / self.folder / "raw", root / self.folder, root, *map(Path, self.system_dirs)]

    def _locate(self, name: str) -> Path | None:
        for directory in self._search_dirs():
            for candidate in (directory / name, directory / f"{name}.gz"):
                if candidate.is_file():
                    return candidate
        return None

    def _find(self, name: str) -> Path:
        found = self._locate(name)
        if found is None:
            files = [
                f"{p}-{kind}-idx{d}-ubyte.gz"
                for p in _PREFIX.values()
                for kind, d in (("images", 3), ("labels", 1))
            ]
            target = self.data_dir / self.folder / "raw"
            raise DatasetNotFoundError.build(
                self.title, files, self._search_dirs(), target, self.install_hint
            )
        return found


class FashionMNIST(MNIST):
    """Fashion-MNIST: Zalando article images in MNIST's format.

    Also finds the files of Debian's ``dataset-fashion-mnist`` package in
    ``/usr/share/datasets/fashion-mnist``.
    """

    classes: ClassVar[tuple[str, ...]] = (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    )
    folder = "FashionMNIST"
    title = "Fashion-MNIST"
    system_dirs = ("/usr/share/datasets/fashion-mnist",)
    install_hint = "On Debian/Ubuntu: apt-get install dataset-fashion-mnist."
