"""One image as a data set: what SinGAN learns from (Shaham et al. 2019).

The image is a file (any format Pillow reads) or the name of one of scikit-image's sample photos
(``skimage.data.rocket`` …), which ship inside the installed package, so the default needs no download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.data.base import ImageDataModule, Split
from gan_zoo.data.in_memory import InMemoryImages
from gan_zoo.data.transforms import to_channels
from gan_zoo.errors import ConfigError

#: The default photo: a launch pad at dusk (427×640), structure at every scale, like the paper's scenes.
DEFAULT_IMAGE = "rocket"


def load_image(image: str | Path, channels: int | None = None) -> Tensor:
    """uint8 ``[C, H, W]`` from an image file or a scikit-image sample name (``"rocket"``).

    Gray images have one channel, colour ones three (an alpha channel is dropped); ``channels``
    converts between the two.
    """
    path = Path(image)
    if path.is_file():
        from PIL import Image

        with Image.open(path) as opened:
            array = np.asarray(opened.convert("L" if opened.mode in ("1", "L", "I", "I;16", "F") else "RGB"))
    elif path.suffix or len(path.parts) > 1:
        raise FileNotFoundError(f"no image file at {path}")
    else:
        array = _skimage_sample(str(image))
    array = array.astype(np.uint8) * 255 if array.dtype == bool else np.asarray(array, dtype=np.uint8)
    array = array[None] if array.ndim == 2 else array[..., :3].transpose(2, 0, 1)  # [C, H, W]
    tensor = torch.from_numpy(np.array(array, copy=True))  # writable and contiguous
    return to_channels(tensor[None], channels)[0] if channels else tensor


_NOT_IMAGES = {"data_dir", "download_all", "file_hash", "lbp_frontal_face_cascade_filename"}


def _skimage_sample(name: str) -> np.ndarray:
    import skimage.data

    samples = [n for n in skimage.data.__all__ if n not in _NOT_IMAGES]
    if name not in samples:
        raise FileNotFoundError(
            f"'{name}' is neither an image file nor a scikit-image sample ({', '.join(samples)})"
        )
    array = getattr(skimage.data, name)()
    return array[0] if isinstance(array, tuple) else array  # stereo pairs: the left view


def fit_within(height: int, width: int, max_size: int | None) -> tuple[int, int]:
    """``(h, w)`` scaled down (never up) so that the longer side is at most ``max_size``."""
    scale = min(1.0, max_size / max(height, width)) if max_size else 1.0
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(images: Tensor, size: tuple[int, int]) -> Tensor:
    """Bicubic, antialiased resize of float images ``[N, C, H, W]`` to ``size`` (values kept in range)."""
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    low, high = images.amin(), images.amax()  # bicubic overshoots; keep the input's range
    out = F.interpolate(images, size=size, mode="bicubic", antialias=True, align_corners=False)
    return torch.maximum(torch.minimum(out, high), low)


class SingleImage(ImageDataModule):
    """One image, every batch ``batch_size`` copies of it; an epoch is ``steps_per_epoch`` batches.

    Args:
        image: an image file, or a scikit-image sample photo by name (default ``"rocket"``).
        max_size: the longer side is scaled down to this (250 in SinGAN's code); ``None`` keeps it.
        steps_per_epoch: batches per epoch; choose it so that an epoch is one stage of your model.
        channels: 3 (RGB, the default), 1 (gray) or ``None`` for the file's own.
        batch_size: copies of the image per batch (SinGAN: 1, the default).
        image_size: refused: the image keeps its aspect ratio; ``max_size`` sets its size.
        Other arguments: see :class:`~gan_zoo.data.ImageDataModule` (``data_dir`` and ``download``
            are unused; ``num_workers=0`` suits best, the batches are views of one tensor).
    """

    defaults: ClassVar[dict[str, Any]] = {"channels": 3, "batch_size": 1}

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        max_size: int | None = 250,
        steps_per_epoch: int = 1000,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if self.image_size is not None:
            raise ConfigError(
                f"SingleImage keeps the image's aspect ratio: set max_size (the longer side) instead of "
                f"image_size (got {self.image_size})"
            )
        if steps_per_epoch < 1:
            raise ConfigError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
        if max_size is not None and max_size < 1:
            raise ConfigError(f"max_size must be >= 1, got {max_size}")
        self.image = image
        self.max_size = max_size
        self.steps_per_epoch = steps_per_epoch
        self._pixels: Tensor | None = None

    def load(self) -> Tensor:
        """The image as the model sees it: uint8 ``[C, H, W]``, scaled to fit ``max_size``."""
        if self._pixels is None:
            pixels = load_image(self.image, self.channels)
            size = fit_within(*pixels.shape[-2:], self.max_size)
            self._pixels = resize(pixels[None].float(), size).round().to(torch.uint8)[0]
        return self._pixels

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.load().shape)

    def make_dataset(self, split: Split) -> InMemoryImages:
        copies = self.steps_per_epoch * self.batch_size
        images = self.load()[None].expand(copies, -1, -1, -1)  # views of one image, no copies in memory
        return InMemoryImages(images, torch.zeros(copies, dtype=torch.long))
