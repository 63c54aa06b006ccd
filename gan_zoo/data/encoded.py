"""Datasets of encoded images, decoded one sample at a time in DataLoader workers.

What happens when a sample cannot be read *after* setup scanned it (the file was deleted, the disk
returned garbage): the epoch goes on. The sample is replaced by the next one in the dataset, and an
:class:`UnreadableSampleWarning` names the file and the error. Only when
:data:`MAX_CONSECUTIVE_FAILURES` samples in a row fail — the data directory has gone away, not one
file — does reading raise, with a message that says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from torch import Tensor
from torch.utils.data import Dataset

from gan_zoo.data.base import ImageDataModule, Split
from gan_zoo.data.decode import Window, decode_image
from gan_zoo.data.quirks import Quirks, log_scan
from gan_zoo.errors import ConfigError

#: Consecutive unreadable samples after which reading gives up.
MAX_CONSECUTIVE_FAILURES = 16


class UnreadableSampleWarning(UserWarning):
    """A sample could not be read during training and another one took its place."""


class StringTable:
    """Many short strings (file names, database keys) held in two numpy arrays.

    A Python list of millions of strings is copied page by page into every forked DataLoader worker,
    because reading an object writes its reference count (PyTorch issue 13246); two arrays are not.
    """

    def __init__(self, strings: Iterable[str | bytes]) -> None:
        encoded = [s.encode() if isinstance(s, str) else bytes(s) for s in strings]
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in encoded], out=self._offsets[1:])
        self._data = np.frombuffer(b"".join(encoded), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self._data[self._offsets[index] : self._offsets[index + 1]].tobytes()


class EncodedImages(Dataset):
    """Samples ``(uint8 image [C, size, size], label)`` decoded on access.

    Subclasses say where the bytes of sample ``i`` are (:meth:`read`) and how to name it in messages
    (:meth:`describe`).

    Args:
        labels: ``[N]`` class indices (zeros for unlabelled data).
        size: side of the decoded images.
        channels: 3 (RGB) or 1 (gray).
        windows: ``[N, 4]`` square crop windows ``(x0, y0, x1, y1)`` in stored pixels; ``None`` crops
            the centre square of every image.
        upright: apply EXIF orientation (only with centre squares).
    """

    def __init__(
        self,
        labels: np.ndarray,
        size: int,
        channels: int,
        windows: np.ndarray | None = None,
        upright: bool = False,
    ) -> None:
        if windows is not None and windows.shape != (len(labels), 4):
            raise ValueError(f"windows must be [{len(labels)}, 4], got {windows.shape}")
        self.labels = np.asarray(labels, dtype=np.int64)
        self.size, self.channels, self.upright = size, channels, upright
        self.windows = None if windows is None else np.asarray(windows, dtype=np.float64)

    def read(self, index: int) -> bytes | Path:
        """The encoded image of sample ``index`` (bytes, or the path of its file)."""
        raise NotImplementedError

    def describe(self, index: int) -> str:
        """A name for sample ``index`` in messages: its path or key."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, index: int) -> Tensor:
        """Decode sample ``index``; raises when it cannot be read."""
        window: Window | None = None if self.windows is None else tuple(self.windows[index].tolist())
        return decode_image(self.read(index), self.size, self.channels, window, self.upright)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        last_error: Exception | None = None
        attempts = min(MAX_CONSECUTIVE_FAILURES, len(self))
        for offset in range(attempts):
            i = (index + offset) % len(self)
            try:
                return self.load(i), int(self.labels[i])
            except Exception as error:  # any failure of one sample; a systematic one ends below
                last_error = error
                warnings.warn(
                    f"{self.describe(i)} could not be read ({type(error).__name__}: {error}); "
                    f"using the next sample instead",
                    UnreadableSampleWarning,
                    stacklevel=2,
                )
        raise RuntimeError(
            f"{attempts} samples in a row could not be read, from {self.describe(index)} "
            "on: the data is no longer where setup found it (moved, deleted, unmounted?)"
        ) from last_error


class ImageFiles(EncodedImages):
    """Encoded images stored as files: ``root / files[i]``.

    Args:
        root: directory the file names are relative to.
        files: file names relative to ``root``.
        Other arguments: see :class:`EncodedImages`.
    """

    def __init__(
        self,
        root: Path,
        files: Sequence[str],
        labels: np.ndarray,
        size: int,
        channels: int,
        windows: np.ndarray | None = None,
        upright: bool = False,
    ) -> None:
        super().__init__(labels, size, channels, windows, upright)
        if len(files) != len(self.labels):
            raise ValueError(f"{len(files)} files but {len(self.labels)} labels")
        self.root = Path(root)
        self.files = StringTable(os.fsencode(f) for f in files)

    def path(self, index: int) -> Path:
        return self.root / os.fsdecode(self.files[index])

    def read(self, index: int) -> Path:
        return self.path(index)

    def describe(self, index: int) -> str:
        return str(self.path(index))


class EncodedImageDataModule(ImageDataModule):
    """Base of the data modules whose images are files or database records decoded per sample.

    The stored images differ in size, so ``image_size`` is required (64 by default) and every image
    is cropped to a square and resized to it; ``channels=None`` means RGB. Subclasses implement
    :meth:`scan`, which lists the samples of a split and counts the quirks it met; the counts are
    logged in one line and kept in :attr:`quirks`.

    Args: see :class:`~gan_zoo.data.ImageDataModule`.
    """

    defaults: ClassVar[dict[str, Any]] = {"image_size": 64}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.image_size is None:
            raise ConfigError(f"{type(self).__name__} needs an image_size: its images differ in size")
        #: Quirk counts of each split scanned so far.
        self.quirks: dict[str, Quirks] = {}

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels or 3, self.image_size, self.image_size)

    @property
    def out_channels(self) -> int:
        return self.image_shape[0]

    def scan(self, split: Split) -> tuple[EncodedImages, Quirks]:
        """The samples of ``split`` and the quirks met while listing them."""
        raise NotImplementedError

    def make_dataset(self, split: Split) -> EncodedImages:
        dataset, quirks = self.scan(split)
        self.quirks[split] = quirks
        log_scan(f"{type(self).__name__} ({split})", len(dataset), quirks)
        if len(dataset) == 0:
            raise ValueError(
                f"{type(self).__name__} ({split}) has no usable images: {quirks.summary() or 'empty'}"
            )
        return dataset
