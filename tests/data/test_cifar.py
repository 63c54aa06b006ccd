"""CIFAR-10 on pickled-batch fixtures."""

from __future__ import annotations

import hashlib
import tarfile

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


def official_archive(tmp_path) -> bytes:
    """``cifar-10-python.tar.gz`` as released: the folder ``cifar-10-batches-py`` in a gzipped tar."""
    write_cifar10(tmp_path / "release")
    with tarfile.open(tmp_path / "archive.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "release" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return (tmp_path / "archive.tar.gz").read_bytes()


def test_download_fetches_the_official_archive_checks_its_md5_and_unpacks_it(tmp_path, monkeypatch):
    archive = official_archive(tmp_path)
    asked = []

    def fake_download(url, root, filename):
        asked.append(url)
        (root / filename).write_bytes(archive)

    monkeypatch.setattr("gan_zoo.data.archives.download_url", fake_download)
    monkeypatch.setattr(CIFAR10, "archive_md5", hashlib.md5(archive).hexdigest())
    dm = CIFAR10(data_dir=tmp_path / "data", download=True)
    dm.prepare_data()
    dm.prepare_data()  # second call finds the files
    assert asked == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    dm.setup("fit")
    assert np.prod(dm.train_set.images.shape[1:]) == 3072 and len(dm.train_set) == 40
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "cifar-10-batches-py",
        "cifar-10-python.tar.gz",
    ]


def test_a_corrupt_download_is_deleted_and_named_with_the_expected_md5(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "gan_zoo.data.archives.download_url",
        lambda url, root, filename: (root / filename).write_bytes(b"x"),
    )
    with pytest.raises(DatasetNotFoundError) as error:
        CIFAR10(data_dir=tmp_path / "data", download=True).prepare_data()
    assert f"md5 {hashlib.md5(b'x').hexdigest()}, expected c58f30108f718f92721af3b95e74349a" in str(
        error.value
    )
    assert not (tmp_path / "data").exists()
