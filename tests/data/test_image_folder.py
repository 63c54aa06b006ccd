"""ImageFolder on trees of files: flat or with class folders, recursive, every quirk."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from image_fixtures import SKIPPED, encode, expected_quirks, natural_image, write_quirky_files

from gan_zoo.data import DatasetNotFoundError, ImageFolder, UnreadableSampleWarning


def write(path, seed=0, fmt="JPEG", size=(80, 100)):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(natural_image(*size, seed=seed), fmt))


def test_flat_folder_is_unlabelled(tmp_path):
    for i in range(5):
        write(tmp_path / f"img{i}.jpg", seed=i)
    dm = ImageFolder(data_dir=tmp_path, image_size=32, batch_size=5)
    assert dm.num_classes is None and dm.image_shape == (3, 32, 32)
    dm.setup("fit")
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (5, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist() == [0] * 5
    assert dm.quirks["train"] == {}


def test_class_folders_label_images_at_any_depth(tmp_path):
    write(tmp_path / "cats" / "a.jpg")
    write(tmp_path / "cats" / "indoor" / "deep" / "b.png", fmt="PNG")
    write(tmp_path / "dogs" / "c.JPEG")
    write(tmp_path / "birds" / "d.webp", fmt="WEBP")
    write(tmp_path / "loose.jpg")  # not in a class folder
    (tmp_path / "dogs" / "notes.txt").write_text("not an image")
    (tmp_path / "dogs" / "._c.JPEG").write_bytes(b"\x00\x05\x16\x07AppleDouble")  # macOS metadata
    write(tmp_path / "dogs" / ".ipynb_checkpoints" / "c-checkpoint.jpg")
    (tmp_path / ".cache").mkdir()
    dm = ImageFolder(data_dir=tmp_path, image_size=16)
    assert dm.classes == ("birds", "cats", "dogs") and dm.num_classes == 3
    dm.setup("fit")
    found = sorted(
        (dm.train_set.describe(i).removeprefix(str(tmp_path) + "/"), int(dm.train_set.labels[i]))
        for i in range(len(dm.train_set))
    )
    assert found == [
        ("birds/d.webp", 0),
        ("cats/a.jpg", 1),
        ("cats/indoor/deep/b.png", 1),
        ("dogs/c.JPEG", 2),
    ]
    assert dm.quirks["train"] == {"outside_class_folders": 1, "hidden": 1}


def test_class_folders_can_be_ignored(tmp_path):
    write(tmp_path / "a" / "1.jpg")
    write(tmp_path / "b" / "2.jpg")
    write(tmp_path / "3.jpg")
    dm = ImageFolder(data_dir=tmp_path, image_size=16, class_folders=False)
    assert dm.num_classes is None
    dm.setup("fit")
    assert len(dm.train_set) == 3 and set(dm.train_set.labels.tolist()) == {0}


def test_every_quirk_is_counted_and_no_batch_fails(tmp_path):
    names = write_quirky_files(tmp_path)
    dm = ImageFolder(data_dir=tmp_path, image_size=64, batch_size=4)
    dm.setup("fit")
    assert dict(dm.quirks["train"]) == expected_quirks(names)
    assert len(dm.train_set) == len(names) - len(SKIPPED)
    batches = list(dm.train_dataloader())
    assert sum(len(labels) for _, labels in batches) == 4 * (len(dm.train_set) // 4)
    for images, _ in batches:
        assert images.shape == (4, 3, 64, 64) and images.dtype == torch.uint8


def test_exif_rotated_photos_come_out_upright(tmp_path):
    from image_fixtures import with_orientation
    from PIL import Image

    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:, :20] = (255, 0, 0)  # stored: red on the left; orientation 6 shows it on top
    (tmp_path / "phone.jpg").write_bytes(with_orientation(Image.fromarray(pixels), 6))
    dm = ImageFolder(data_dir=tmp_path, image_size=40, batch_size=1)
    dm.setup("fit")
    image, _ = dm.train_set[0]
    assert image[0, :15].float().mean() > 240 and image[0, 25:].float().mean() < 15
    assert dm.quirks["train"] == {"exif_rotated": 1}


def test_gray_output(tmp_path):
    write(tmp_path / "a.jpg")
    write_quirky_files(tmp_path, ["gray.jpg"])
    dm = ImageFolder(data_dir=tmp_path, image_size=32, channels=1)
    assert dm.image_shape == (1, 32, 32)
    dm.setup("fit")
    assert dm.train_set[0][0].shape == (1, 32, 32)
    assert dm.quirks["train"] == {}  # gray asked for: nothing converted


def test_without_verification_bad_files_are_replaced_while_training(tmp_path):
    write_quirky_files(tmp_path, ["truncated.jpg"])
    write(tmp_path / "z_good.jpg")
    dm = ImageFolder(data_dir=tmp_path, image_size=16, verify_images=False)
    dm.setup("fit")
    assert len(dm.train_set) == 2 and dm.quirks["train"] == {}
    with pytest.warns(UnreadableSampleWarning, match="truncated.jpg"):
        replaced, _ = dm.train_set[0]
    assert torch.equal(replaced, dm.train_set[1][0])


def test_test_split_is_the_whole_folder_and_val_split_holds_out(tmp_path):
    for i in range(10):
        write(tmp_path / f"{i}.jpg", seed=i)
    dm = ImageFolder(data_dir=tmp_path, image_size=16, val_split=0.2)
    dm.setup()
    assert len(dm.train_set) == 8 and len(dm.val_set) == 2 and len(dm.test_set) == 10


def test_missing_folder(tmp_path):
    dm = ImageFolder(data_dir=tmp_path / "nowhere")
    assert dm.num_classes is None  # nothing to list yet; built without touching the data
    with pytest.raises(DatasetNotFoundError, match="nowhere"):
        dm.setup("fit")


def test_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match="no usable images"):
        ImageFolder(data_dir=tmp_path).setup("fit")


def test_image_size_is_required():
    with pytest.raises(ValueError, match="image_size"):
        ImageFolder(data_dir="x", image_size=None)
