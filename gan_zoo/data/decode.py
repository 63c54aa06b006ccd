"""One encoded image → a uint8 tensor ``[C, size, size]``: the per-sample work of file-based datasets.

Runs in DataLoader workers, so it is written for speed: everything stays uint8 (no float round trip),
only the cropped window is converted and resized, and the image is resized once.

* **JPEG** goes through PIL with :meth:`PIL.Image.Image.draft`, which lets libjpeg decode at 1/2, 1/4
  or 1/8 scale in the DCT domain: a 500×375 photo cropped to 64 px decodes 2–3× faster than at full
  size (``benchmarks/decode_speed.py``).
* **WebP** (LSUN's format) goes through ``torchvision.io.decode_image``, 1.2–1.7× faster than PIL;
  animated WebP, which torchvision refuses, falls back to PIL (first frame), and so does every WebP
  once torchvision drops its decoders (deprecated in 0.29 in favour of TorchCodec).
* Everything else (PNG, GIF, BMP, TIFF, …) goes through PIL, which knows every colour mode.

The format is read from the first bytes, never from the file name (a PNG named ``.jpg`` is a PNG).
Colour modes are normalized the same way whatever the decoder: gray, CMYK, palette, YCbCr … → RGB
(or gray for ``channels=1``); 16-bit → 8-bit by dropping the low byte; transparency is composited onto
white, so transparent pixels do not turn into whatever colour happened to be stored under alpha 0.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from gan_zoo.data.transforms import to_channels

try:  # torchvision 0.29 deprecates its decoders for TorchCodec's; without them PIL decodes WebP too
    from torchvision.io import ImageReadMode
    from torchvision.io import decode_image as torchvision_decode

    warnings.filterwarnings("ignore", message="The image decoding and encoding capabilities of TorchVision")
except ImportError:  # pragma: no cover - future torchvision
    torchvision_decode = None

#: ``(x0, y0, x1, y1)`` in pixels of the stored image, edges (not pixel centres), x1 / y1 exclusive.
Window = tuple[float, float, float, float]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

#: The EXIF tag of the orientation.
EXIF_ORIENTATION = 0x0112


def sniff_format(head: bytes) -> str | None:
    """The format from the first 12 bytes (``"JPEG"``, ``"PNG"``, ``"WEBP"``, …); ``None`` if unknown."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


def square_around(box: Window, width: int, height: int) -> Window:
    """The square window that holds ``box`` and stays inside a ``width × height`` image.

    The square's side is the box's longer side, centred on the box and shifted to stay inside the
    image; when the image is too narrow for it the side shrinks to the image's shorter side (and the
    box's long side is cut, symmetrically). With ``box`` the whole image this is the centre square.
    """
    x0, y0, x1, y1 = box
    side = min(max(x1 - x0, y1 - y0), width, height)
    left = min(max((x0 + x1 - side) / 2, 0.0), width - side)
    top = min(max((y0 + y1 - side) / 2, 0.0), height - side)
    return (left, top, left + side, top + side)


def decode_image(
    data: bytes | Path | str,
    size: int,
    channels: int = 3,
    window: Window | None = None,
    upright: bool = False,
) -> Tensor:
    """Decode, crop ``window`` (default: the centre square) and resize to ``size × size``.

    Args:
        data: the encoded image, or the path of a file holding it.
        size: side of the output.
        channels: 3 for RGB, 1 for gray.
        window: region of the stored image to keep, in its pixel coordinates; it should be square
            (see :func:`square_around`), otherwise the aspect ratio changes.
        upright: apply the EXIF orientation of JPEGs. Only with the centre square, which a
            rotation or flip maps onto itself, so the crop can be made before the rotation.

    Returns:
        uint8 ``[channels, size, size]``.

    Raises:
        OSError, ValueError, RuntimeError: the data is not a decodable image.
    """
    if upright and window is not None:
        raise ValueError("upright=True needs the centre square (window=None)")
    raw = data if isinstance(data, bytes | bytearray | memoryview) else Path(data).read_bytes()
    webp = torchvision_decode is not None and sniff_format(bytes(raw[:12])) == "WEBP"
    pixels = _decode_webp(raw, size, window) if webp else None
    if pixels is None:
        pixels = _decode_with_pil(raw, size, window, upright)
    return to_channels(pixels[None], channels)[0]


def _decode_webp(raw: bytes | bytearray | memoryview, size: int, window: Window | None) -> Tensor | None:
    """torchvision's libwebp decoder, then crop, alpha and resize in torch; ``None`` when animated."""
    try:
        pixels = torchvision_decode(
            torch.frombuffer(bytearray(raw), dtype=torch.uint8), ImageReadMode.UNCHANGED
        )
    except RuntimeError as error:
        if "Animated" in str(error):
            return None  # PIL decodes the first frame
        raise
    height, width = pixels.shape[-2:]
    x0, y0, x1, y1 = (round(v) for v in window or square_around((0, 0, width, height), width, height))
    pixels = flatten_alpha(pixels[:, y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)])
    return TF.resize(pixels, [size, size], antialias=True)  # uint8 in, uint8 out: no float copy


def _decode_with_pil(
    raw: bytes | bytearray | memoryview, size: int, window: Window | None, upright: bool
) -> Tensor:
    """PIL, with JPEGs decoded at reduced scale when the window allows it."""
    image = Image.open(io.BytesIO(raw))
    width, height = image.size
    x0, y0, x1, y1 = window or square_around((0, 0, width, height), width, height)
    turn = upright and image.format == "JPEG"
    if image.format == "JPEG":
        # Ask for the whole image at the scale where the window is still >= size pixels; libjpeg
        # picks the smallest DCT scale (1, 1/2, 1/4, 1/8) that is at least that large.
        scale = size / max(x1 - x0, y1 - y0, 1)
        if scale < 1:
            image.draft(None, (math.ceil(width * scale), math.ceil(height * scale)))
    sx, sy = image.width / width, image.height / height
    x0, y0, x1, y1 = x0 * sx, y0 * sy, x1 * sx, y1 * sy
    # Convert the colour mode of the whole pixels around the window only, then resample the
    # (fractional) window itself: PIL's resize takes a float box, so no rounding shifts the crop.
    left, top = math.floor(x0), math.floor(y0)
    image = normalize_mode(image.crop((left, top, max(math.ceil(x1), left + 1), max(math.ceil(y1), top + 1))))
    box = (x0 - left, y0 - top, max(x1 - left, 1e-3), max(y1 - top, 1e-3))
    image = image.resize((size, size), Image.Resampling.BILINEAR, box=box)
    if turn:
        # After the resize: the centre square maps onto itself, so the small image is turned, not the
        # photo. Crop, convert and resize carry the EXIF data along (PIL copies ``info``).
        image = ImageOps.exif_transpose(image)
    array = np.array(image)  # writable copy, [H, W] or [H, W, C]
    pixels = (
        torch.from_numpy(array).unsqueeze(0) if array.ndim == 2 else torch.from_numpy(array).permute(2, 0, 1)
    )
    return flatten_alpha(pixels)


def normalize_mode(image: Image.Image) -> Image.Image:
    """Any PIL mode → L, LA, RGB or RGBA (8 bits a channel)."""
    mode = image.mode
    if mode.startswith("I") or mode == "F":  # 16-bit (I;16*), 32-bit int (I) and float (F) gray
        values = np.asarray(image).astype(np.float64)
        if values.max(initial=0) > 255:  # 16-bit range: keep the high byte
            values = values / 256
        return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("1", "L"):
        return image.convert("L")
    if mode in ("LA", "La", "PA"):
        return image.convert("LA")
    if mode in ("RGBA", "RGBa"):
        return image.convert("RGBA")
    return image.convert("RGB")  # RGB, CMYK (PIL undoes Adobe's inverted CMYK), YCbCr, LAB, HSV, RGBX


def flatten_alpha(pixels: Tensor) -> Tensor:
    """Composite gray + alpha ``[2, H, W]`` or RGBA ``[4, H, W]`` onto white; other inputs unchanged.

    out = (colour · α + 255 · (255 − α)) / 255, rounded, in integers.
    """
    if pixels.shape[0] not in (2, 4):
        return pixels
    colour, alpha = pixels[:-1].int(), pixels[-1:].int()
    return ((colour * alpha + 255 * (255 - alpha) + 127) // 255).to(torch.uint8)
