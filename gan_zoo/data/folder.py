"""``ImageFolder``: any folder of images, for custom datasets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from gan_zoo.data.base import Split
from gan_zoo.data.encoded import EncodedImageDataModule, ImageFiles
from gan_zoo.data.errors import DatasetNotFoundError
from gan_zoo.data.quirks import Quirks, check_image, image_extensions


class ImageFolder(EncodedImageDataModule):
    """Every image below ``data_dir``, searched recursively, centre-cropped and resized.

    Labels come from class folders when there are any: each non-hidden subfolder of ``data_dir`` is
    a class (sorted by name; images at any depth below it belong to it), and images lying directly in
    ``data_dir`` are skipped. A folder without subfolders, or ``class_folders=False``, is unlabelled
    (``num_classes`` is ``None``). The classes are listed when the module is built, so the CLI can link
    ``num_classes`` into the model; nothing else is read before ``setup``.

    Images: ``.jpg .jpeg .jpe .png .webp .gif .bmp .tif .tiff`` (any case), recognised by content,
    turned upright by their EXIF orientation. Hidden files and folders (``.DS_Store``, ``._x.jpg``,
    ``.ipynb_checkpoints``) are ignored. There is no held-out split: ``test`` is the whole folder, and
    ``val_split`` holds images out of training.

    Args:
        class_folders: label images by their top-level subfolder.
        verify_images: read every header at setup to skip unreadable and truncated files and count
            the conversions (a header read per file); without it, bad files are only met — and replaced —
            while training.
        Other arguments: see :class:`~gan_zoo.data.ImageDataModule` (``download`` is unused: the
            folder is yours).
    """

    def __init__(self, class_folders: bool = True, verify_images: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.class_folders = class_folders
        self.verify_images = verify_images
        self.classes = tuple(_subfolders(self.data_dir)) if class_folders else ()

    def scan(self, split: Split) -> tuple[ImageFiles, Quirks]:
        root = self.data_dir
        if not root.is_dir():
            raise DatasetNotFoundError(
                f"ImageFolder: {root} is not a directory (set data_dir to your images)"
            )
        class_index = {name: i for i, name in enumerate(self.classes)}
        extensions = image_extensions()
        files, labels, quirks = [], [], Quirks()
        for directory, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            parts = Path(directory).relative_to(root).parts
            for name in sorted(n for n in names if Path(n).suffix.lower() in extensions):
                if name.startswith("."):
                    quirks.add("hidden")
                elif class_index and (not parts or parts[0] not in class_index):
                    quirks.add("outside_class_folders")
                elif self._usable(Path(directory, name), quirks):
                    files.append(os.path.join(*parts, name))
                    labels.append(class_index[parts[0]] if class_index else 0)
        images = ImageFiles(root, files, np.array(labels), self.image_size, self.out_channels, upright=True)
        return images, quirks

    def _usable(self, path: Path, quirks: Quirks) -> bool:
        if not self.verify_images:
            return True
        return check_image(path, quirks, self.out_channels, self.image_size, path, upright=True) is not None


def _subfolders(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
