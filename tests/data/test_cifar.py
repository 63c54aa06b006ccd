"""CIFAR-10 on pickled-batch fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fixtures import write_cifar10

from gan_zoo.data import CIFAR10, DatasetNotFoundError


def test_reads_the_python_pickles(tmp_path):
    written = write_cifar10(tmp_path)
    dm = CIFAR10(data_dir=tmp_path)
    dm.setup()
    assert len(dm.train_set) == 40 and len(dm.test_set) == 8
    data, labels = written["data_batch_1"]
    # Each row holds the 1024 red, then green, then blue values of a 32×32 image in row-major order.
    assert torch.equal(dm.train_set.images[0], torch.from_numpy(data[0].reshape(3, 32, 32)))
    assert dm.train_set.labels[:8].tolist() == labels
    test_data, _ = written["test_batch"]
    assert torch.equal(dm.test_set.images[3, 1], torch.from_numpy(test_data[3, 1024:2048].reshape(32, 32)))
    assert dm.image_shape == (3, 32, 32) and dm.num_classes == 10


def test_grayscale_conversion(tmp_path):
    write_cifar10(tmp_path)
    dm = CIFAR10(data_dir=tmp_path, channels=1, image_size=16)
    dm.setup("fit")
    assert dm.train_set.images.shape == (40, 1, 16, 16)


def test_missing_batches_are_listed(tmp_path):
    write_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DatasetNotFoundError, match="data_batch_3") as error:
        CIFAR10(data_dir=tmp_path).setup("fit")
    assert "cifar-10-python.tar.gz" in str(error.value)


def test_download_fetches_the_official_archive_with_md5(tmp_path, monkeypatch):
    calls = []

    def fake_download(url, root, md5):
        calls.append((url, md5))
        write_cifar10(tmp_path)

    monkeypatch.setattr("gan_zoo.data.cifar.download_and_extract_archive", fake_download)
    dm = CIFAR10(data_dir=tmp_path, download=True)
    dm.prepare_data()
    dm.prepare_data()  # second call finds the files
    assert calls == [(CIFAR10.url, "c58f30108f718f92721af3b95e74349a")]
    dm.setup("fit")
    assert np.prod(dm.train_set.images.shape[1:]) == 3072
