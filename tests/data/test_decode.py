"""Decoding one encoded image: formats by content, colour modes, crop windows, EXIF, exactness."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from image_fixtures import QUIRKY_FILES, encode, natural_image, with_orientation
from PIL import Image, ImageOps

from gan_zoo.data.decode import decode_image, flatten_alpha, sniff_format, square_around


def as_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("WEBP", "WEBP"), ("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF")],
)
def test_format_is_read_from_the_bytes(fmt, expected):
    assert sniff_format(encode(natural_image(8, 8), fmt)[:12]) == expected


def test_unknown_bytes_have_no_format():
    assert sniff_format(b"hello world!") is None
    assert sniff_format(b"") is None


@pytest.mark.parametrize(
    ("box", "size", "window"),
    [
        ((0, 0, 300, 200), (300, 200), (50, 0, 250, 200)),  # whole image → centre square
        ((0, 0, 200, 300), (200, 300), (0, 50, 200, 250)),
        ((100, 50, 140, 130), (300, 200), (80, 50, 160, 130)),  # tall box → square around its centre
        ((0, 0, 40, 20), (300, 200), (0, 0, 40, 40)),  # shifted down to stay inside
        ((280, 190, 300, 200), (300, 200), (280, 180, 300, 200)),  # shifted up-left at the corner
        ((10, 20, 290, 60), (300, 200), (50, 0, 250, 200)),  # box wider than the image is high: cut
    ],
)
def test_square_around(box, size, window):
    assert square_around(box, *size) == pytest.approx(window)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "BMP", "TIFF"])
def test_lossless_formats_decode_exactly(fmt):
    image = natural_image(40, 56, seed=3)
    options = {"lossless": True} if fmt == "WEBP" else {}
    decoded = decode_image(encode(image, fmt, **options), size=40)  # centre square at native size
    assert decoded.dtype == torch.uint8 and decoded.shape == (3, 40, 40)
    assert torch.equal(decoded, as_tensor(image)[:, :, 8:48])


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_window_crops_that_region(fmt):
    pixels = np.zeros((60, 80, 3), dtype=np.uint8)
    pixels[10:40, 30:60] = (10, 200, 30)
    data = encode(Image.fromarray(pixels), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    decoded = decode_image(data, size=16, window=(30, 10, 60, 40))
    assert (decoded == torch.tensor([10, 200, 30]).view(3, 1, 1)).all()


def test_jpeg_reduced_scale_decode_matches_full_decode():
    """PIL's draft decodes at 1/8 scale here; the result must match decoding at full size."""
    image = natural_image(600, 800, seed=1, cell=32)
    data = encode(image, "JPEG", quality=95)
    fast = decode_image(data, size=64).float()
    full = Image.open(io.BytesIO(data)).convert("RGB").crop((100, 0, 700, 600))
    reference = as_tensor(full.resize((64, 64), Image.Resampling.BILINEAR, reducing_gap=None)).float()
    assert (fast - reference).abs().mean() < 2.0


def test_jpeg_box_window_with_draft_keeps_its_place():
    pixels = np.full((480, 640, 3), 30, dtype=np.uint8)
    pixels[200:328, 400:528] = (250, 250, 250)
    data = encode(Image.fromarray(pixels), "JPEG", quality=95)
    decoded = decode_image(data, size=32, window=(400, 200, 528, 328)).float()
    assert decoded[:, 2:-2, 2:-2].min() > 235  # all white inside, away from the blurred edge


def test_output_is_gray_with_one_channel():
    image = natural_image(32, 32, seed=2)
    gray = decode_image(encode(image, "PNG"), size=32, channels=1)
    reference = torch.from_numpy(np.array(image.convert("L"))).unsqueeze(0)
    assert gray.shape == (1, 32, 32)
    assert (gray.int() - reference.int()).abs().max() <= 1  # same ITU-R 601 luma, rounding aside


def test_grayscale_becomes_rgb_by_repetition():
    decoded = decode_image(QUIRKY_FILES["gray.jpg"][0](), size=32)
    assert torch.equal(decoded[0], decoded[1]) and torch.equal(decoded[1], decoded[2])


def test_cmyk_jpeg_keeps_its_colours():
    red = Image.new("RGB", (40, 40), (220, 30, 30)).convert("CMYK")
    decoded = decode_image(encode(red, "JPEG", quality=95), size=16).float().mean(dim=(1, 2))
    assert decoded.tolist() == pytest.approx([220, 30, 30], abs=6)


def test_transparency_is_composited_onto_white():
    decoded = decode_image(QUIRKY_FILES["rgba.png"][0](), size=72)  # transparent black | opaque red
    assert (decoded[:, :, :36] == 255).all()
    assert (decoded[:, :, 36:] == torch.tensor([255, 0, 0]).view(3, 1, 1)).all()


def test_flatten_alpha_formula():
    pixels = torch.tensor([[[100]], [[0]], [[200]], [[128]]], dtype=torch.uint8)  # RGBA, α = 128/255
    out = flatten_alpha(pixels).flatten().tolist()
    # (c·α + 255·(255 − α)) / 255: (100·128 + 255·127) / 255 = 177.2 → 177; 0 → 127; 200 → 227.4 → 227
    assert out == [177, 127, 227]
    assert torch.equal(flatten_alpha(pixels[:3]), pixels[:3])  # no alpha: unchanged


def test_transparent_palette_entries_become_white():
    palette = Image.new("P", (20, 20), 0)
    palette.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    palette.paste(1, (10, 0, 20, 20))  # right half: palette entry 1, green
    decoded = decode_image(encode(palette, "PNG", transparency=0), size=20)
    assert (decoded[:, :, :10] == 255).all()
    assert (decoded[:, :, 10:] == torch.tensor([0, 255, 0]).view(3, 1, 1)).all()


def test_sixteen_bit_keeps_the_high_byte():
    decoded = decode_image(QUIRKY_FILES["sixteen_bit.png"][0](), size=16)  # 0x8000 everywhere
    assert (decoded == 128).all()


@pytest.mark.parametrize("name", ["animated.gif", "animated.webp"])
def test_animations_give_their_first_frame(name):
    first = as_tensor(natural_image(72, 72, 0)).float()
    decoded = decode_image(QUIRKY_FILES[name][0](), size=72).float()
    others = [as_tensor(natural_image(72, 72, seed)).float() for seed in (1, 2)]
    error = (decoded - first).abs().mean()
    assert all(error < (decoded - other).abs().mean() / 3 for other in others)


def test_png_named_jpg_is_decoded_as_png(tmp_path):
    image = natural_image(24, 24, seed=4)
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(image, "PNG"))
    assert torch.equal(decode_image(path, size=24), as_tensor(image))


def test_exif_orientation_is_applied_when_asked():
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:, :20] = (255, 0, 0)  # stored: red left half, black right half
    data = with_orientation(Image.fromarray(pixels), 6)  # "rotate 90° clockwise to display"
    upright = decode_image(data, size=40, upright=True).float()
    reference = as_tensor(ImageOps.exif_transpose(Image.open(io.BytesIO(data)))).float()
    assert (upright - reference).abs().mean() < 1
    assert upright[0, :15].mean() > 240 and upright[0, 25:].mean() < 15  # red on top now
    stored = decode_image(data, size=40).float()
    assert stored[0, :, :15].mean() > 240  # without upright: as stored


def test_upright_needs_the_centre_square():
    with pytest.raises(ValueError, match="centre square"):
        decode_image(b"", size=8, window=(0, 0, 4, 4), upright=True)


@pytest.mark.parametrize("name", ["truncated.jpg", "empty.jpg", "text.png"])
def test_broken_data_raises(name):
    with pytest.raises((OSError, ValueError, RuntimeError)):
        decode_image(QUIRKY_FILES[name][0](), size=16)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_small_images_are_upscaled(size):
    decoded = decode_image(QUIRKY_FILES["small.jpg"][0](), size=size)
    assert decoded.shape == (3, size, size) and decoded.dtype == torch.uint8
