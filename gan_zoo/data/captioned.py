"""Images with several captions each, for text-to-image models (Reed et al. 2016).

A batch is ``(images, labels, captions, mismatching)``: uint8 images ``[N, C, H, W]`` (turned into [-1, 1]
on the device), long labels ``[N]`` (zeros without classes), and two uint8 caption tensors
``[N, k, L]`` (UTF-8 bytes, see :mod:`gan_zoo.data.text`): ``k`` captions drawn at random from each
image's own, and ``k`` captions of another image — of another class when the data has classes — for
the matching-aware discriminator's "real image, wrong text" pairs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from gan_zoo.data.base import ImageDataModule, Split
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.in_memory import InMemoryImages
from gan_zoo.data.text import encode_text
from gan_zoo.data.transforms import normalize, resize_uint8, to_channels
from gan_zoo.errors import ConfigError


class InMemoryCaptionedImages(InMemoryImages):
    """uint8 images ``[N, C, H, W]``, labels ``[N]`` and captions: ``text`` uint8 ``[M, L]``, caption m
    describing image ``owners[m]``; every image needs at least one. A batch draws ``per_sample``
    captions of each image and as many of a mismatching image (see the module docstring)."""

    def __init__(
        self, images: Tensor, labels: Tensor, text: Tensor, owners: Tensor, per_sample: int = 1
    ) -> None:
        super().__init__(images, labels)
        order = torch.argsort(owners, stable=True)  # each image's captions side by side
        self.text, self.owners = text[order], owners[order].long()
        self.counts = torch.bincount(self.owners, minlength=len(self))
        if len(self) < 2 or bool((self.counts == 0).any()):
            raise ValueError("captioned data needs at least two images, each with at least one caption")
        self.offsets = torch.cumsum(self.counts, 0) - self.counts
        self.per_sample = per_sample
        self.by_class = self.labels.unique().numel() > 1  # mismatches come from another class

    def _captions_of(self, index: Tensor) -> Tensor:
        """``per_sample`` random captions of each image: uint8 ``[B, k, L]``."""
        pick = (torch.rand(len(index), self.per_sample) * self.counts[index, None]).long()
        return self.text[self.offsets[index, None] + pick]

    def _mismatching(self, index: Tensor) -> Tensor:
        """For each image, another image (of another class when there are classes)."""
        other = torch.randint(len(self), index.shape)
        clash = (self.labels[other] == self.labels[index]) if self.by_class else (other == index)
        while clash.any():  # data-loading side, not the training step: the loop is cheap
            other[clash] = torch.randint(len(self), (int(clash.sum()),))
            clash = (self.labels[other] == self.labels[index]) if self.by_class else (other == index)
        return other

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        images, labels, text, wrong = self.__getitems__([index])
        return images[0], labels[0], text[0], wrong[0]

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long)
        wrong = self._captions_of(self._mismatching(index))
        return self.images[index], self.labels[index], self._captions_of(index), wrong

    def subset(self, indices: Tensor) -> InMemoryCaptionedImages:
        keep = torch.isin(self.owners, indices)
        remap = torch.full((len(self),), -1, dtype=torch.long)
        remap[indices] = torch.arange(len(indices))
        return InMemoryCaptionedImages(
            self.images[indices],
            self.labels[indices],
            self.text[keep],
            remap[self.owners[keep]],
            self.per_sample,
        )

    def captions(self, image: int) -> list[str]:
        """All captions of one image, as strings."""
        from gan_zoo.data.text import decode_text

        start = int(self.offsets[image])
        return decode_text(self.text[start : start + int(self.counts[image])])


class CaptionedDataModule(ImageDataModule):
    """Base of the captioned data modules: subclasses implement :meth:`load_captioned`.

    Args:
        captions_per_sample: captions drawn per image and batch; text encoders average their
            embeddings (Reed et al.'s code averages 4).
        max_caption_length: captions are cut after this many UTF-8 bytes.
        Other arguments: see :class:`~gan_zoo.data.ImageDataModule`; ``labels_per_class`` is refused
            (text-to-image models use every image's captions, and hidden labels would make mismatching
            captions ill-defined).
    """

    def __init__(self, captions_per_sample: int = 1, max_caption_length: int = 128, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.labels_per_class is not None:
            raise ConfigError(
                f"{type(self).__name__} does not support labels_per_class (got {self.labels_per_class}): "
                "captioned data keeps every label; leave it unset"
            )
        if captions_per_sample < 1:
            raise ConfigError(f"captions_per_sample must be >= 1, got {captions_per_sample}")
        self.captions_per_sample = captions_per_sample
        self.max_caption_length = max_caption_length

    def load_captioned(self, split: Split) -> tuple[Tensor, Tensor, list[list[str]]]:
        """uint8 images ``[N, C, H, W]``, labels ``[N]`` and each image's captions."""
        raise NotImplementedError

    def make_dataset(self, split: Split) -> InMemoryCaptionedImages:
        images, labels, captions = self.load_captioned(split)
        images = to_channels(resize_uint8(images, self.image_shape[1]), self.image_shape[0])
        owners = torch.tensor([i for i, own in enumerate(captions) for _ in own], dtype=torch.long)
        text = encode_text([c for own in captions for c in own], self.max_caption_length)
        return InMemoryCaptionedImages(images, labels, text, owners, self.captions_per_sample)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        images, *rest = batch
        return (normalize(images) if images.dtype == torch.uint8 else images, *rest)

    def example_captions(self, k: int) -> list[str]:
        """``k`` training captions for sample grids: one image per class in turn (or the first ``k``)."""
        if self.train_set is None:
            self.setup("fit")
        dataset = self.train_set
        if self.num_classes:
            firsts = [int(torch.nonzero(dataset.labels == c)[0]) for c in dataset.labels.unique().tolist()]
        else:
            firsts = list(range(min(k, len(dataset))))
        return [dataset.captions(firsts[i % len(firsts)])[0] for i in range(k)]


class CaptionedImages(CaptionedDataModule):
    """Image files and a JSON captions file: ``{"relative/path.png": ["a caption", "another", ...], ...}``.

    Paths are relative to the captions file. Images are centre-cropped to a square and resized to
    ``image_size`` once, at setup.

    Args:
        data_dir: the folder holding the captions file.
        captions: the training captions file, relative to ``data_dir``.
        test_captions: the test split's captions file (default: the training one).
        image_size: side of the square images (Reed et al.: 64); required, the files differ in size.
        channels: 3 (RGB, also for ``None``) or 1 (gray).
        Other arguments: see :class:`CaptionedDataModule` (``download`` is unused: the files are yours).
    """

    defaults: ClassVar[dict[str, Any]] = {"image_size": 64, "channels": 3}

    def __init__(
        self, captions: str = "captions.json", test_captions: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if self.image_size is None:
            raise ConfigError("CaptionedImages needs an image_size: its images differ in size")
        self.captions_file, self.test_captions_file = captions, test_captions

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.channels or 3, self.image_size, self.image_size)

    def load_captioned(self, split: Split) -> tuple[Tensor, Tensor, list[list[str]]]:
        name = self.test_captions_file if split == "test" and self.test_captions_file else self.captions_file
        path = self.data_dir / name
        if not path.is_file():
            raise DatasetNotFoundError.build("Captioned images", [name], [self.data_dir], self.data_dir)
        entries = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(entries, dict) or not all(isinstance(c, list) and c for c in entries.values()):
            raise ValueError(
                f"{path}: expected {{'image file': ['caption', ...], ...}} with captions for each"
            )
        images = torch.stack([self._read(path.parent / file) for file in entries])
        return images, torch.zeros(len(entries), dtype=torch.long), [list(c) for c in entries.values()]

    def _read(self, file: Path) -> Tensor:
        from PIL import Image, ImageOps

        if not file.is_file():
            raise FileNotFoundError(f"{file} is listed in the captions file but does not exist")
        with Image.open(file) as image:
            image = image.convert("L" if self.channels == 1 else "RGB")
            square = ImageOps.fit(image, (self.image_size, self.image_size), Image.Resampling.BICUBIC)
        array = np.asarray(square, dtype=np.uint8)
        return (
            torch.from_numpy(array.copy()).permute(2, 0, 1)
            if array.ndim == 3
            else torch.from_numpy(array.copy())[None]
        )
