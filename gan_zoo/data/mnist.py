"""MNIST (LeCun et al. 1998) and Fashion-MNIST (Xiao et al. 2017): 28×28 gray images, 10 classes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torchvision
from torch import Tensor

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
        if self.download and not self._all_files_present():
            # torchvision fetches all four files, checks their md5 sums and extracts them to <folder>/raw.
            getattr(torchvision.datasets, self.folder)(str(self.data_dir), train=True, download=True)

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

    def _all_files_present(self) -> bool:
        names = [f"{p}-{kind}-ubyte" for p in _PREFIX.values() for kind in ("images-idx3", "labels-idx1")]
        return all(self._locate(name) is not None for name in names)


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
