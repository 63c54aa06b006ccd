"""Per-sample decoding speed: gan_zoo's decode_image against a plain full-size PIL decode.

    python benchmarks/decode_speed.py

Prints milliseconds per image (one thread, best of 5 rounds) for a Stanford-Dogs-sized JPEG
(500×375) and an LSUN-sized WebP (341×256), centre-cropped and resized to 32, 64 and 128 px.
The images are synthetic (smooth random colour fields), so absolute numbers are indicative only.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_zoo.data.decode import decode_image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))
from image_fixtures import encode, natural_image  # the test suite's image writers


def plain_pil(data: bytes, size: int) -> torch.Tensor:
    """What a straightforward loader does: decode at full size, crop, resize, convert."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    image = image.resize((size, size), Image.Resampling.BILINEAR, box=(left, top, left + s, top + s))
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)


def milliseconds(function, data: bytes, size: int, n: int = 200) -> float:
    function(data, size)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            function(data, size)
        best = min(best, (time.perf_counter() - start) / n * 1e3)
    return best


def main() -> None:
    torch.set_num_threads(1)
    images = {
        "JPEG 500×375": encode(natural_image(375, 500, cell=16), "JPEG", quality=90),
        "WebP 341×256": encode(natural_image(256, 341, cell=16), "WEBP", quality=75),
    }
    print(f"{'image':14} {'size':>5} {'decode_image':>13} {'plain PIL':>10}")
    for name, data in images.items():
        for size in (32, 64, 128):
            ours, plain = milliseconds(decode_image, data, size), milliseconds(plain_pil, data, size)
            print(f"{name:14} {size:5d} {ours:10.2f} ms {plain:7.2f} ms")


if __name__ == "__main__":
    main()
