"""Per-sample datasets: compact name tables, and what happens when data breaks after setup."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from image_fixtures import encode, natural_image
from torch.utils.data import DataLoader

from gan_zoo.data import UnreadableSampleWarning
from gan_zoo.data.encoded import MAX_CONSECUTIVE_FAILURES, ImageFiles, StringTable


def test_string_table_round_trip():
    strings = ["a", "", "n02085620-Chihuahua/n02085620_5927.jpg", "été/ß.png", "x" * 300]
    table = StringTable(strings)
    assert len(table) == 5
    assert [table[i].decode() for i in range(5)] == strings
    assert [t.decode() for t in pickle.loads(pickle.dumps(table))] == strings
    assert len(StringTable([])) == 0


def write_images(directory, n):
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"{i:02d}.png" for i in range(n)]
    for i, name in enumerate(names):
        (directory / name).write_bytes(encode(natural_image(16, 16, seed=i), "PNG"))
    return names


def test_files_decode_with_their_labels(tmp_path):
    names = write_images(tmp_path, 4)
    dataset = ImageFiles(tmp_path, names, np.array([3, 1, 4, 1]), size=8, channels=3)
    image, label = dataset[2]
    assert image.shape == (3, 8, 8) and image.dtype == torch.uint8 and label == 4


def test_a_file_deleted_after_setup_is_replaced_by_the_next_one(tmp_path):
    names = write_images(tmp_path, 4)
    dataset = ImageFiles(tmp_path, names, np.arange(4), size=16, channels=3)
    expected, _ = dataset[2]
    (tmp_path / names[1]).unlink()
    with pytest.warns(UnreadableSampleWarning, match=r"01\.png could not be read.*next sample"):
        image, label = dataset[1]
    assert label == 2 and torch.equal(image, expected)


def test_a_corrupted_last_file_wraps_to_the_first(tmp_path):
    names = write_images(tmp_path, 3)
    dataset = ImageFiles(tmp_path, names, np.arange(3), size=16, channels=3)
    (tmp_path / names[2]).write_bytes(b"garbage")
    with pytest.warns(UnreadableSampleWarning):
        _, label = dataset[2]
    assert label == 0


def test_an_epoch_survives_a_deleted_file_in_worker_processes(tmp_path):
    names = write_images(tmp_path, 12)
    dataset = ImageFiles(tmp_path, names, np.arange(12), size=16, channels=3)
    (tmp_path / names[5]).unlink()
    loader = DataLoader(dataset, batch_size=4, num_workers=2, shuffle=True, drop_last=True)
    batches = list(loader)
    assert len(batches) == 3 and all(images.shape == (4, 3, 16, 16) for images, _ in batches)
    labels = torch.cat([labels for _, labels in batches]).tolist()
    assert 5 not in labels and labels.count(6) == 2  # sample 6 stood in for 5


def test_gives_up_with_a_clear_error_when_the_data_is_gone(tmp_path):
    names = write_images(tmp_path / "images", MAX_CONSECUTIVE_FAILURES + 4)
    dataset = ImageFiles(tmp_path / "images", names, np.zeros(len(names)), size=16, channels=3)
    for name in names:
        (tmp_path / "images" / name).unlink()
    with (
        pytest.warns(UnreadableSampleWarning),
        pytest.raises(RuntimeError, match="no longer where setup found it"),
    ):
        dataset[0]


def test_mismatched_lengths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="2 files but 3 labels"):
        ImageFiles(tmp_path, ["a", "b"], np.arange(3), size=8, channels=3)
    with pytest.raises(ValueError, match="windows"):
        ImageFiles(tmp_path, ["a"], np.arange(1), size=8, channels=3, windows=np.zeros((2, 4)))
