"""Writers of encoded-image datasets in their real on-disk formats, quirks included.

* :func:`write_lsun` — an lmdb environment written with the ``lmdb`` package, LSUN's layout;
* :func:`write_stanford_dogs` — ``Images/``, ``Annotation/`` (PASCAL VOC XML), the ``*_list.mat`` files
  (scipy.io, MATLAB cell arrays as in the official ones) and, on request, the three tar archives;
* :data:`QUIRKY_FILES` — one file per image quirk, for any of them.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lmdb
import numpy as np
import scipy.io
from PIL import Image

from gan_zoo.data.stanford_dogs import BREED_FOLDERS


def natural_image(height: int, width: int, seed: int = 0, cell: int = 8) -> Image.Image:
    """A smooth random RGB image, random colours ``cell`` pixels apart (compresses like a photo)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(height // cell + 2, width // cell + 2, 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def with_orientation(image: Image.Image, orientation: int) -> bytes:
    """A JPEG whose EXIF says how to turn it upright."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def _animated(fmt: str) -> bytes:
    frames = [natural_image(72, 72, seed) for seed in range(3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], duration=100)
    return buffer.getvalue()


def _transparent_rgba() -> bytes:
    pixels = np.zeros((72, 72, 4), dtype=np.uint8)  # black, fully transparent ...
    pixels[:, 36:] = (255, 0, 0, 255)  # ... except an opaque red right half
    return encode(Image.fromarray(pixels, "RGBA"), "PNG")


def _sixteen_bit() -> bytes:
    return encode(Image.fromarray(np.full((72, 72), 0x8000, dtype=np.uint16)), "PNG")


def _truncated_jpeg() -> bytes:
    data = encode(natural_image(72, 96, 3), "JPEG", quality=90)
    return data[: len(data) // 2]


def _truncated_png() -> bytes:
    data = encode(natural_image(72, 96, 4), "PNG")
    return data[: len(data) - 40]


#: name → (bytes, what :class:`~gan_zoo.data.quirks.Quirks` should count for it at 3 channels).
QUIRKY_FILES: dict[str, tuple[Callable[[], bytes], dict[str, int]]] = {
    "gray.jpg": (lambda: encode(natural_image(72, 72, 1).convert("L"), "JPEG"), {"grayscale": 1}),
    "cmyk.jpg": (lambda: encode(natural_image(72, 72, 2).convert("CMYK"), "JPEG"), {"cmyk": 1}),
    "png_named.jpg": (lambda: encode(natural_image(72, 72, 5), "PNG"), {"format_mismatch": 1}),
    "rgba.png": (_transparent_rgba, {"alpha": 1}),
    "palette.png": (lambda: encode(natural_image(72, 72, 6).convert("P"), "PNG"), {"palette": 1}),
    "palette_transparent.png": (
        lambda: encode(natural_image(72, 72, 7).convert("P"), "PNG", transparency=0),
        {"palette": 1, "alpha": 1},
    ),
    "gray_alpha.png": (
        lambda: encode(natural_image(72, 72, 8).convert("LA"), "PNG"),
        {"grayscale": 1, "alpha": 1},
    ),
    "sixteen_bit.png": (_sixteen_bit, {"grayscale": 1, "high_bit_depth": 1}),
    "animated.gif": (lambda: _animated("GIF"), {"palette": 1, "animated": 1}),
    "animated.webp": (lambda: _animated("WEBP"), {"animated": 1}),
    "rotated.jpg": (lambda: with_orientation(natural_image(72, 96, 9), 6), {"exif_rotated": 1}),
    "small.jpg": (lambda: encode(natural_image(20, 30, 10), "JPEG"), {"upscaled": 1}),
    "trailing_bytes.jpg": (lambda: encode(natural_image(72, 72, 11), "JPEG") + b"\x00" * 7 + b"junk", {}),
    "truncated.jpg": (_truncated_jpeg, {"truncated": 1}),
    "truncated.png": (_truncated_png, {"truncated": 1}),
    "empty.jpg": (lambda: b"", {"unreadable": 1}),
    "text.png": (lambda: b"not an image at all\n", {"unreadable": 1}),
}

#: Quirky files that setup skips.
SKIPPED = {"truncated.jpg", "truncated.png", "empty.jpg", "text.png"}


def write_quirky_files(directory: Path, names: list[str] | None = None) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    names = list(QUIRKY_FILES) if names is None else names
    for name in names:
        (directory / name).write_bytes(QUIRKY_FILES[name][0]())
    return names


def expected_quirks(names: list[str]) -> dict[str, int]:
    total: dict[str, int] = {}
    for name in names:
        for key, n in QUIRKY_FILES[name][1].items():
            total[key] = total.get(key, 0) + n
    return total


# ---------------------------------------------------------------------------------------------- LSUN
def write_lsun(
    root: Path,
    category: str = "bedroom",
    split: str = "train",
    n: int = 12,
    fmt: str = "WEBP",
    extra: dict[bytes, bytes] | None = None,
    seed: int = 0,
) -> dict[bytes, bytes]:
    """``root/<category>_<split>_lmdb`` with ``n`` images keyed by the SHA-1 of their bytes (as LSUN's ids).

    Images are 64 × 85 (LSUN's are 256 on the shorter side, a quarter of that here), lossless WebP
    by default so tests can compare pixels exactly. ``extra`` adds raw key → value records.
    """
    records = {}
    for i in range(n):
        image = natural_image(64, 85, seed * 1000 + i)
        value = encode(image, fmt, lossless=True) if fmt == "WEBP" else encode(image, fmt, quality=90)
        records[hashlib.sha1(value).hexdigest().encode()] = value
    records.update(extra or {})
    root.mkdir(parents=True, exist_ok=True)
    env = lmdb.open(str(root / f"{category}_{split}_lmdb"), map_size=1 << 28)
    with env.begin(write=True) as txn:
        for key, value in records.items():
            txn.put(key, value)
    env.close()
    return dict(sorted(records.items()))


# -------------------------------------------------------------------------------------- Stanford Dogs
@dataclass
class DogImage:
    """One image of the fixture: where it is, its label, size and boxes (as written in its XML)."""

    file: str  # relative to Images/
    label: int  # 0-based
    width: int
    height: int
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)
    split: str = "train"


def _voc_xml(image: DogImage, breed: str, boxes: list[tuple[int, int, int, int]]) -> str:
    objects = "".join(
        f"\t<object>\n\t\t<name>{breed}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n"
        f"\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>{x0}</xmin>\n\t\t\t<ymin>{y0}</ymin>\n"
        f"\t\t\t<xmax>{x1}</xmax>\n\t\t\t<ymax>{y1}</ymax>\n\t\t</bndbox>\n\t</object>\n"
        for x0, y0, x1, y1 in boxes
    )
    stem = Path(image.file).stem
    return (
        f"<annotation>\n\t<folder>{stem.split('_')[0][1:]}</folder>\n\t<filename>{stem}</filename>\n"
        "\t<source>\n\t\t<database>ImageNet database</database>\n\t</source>\n"
        f"\t<size>\n\t\t<width>{image.width}</width>\n\t\t<height>{image.height}</height>\n"
        f"\t\t<depth>3</depth>\n\t</size>\n\t<segment>0</segment>\n{objects}</annotation>"
    )


def _dog_photo(image: DogImage, seed: int) -> Image.Image:
    """Background noise with each box filled in a flat colour that encodes the label (red = label)."""
    photo = natural_image(image.height, image.width, seed)
    for x0, y0, x1, y1 in image.boxes:
        photo.paste((image.label * 40 % 256, 200, 50), (max(x0, 0), max(y0, 0), x1, y1))
    return photo


def write_mat_list(path: Path, images: list[DogImage]) -> None:
    """A ``*_list.mat`` as in ``lists.tar``: N × 1 cell arrays of strings and an N × 1 double column."""
    files = np.empty((len(images), 1), dtype=object)
    annotations = np.empty((len(images), 1), dtype=object)
    for i, image in enumerate(images):
        files[i, 0] = image.file
        annotations[i, 0] = image.file.removesuffix(".jpg")
    labels = np.array([[image.label + 1] for image in images], dtype=np.float64).reshape(-1, 1)
    scipy.io.savemat(path, {"file_list": files, "annotation_list": annotations, "labels": labels})


def clean_dogs(
    breeds: tuple[int, ...] = (0, 5, 119), per_breed: int = 3, test_per_breed: int = 2
) -> list[DogImage]:
    """Well-formed images of a few breeds: one box each, a second box on every third image."""
    images = []
    for label in breeds:
        folder = BREED_FOLDERS[label]
        wnid = folder.split("-")[0]
        for i in range(per_breed + test_per_breed):
            width, height = 150 + 8 * i, 120 + 4 * i
            boxes = [(10, 8, 10 + 70 + 2 * i, 8 + 70 + 2 * i)]
            if i % 3 == 2:
                boxes.append((width - 70, height - 68, width - 2, height - 2))
            split = "train" if i < per_breed else "test"
            images.append(DogImage(f"{folder}/{wnid}_{1000 + i}.jpg", label, width, height, boxes, split))
    return images


def write_stanford_dogs(root: Path, images: list[DogImage], archives: bool = False) -> list[DogImage]:
    """The official tree for ``images`` under ``root``; with ``archives`` the three tars instead."""
    for seed, image in enumerate(images):
        path = root / "Images" / image.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(_dog_photo(image, seed), "JPEG", quality=95))
        notes = root / "Annotation" / image.file.removesuffix(".jpg")
        notes.parent.mkdir(parents=True, exist_ok=True)
        notes.write_text(_voc_xml(image, image.file.split("/")[0].split("-", 1)[1], image.boxes))
    write_mat_list(root / "file_list.mat", images)
    write_mat_list(root / "train_list.mat", [im for im in images if im.split == "train"])
    write_mat_list(root / "test_list.mat", [im for im in images if im.split == "test"])
    if archives:
        pack_stanford_dogs(root)
    return images


def pack_stanford_dogs(root: Path) -> None:
    """Replace the tree by ``images.tar``, ``annotation.tar`` and ``lists.tar`` with the official layout."""
    import shutil

    for name, entries in (
        ("images.tar", ["Images"]),
        ("annotation.tar", ["Annotation"]),
        ("lists.tar", ["file_list.mat", "train_list.mat", "test_list.mat"]),
    ):
        with tarfile.open(root / name, "w") as tar:
            for entry in entries:
                tar.add(root / entry, arcname=entry)
        for entry in entries:
            path = root / entry
            shutil.rmtree(path) if path.is_dir() else path.unlink()


#: What :func:`write_messy_dogs` breaks, and what setup must count for it (train split, bbox crops).
MESSY_DOGS_QUIRKS = {
    "grayscale": 1,
    "cmyk": 1,
    "format_mismatch": 1,
    "truncated": 1,
    "image_without_annotation": 1,
    "annotation_without_image": 1,
    "missing_image": 1,
    "box_clamped": 1,
    "degenerate_box": 2,
    "annotation_without_boxes": 1,
    "unreadable_annotation": 1,
}


def write_messy_dogs(root: Path) -> tuple[list[DogImage], int]:
    """A Stanford Dogs tree with every quirk of :data:`MESSY_DOGS_QUIRKS` in its train split.

    Returns the images and the number of bbox samples the train split must yield.
    """
    images = [
        DogImage(
            f"{BREED_FOLDERS[label]}/{BREED_FOLDERS[label][:9]}_{i}.jpg",
            label,
            160,
            120,
            [(20, 10, 110, 100)],
        )
        for label in (3, 7)
        for i in range(7)
    ]
    images[1].boxes = [(100, 30, 190, 110)]  # partly outside: clamped to x1 = 160
    images[2].boxes = [(20, 10, 110, 100), (50, 50, 50, 90)]  # a good box and an empty one
    images[3].boxes = [(300, 300, 400, 400)]  # wholly outside the image
    images[4].boxes = []  # <annotation> without <object>
    write_stanford_dogs(root, images)
    photos, notes = root / "Images", root / "Annotation"
    (notes / images[5].file.removesuffix(".jpg")).write_text(
        "<annotation><object><bndbox><xmin>1"
    )  # broken XML
    gray, cmyk, png, truncated, unannotated, unphotographed, vanished = images[6:13]
    (photos / gray.file).write_bytes(encode(natural_image(120, 160, 1).convert("L"), "JPEG"))
    (photos / cmyk.file).write_bytes(encode(natural_image(120, 160, 2).convert("CMYK"), "JPEG"))
    (photos / png.file).write_bytes(encode(natural_image(120, 160, 3), "PNG"))  # a PNG behind .jpg
    data = (photos / truncated.file).read_bytes()
    (photos / truncated.file).write_bytes(data[: len(data) // 2])
    (notes / unannotated.file.removesuffix(".jpg")).unlink()
    (photos / unphotographed.file).unlink()
    (photos / vanished.file).unlink()
    (notes / vanished.file.removesuffix(".jpg")).unlink()
    # Samples: the first and last images, the clamped box, the good box of two, gray, CMYK, PNG.
    return images, 7
