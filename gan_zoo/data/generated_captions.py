"""Captioned data made offline from labelled images: a class name plus attributes measured on the image.

Each image gets one caption per template, e.g. for a Fashion-MNIST coat "a small light coat",
"this coat is small and light", … Two attributes are measured, each split at its class's median so
both words are equally common within every class:

* size: the fraction of the frame the object covers (pixels brighter than 10 % gray) — small / large;
* tone: the mean brightness of those pixels — dark / light.

:data:`HELD_OUT_TEMPLATES` use words no training template has, so their captions are never seen
verbatim in training: the text-to-image benchmark generates images for them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from gan_zoo.data.base import InMemoryImageDataModule, Split
from gan_zoo.data.captioned import CaptionedDataModule
from gan_zoo.data.digits import Digits
from gan_zoo.data.mnist import FashionMNIST

TRAIN_TEMPLATES: tuple[str, ...] = (
    "a {size} {tone} {name}",
    "a {tone} {name}, {size}",
    "{name}, {size} and {tone}",
    "this {name} is {size} and {tone}",
    "a {size}, {tone} {name} on black",
)
HELD_OUT_TEMPLATES: tuple[str, ...] = (
    "a picture of a {tone}, {size} {name}",
    "the {name} in this image is {tone} and {size}",
)
INK = 0.1  # a pixel belongs to the object above 10 % gray


def measure(images: Tensor) -> tuple[Tensor, Tensor]:
    """Object area (fraction of the frame) and mean object brightness in [0, 1], each ``[N]``."""
    gray = images.float().mean(1) if images.shape[1] > 1 else images[:, 0].float()  # [N, H, W], 0–255
    ink = gray > INK * 255
    count = ink.sum((1, 2)).float()
    area = count / ink[0].numel()
    tone = torch.where(ink, gray, 0.0).sum((1, 2)) / count.clamp(min=1.0) / 255.0
    return area, tone


def attributes(images: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """Whether each image is large (vs small) and light (vs dark): bool ``[N]`` each, split at the
    medians of its class."""
    area, tone = measure(images)
    large, light = torch.zeros_like(area, dtype=torch.bool), torch.zeros_like(tone, dtype=torch.bool)
    for c in labels.unique():
        members = labels == c
        large[members] = area[members] > area[members].median()
        light[members] = tone[members] > tone[members].median()
    return large, light


def write_captions(
    images: Tensor, labels: Tensor, names: tuple[str, ...], templates: tuple[str, ...] = TRAIN_TEMPLATES
) -> list[list[str]]:
    """One caption per template for every image."""
    table = {  # every (class, size, tone) once; images share the lists
        (c, big, bright): [
            t.format(name=name, size="large" if big else "small", tone="light" if bright else "dark")
            for t in templates
        ]
        for c, name in enumerate(names)
        for big in (False, True)
        for bright in (False, True)
    }
    large, light = attributes(images, labels)
    return [table[key] for key in zip(labels.tolist(), large.tolist(), light.tolist(), strict=True)]


class GeneratedCaptions(CaptionedDataModule):
    """A labelled in-memory dataset (``source``) with captions written by :func:`write_captions`.

    Args:
        templates: caption templates with ``{name}``, ``{size}`` and ``{tone}`` (default
            :data:`TRAIN_TEMPLATES`).
        Other arguments: see :class:`~gan_zoo.data.captioned.CaptionedDataModule`; the captions are
            short, so ``max_caption_length`` is 64 by default.
    """

    source: ClassVar[type[InMemoryImageDataModule]]
    #: How each class is called in captions.
    names: ClassVar[tuple[str, ...]]
    defaults: ClassVar[dict[str, Any]] = {"max_caption_length": 64}

    def __init__(self, templates: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.templates = tuple(templates) if templates else TRAIN_TEMPLATES
        self.native_shape = self.source.native_shape
        self.classes = self.source.classes

    def _source(self) -> InMemoryImageDataModule:
        return self.source(data_dir=self.data_dir, download=self.download)

    def prepare_data(self) -> None:
        self._source().prepare_data()

    def load_captioned(self, split: Split) -> tuple[Tensor, Tensor, list[list[str]]]:
        images, labels = self._source().load_split(split)
        return images, labels, write_captions(images, labels, self.names, self.templates)


class FashionMNISTCaptions(GeneratedCaptions):
    """Fashion-MNIST with generated captions ("a small dark ankle boot"): the text-to-image demo data.

    Finds the files like :class:`~gan_zoo.data.FashionMNIST` (Debian's ``dataset-fashion-mnist``
    included).
    """

    source = FashionMNIST
    names = (
        "t-shirt",
        "trouser",
        "pullover",
        "dress",
        "coat",
        "sandal",
        "shirt",
        "sneaker",
        "bag",
        "ankle boot",
    )


class DigitsCaptions(GeneratedCaptions):
    """scikit-learn's 8×8 digits with generated captions ("a large light seven"); needs no files."""

    source = Digits
    names = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
