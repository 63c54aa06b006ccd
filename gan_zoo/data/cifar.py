"""CIFAR-10 (Krizhevsky 2009): 60 000 32×32 colour images in 10 classes, in the python pickle format."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from gan_zoo.data.archives import Resource, download_verified, explained, extract_tar
from gan_zoo.data.base import InMemoryImageDataModule, Split
from gan_zoo.data.errors import DatasetNotFoundError

_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}


class CIFAR10(InMemoryImageDataModule):
    """CIFAR-10 from ``data_dir/cifar-10-batches-py`` (the extracted official archive).

    ``download=True`` fetches the official archive and checks its md5 sum. Arguments: see
    :class:`~gan_zoo.data.ImageDataModule`.
    """

    native_shape = (3, 32, 32)
    classes: ClassVar[tuple[str, ...]] = (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )
    url: ClassVar[str] = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    archive_md5: ClassVar[str] = "c58f30108f718f92721af3b95e74349a"
    folder: ClassVar[str] = "cifar-10-batches-py"

    @property
    def root(self) -> Path:
        return self.data_dir / self.folder

    def prepare_data(self) -> None:
        # Not torchvision's download_and_extract_archive: see gan_zoo.data.archives for what it lacks.
        if not (self.download and self._missing()):
            return
        archive = Resource(Path(self.url).name, (self.url,), md5=self.archive_md5, contents=(self.folder,))
        if not (self.data_dir / archive.name).is_file():
            with explained("CIFAR-10", [archive.name], self.data_dir):
                download_verified(archive, self.data_dir)
        extract_tar(self.data_dir / archive.name, self.data_dir)

    def load_split(self, split: Split) -> tuple[Tensor, Tensor]:
        # Not torchvision.datasets.CIFAR10: it computes the md5 of all six batch files (178 MB) each
        # time it is built and refuses any file that is not the official one (no test fixture can
        # stand in), needs batches.meta, and returns [N, H, W, C] arrays to be transposed back.
        missing = self._missing()
        if missing:
            raise DatasetNotFoundError.build(
                "CIFAR-10", missing, [self.root], self.root, f"The archive is {self.url}."
            )
        images, labels = [], []
        for name in _BATCHES[split]:
            with open(self.root / name, "rb") as f:
                batch = pickle.load(f, encoding="latin1")
            images.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            labels.extend(batch["labels"])
        return torch.from_numpy(np.concatenate(images)), torch.tensor(labels, dtype=torch.long)

    def _missing(self) -> list[str]:
        return [name for names in _BATCHES.values() for name in names if not (self.root / name).is_file()]
