"""Captioned images: a folder with a captions file, and captions generated from labelled images."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import CaptionedImages, DatasetNotFoundError, DigitsCaptions
from gan_zoo.data.captioned import InMemoryCaptionedImages
from gan_zoo.data.generated_captions import HELD_OUT_TEMPLATES, TRAIN_TEMPLATES, measure, write_captions
from gan_zoo.data.text import decode_text, encode_text


@pytest.fixture
def folder(tmp_path):
    """Three 20×30 images (gray levels 0, 100, 200) with 2, 3 and 1 captions."""
    captions = {
        "a.png": ["black one", "dark one"],
        "b/b.png": ["gray one", "mid one", "middle one"],
        "c.png": ["white one"],
    }
    for i, name in enumerate(captions):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((20, 30, 3), 100 * i, dtype=np.uint8)).save(tmp_path / name)
    (tmp_path / "captions.json").write_text(json.dumps(captions))
    return tmp_path, captions


def test_folder_batches_pair_each_image_with_its_own_captions_and_others(folder):
    root, captions = folder
    data = CaptionedImages(data_dir=root, image_size=8, batch_size=3, captions_per_sample=2)
    assert data.image_shape == (3, 8, 8) and data.num_classes is None
    data.setup("fit")
    own = {100 * i: set(c) for i, c in enumerate(captions.values())}
    for _ in range(5):
        images, labels, text, wrong = next(iter(data.train_dataloader()))
        assert images.shape == (3, 3, 8, 8) and text.shape == wrong.shape == (3, 2, 128)
        for image, mine, theirs in zip(images, text, wrong, strict=True):
            level = int(image[0, 0, 0])
            assert set(decode_text(mine)) <= own[level]
            assert not set(decode_text(theirs)) & own[level]  # another image's captions
    images, *_ = data.on_after_batch_transfer((images, labels, text, wrong), 0)
    assert images.dtype == torch.float32 and images.min() >= -1


def test_missing_files_are_named(folder, tmp_path_factory):
    root, _ = folder
    with pytest.raises(DatasetNotFoundError, match=r"captions\.json"):
        CaptionedImages(data_dir=tmp_path_factory.mktemp("empty")).setup("fit")
    (root / "c.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"c\.png is listed in the captions file"):
        CaptionedImages(data_dir=root, image_size=8).setup("fit")


def test_mismatching_captions_come_from_another_class():
    images = torch.zeros(6, 1, 4, 4, dtype=torch.uint8)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    text = encode_text([f"class {c}" for c in labels.tolist()], 16)
    data = InMemoryCaptionedImages(images, labels, text, torch.arange(6))
    for _ in range(10):
        _, batch_labels, mine, theirs = data.__getitems__(list(range(6)))
        for label, m, t in zip(batch_labels.tolist(), decode_text(mine), decode_text(theirs), strict=True):
            assert m == f"class {label}" and t != f"class {label}"
    kept = data.subset(torch.tensor([4, 1]))
    assert kept.labels.tolist() == [2, 0] and [kept.captions(0), kept.captions(1)] == [
        ["class 2"],
        ["class 0"],
    ]


def test_generated_captions_name_the_class_and_measured_attributes():
    data = DigitsCaptions(image_size=16)
    assert data.num_classes == 10 and data.image_shape == (1, 16, 16)
    data.setup("fit")
    dataset = data.train_set
    first = dataset.captions(0)
    label = int(dataset.labels[0])
    assert len(first) == len(TRAIN_TEMPLATES) and all(DigitsCaptions.names[label] in c for c in first)
    # "large" means more ink than the class's median: check against the measurement itself
    images, labels = data._source().load_split("train")
    area, _ = measure(images)
    written = write_captions(images, labels, DigitsCaptions.names)
    for c in range(10):
        members = (labels == c).nonzero().flatten().tolist()
        median = area[labels == c].median()
        for i in members:
            assert ("large" in written[i][0]) == bool(area[i] > median)


def test_held_out_captions_are_never_training_captions():
    data = DigitsCaptions(image_size=16)
    images, labels = data._source().load_split("train")
    seen = {c for captions in write_captions(images, labels, data.names) for c in captions}
    held_out = {
        c for captions in write_captions(images, labels, data.names, HELD_OUT_TEMPLATES) for c in captions
    }
    assert held_out and not held_out & seen
