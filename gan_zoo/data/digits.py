"""Digits: the 1 797 8×8 handwritten digits bundled with scikit-learn (UCI optdigits test set).

Embedded in an installed dependency, so it needs no download: the dataset of the quick start and the
test suite.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from gan_zoo.data.base import InMemoryImageDataModule, Split

_TEST_SIZE = 297  # a fixed 1500 / 297 split; scikit-learn ships no official one


class Digits(InMemoryImageDataModule):
    """scikit-learn's 8×8 digits (values 0–16, scaled to 0–255), resized to ``image_size``.

    The train/test split is a fixed permutation (seed 0) of the 1 797 images: 1 500 / 297.
    ``data_dir`` and ``download`` are accepted for uniformity and unused.
    """

    native_shape = (1, 8, 8)
    classes: ClassVar[tuple[str, ...]] = tuple("0123456789")

    def load_split(self, split: Split) -> tuple[Tensor, Tensor]:
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = torch.from_numpy(digits.images).mul(255.0 / 16.0).round().to(torch.uint8).unsqueeze(1)
        labels = torch.from_numpy(digits.target).long()
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
        index = order[_TEST_SIZE:] if split == "train" else order[:_TEST_SIZE]
        return images[index], labels[index]
