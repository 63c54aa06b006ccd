"""Messy data, recognised at setup: every quirk is converted, clamped or skipped, and counted.

A data module scans its samples once in ``setup`` (headers, container ends, annotations), decides
for each quirk what to do, and logs one summary line of counts. What a scan cannot see (a file
deleted or corrupted later) is handled where it is read: see :class:`~gan_zoo.data.encoded.EncodedImages`.

No library does this part: torchvision's datasets and ``ImageFolder`` open each file with PIL when it
is read, so a truncated or unreadable file ends the epoch with an exception, a CMYK, 16-bit or
palette image is converted (or not) without a word, and nothing is counted.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from pytorch_lightning.utilities import rank_zero_only

from gan_zoo.data.decode import EXIF_ORIENTATION, sniff_format

log = logging.getLogger("gan_zoo.data")

#: What PIL raises for data that is not a (complete) image.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError)

#: Every quirk a data module may report: ``key -> (what is done, what was found)``.
QUIRKS: dict[str, tuple[str, str]] = {
    "unreadable": ("skipped", "unreadable or not an image"),
    "truncated": ("skipped", "truncated"),
    "missing_image": ("skipped", "listed but missing image"),
    "annotation_without_image": ("skipped", "annotation without image"),
    "image_without_annotation": ("skipped", "image without annotation"),
    "unreadable_annotation": ("skipped", "unreadable annotation"),
    "annotation_without_boxes": ("skipped", "annotation without boxes"),
    "degenerate_box": ("skipped", "degenerate box (empty, or outside the image)"),
    "outside_class_folders": ("skipped", "image outside the class folders"),
    "hidden": ("skipped", "hidden file"),
    "empty_value": ("skipped", "empty database value"),
    "box_clamped": ("clamped", "box partly outside the image"),
    "format_mismatch": ("decoded by content", "format differs from extension (e.g. PNG named .jpg)"),
    "grayscale": ("converted to RGB", "grayscale"),
    "cmyk": ("converted to RGB", "CMYK"),
    "palette": ("converted to RGB", "palette"),
    "colour_space": ("converted to RGB", "YCbCr / LAB / HSV"),
    "high_bit_depth": ("scaled to 8 bits", "16- or 32-bit"),
    "alpha": ("composited onto white", "alpha channel or transparent palette"),
    "animated": ("first frame used", "animated"),
    "exif_rotated": ("turned upright", "EXIF orientation"),
    "upscaled": ("upscaled", "crop smaller than image_size"),
}

_EXTENSION_FORMAT = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".jpe": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


class Quirks(Counter):
    """Counts of quirks by key of :data:`QUIRKS`."""

    def add(self, key: str, n: int = 1) -> None:
        if key not in QUIRKS:
            raise KeyError(f"unknown quirk {key!r}; known: {', '.join(QUIRKS)}")
        self[key] += n

    @property
    def skipped(self) -> int:
        return sum(n for key, n in self.items() if QUIRKS[key][0] == "skipped")

    def summary(self) -> str:
        """``"skipped: 2 truncated, 1 unreadable …; converted to RGB: 3 grayscale"`` (empty when clean)."""
        by_action: dict[str, list[str]] = {}
        for key, (action, found) in QUIRKS.items():
            if self[key]:
                by_action.setdefault(action, []).append(f"{self[key]} {found}")
        return "; ".join(f"{action}: {', '.join(items)}" for action, items in by_action.items())


@rank_zero_only
def log_scan(what: str, samples: int, quirks: Quirks) -> None:
    """One line per scanned split: a warning when something was changed or skipped, info otherwise."""
    summary = quirks.summary()
    if summary:
        log.warning("%s: %d samples; %s", what, samples, summary)
    else:
        log.info("%s: %d samples, no quirks", what, samples)


class UnreadableImageError(ValueError):
    """A sample that is not a decodable image; ``quirk`` says why (``"truncated"`` or ``"unreadable"``)."""

    def __init__(self, quirk: str, message: str) -> None:
        super().__init__(message)
        self.quirk = quirk


@dataclass(frozen=True)
class ImageInfo:
    """What the header of an encoded image says."""

    format: str  # by content, PIL's name: JPEG, PNG, WEBP, GIF, …
    mode: str  # PIL's mode: RGB, L, CMYK, P, RGBA, I;16, …
    width: int
    height: int
    transparent_palette: bool = False
    animated: bool = False
    orientation: int = 1  # EXIF orientation tag, 1 = upright


def inspect_image(data: bytes | Path) -> ImageInfo:
    """Read an image's header and check that the file is complete, without decoding the pixels.

    Completeness is judged from the container's end: JPEG's end-of-image marker, PNG's IEND chunk,
    the RIFF length of WebP, GIF's trailer, BMP's file size. Only when that looks wrong are the
    pixels decoded, to tell a truncated file from one with harmless bytes after its end.

    Raises:
        UnreadableImageError: the data is not an image PIL can open, or it is truncated.
    """
    if isinstance(data, Path):
        with open(data, "rb") as f:
            head = f.read(16)
            length = f.seek(0, io.SEEK_END)
            f.seek(max(length - 16, 0))
            tail = f.read()
    else:
        head, tail, length = bytes(data[:16]), bytes(data[-16:]), len(data)
    complete = _looks_complete(sniff_format(head), head, tail, length)
    try:
        with Image.open(data if isinstance(data, Path) else io.BytesIO(data)) as image:
            info = _header(image)
            if not complete:  # or only bytes after the end? Decoding tells.
                image.load()
    except DECODE_ERRORS as error:
        quirk = "unreadable" if complete else "truncated"
        raise UnreadableImageError(quirk, f"{quirk} image ({error})") from error
    return info


def check_image(
    data: bytes | Path,
    quirks: Quirks,
    channels: int,
    image_size: int | None = None,
    path: Path | None = None,
    upright: bool = False,
) -> ImageInfo | None:
    """Inspect one image during a scan and count what will be done to it.

    Args:
        data: the encoded image or its file.
        quirks: where to count.
        channels, path, upright: see :func:`image_quirks`.
        image_size: count ``upscaled`` when the image's shorter side is below it (its centre
            square is the crop); ``None`` when the caller crops other windows.

    Returns:
        The header, or ``None`` (counted as truncated or unreadable) when the image must be skipped.
    """
    try:
        info = inspect_image(data)
    except UnreadableImageError as error:
        quirks.add(error.quirk)
        return None
    for quirk in image_quirks(info, channels, path, upright):
        quirks.add(quirk)
    if image_size is not None and min(info.width, info.height) < image_size:
        quirks.add("upscaled")
    return info


def _header(image: Image.Image) -> ImageInfo:
    fmt = image.format or "unknown"
    return ImageInfo(
        format=fmt,
        mode=image.mode,
        width=image.width,
        height=image.height,
        transparent_palette=image.mode == "P" and "transparency" in image.info,
        animated=bool(getattr(image, "is_animated", False)),
        orientation=image.getexif().get(EXIF_ORIENTATION, 1) if fmt == "JPEG" else 1,
    )


def _looks_complete(fmt: str | None, head: bytes, tail: bytes, length: int) -> bool:
    if fmt == "JPEG":
        return tail.rstrip(b"\x00").endswith(b"\xff\xd9")
    if fmt == "PNG":
        return tail.endswith(b"IEND\xaeB`\x82")
    if fmt == "WEBP":
        return int.from_bytes(head[4:8], "little") + 8 <= length
    if fmt == "GIF":
        return tail.rstrip(b"\x00").endswith(b";")
    if fmt == "BMP":
        return int.from_bytes(head[2:6], "little") <= length
    return True


def image_quirks(
    info: ImageInfo, channels: int, path: Path | None = None, upright: bool = False
) -> list[str]:
    """The conversions :func:`~gan_zoo.data.decode.decode_image` will make for this image.

    Args:
        info: its header.
        channels: the channels asked for (gray images are not converted for 1).
        path: its file, to compare the name with the content.
        upright: whether its EXIF orientation will be applied.
    """
    mode, found = info.mode, []
    gray = mode in ("1", "L", "LA", "La", "F") or mode.startswith("I")
    if gray and channels == 3:
        found.append("grayscale")
    if mode == "F" or mode.startswith("I"):
        found.append("high_bit_depth")
    if mode == "CMYK":
        found.append("cmyk")
    if mode in ("P", "PA"):
        found.append("palette")
    if mode in ("YCbCr", "LAB", "HSV"):
        found.append("colour_space")
    if mode in ("LA", "La", "PA", "RGBA", "RGBa") or info.transparent_palette:
        found.append("alpha")
    if info.animated:
        found.append("animated")
    expected = _EXTENSION_FORMAT.get(path.suffix.lower()) if path is not None else None
    if expected is not None and expected != info.format:
        found.append("format_mismatch")
    if upright and info.orientation in range(2, 9):
        found.append("exif_rotated")
    return found


def image_extensions() -> tuple[str, ...]:
    """File extensions of the formats :func:`~gan_zoo.data.decode.decode_image` reads."""
    return tuple(_EXTENSION_FORMAT)
