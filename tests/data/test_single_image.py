"""SingleImage: one image from a file or scikit-image, scaled to fit, repeated in every batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import SingleImage, load_image
from gan_zoo.data.single_image import fit_within
from gan_zoo.data.transforms import normalize


def test_default_photo_ships_with_scikit_image_and_is_scaled_to_fit():
    data = SingleImage(max_size=96)
    assert data.image_shape == (3, 64, 96)  # rocket: 427×640 → longer side 96, aspect kept
    assert data.num_classes is None


def test_every_batch_holds_copies_of_the_image(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    data = SingleImage(image=str(tmp_path / "photo.png"), max_size=None, batch_size=2, steps_per_epoch=5)
    data.setup("fit")
    batches = list(data.train_dataloader())
    assert len(batches) == 5
    images, labels = data.on_after_batch_transfer(batches[0], 0)
    expected = normalize(torch.from_numpy(pixels).permute(2, 0, 1))
    assert (
        images.shape == (2, 3, 12, 20)
        and torch.equal(images[0], expected)
        and torch.equal(images[1], expected)
    )
    assert labels.tolist() == [0, 0]


def test_gray_and_rgba_files_and_channel_conversion(tmp_path):
    Image.fromarray(np.full((6, 8), 200, dtype=np.uint8)).save(tmp_path / "gray.png")
    Image.fromarray(np.full((6, 8, 4), 100, dtype=np.uint8)).save(tmp_path / "rgba.png")
    assert load_image(tmp_path / "gray.png").shape == (1, 6, 8)
    assert load_image(tmp_path / "gray.png", channels=3).shape == (3, 6, 8)
    rgba = load_image(tmp_path / "rgba.png")
    assert rgba.shape == (3, 6, 8) and rgba.unique().tolist() == [100]  # alpha dropped
    assert SingleImage(image=str(tmp_path / "gray.png"), channels=None).image_shape == (1, 6, 8)


def test_images_are_never_scaled_up():
    assert fit_within(30, 40, 250) == (30, 40)
    assert fit_within(427, 640, 96) == (64, 96)
    assert fit_within(500, 500, None) == (500, 500)


def test_missing_images_name_the_choices():
    with pytest.raises(
        FileNotFoundError, match=r"neither an image file nor a scikit-image sample \(.*rocket"
    ):
        SingleImage(image="rockett").image_shape  # noqa: B018
    with pytest.raises(FileNotFoundError, match="no image file at"):
        load_image("photos/missing.png")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        SingleImage(steps_per_epoch=0)
