"""MNIST family on IDX fixture files."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from fixtures import write_mnist_family
from torchvision.datasets.mnist import read_image_file

from gan_zoo.data import MNIST, DatasetNotFoundError, FashionMNIST
from gan_zoo.data.idx import read_idx

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_idx_reader_agrees_with_torchvision(tmp_path):
    arrays = write_mnist_family(tmp_path, gz=False)
    ours = read_idx(tmp_path / "train-images-idx3-ubyte")
    assert torch.equal(ours, read_image_file(str(tmp_path / "train-images-idx3-ubyte")))
    assert torch.equal(ours, torch.from_numpy(arrays["train"][0]))


def test_truncated_idx_file_gives_a_clear_error(tmp_path):
    write_mnist_family(tmp_path, gz=False)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(path)
    path.write_bytes(b"not an idx file at all")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_loads_torchvision_layout(tmp_path, cls, gz):
    arrays = write_mnist_family(tmp_path / cls.folder / "raw", gz=gz)
    dm = cls(data_dir=tmp_path, batch_size=4)
    dm.setup()
    assert len(dm.train_set) == 20 and len(dm.test_set) == 10
    images, labels = dm.train_set.images, dm.train_set.labels
    assert images.dtype == torch.uint8 and images.shape == (20, 1, 28, 28)
    assert torch.equal(images[:, 0], torch.from_numpy(arrays["train"][0]))
    assert torch.equal(labels, torch.from_numpy(arrays["train"][1]).long())
    assert dm.num_classes == 10 and dm.image_shape == (1, 28, 28)


def test_files_directly_in_data_dir_are_found(tmp_path):
    write_mnist_family(tmp_path)
    dm = MNIST(data_dir=tmp_path)
    dm.setup("fit")
    assert len(dm.train_set) == 20


def test_resize_and_channels_are_applied_once_at_setup(tmp_path):
    write_mnist_family(tmp_path / "MNIST" / "raw")
    dm = MNIST(data_dir=tmp_path, image_size=32, channels=3, batch_size=4)
    assert dm.image_shape == (3, 32, 32)
    dm.setup("fit")
    assert dm.train_set.images.shape == (20, 3, 32, 32) and dm.train_set.images.dtype == torch.uint8


def test_missing_files_say_what_to_do(tmp_path):
    dm = MNIST(data_dir=tmp_path / "nowhere")
    with pytest.raises(DatasetNotFoundError) as error:
        dm.setup("fit")
    message = str(error.value)
    assert "MNIST not found" in message and "download=True" in message
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte.gz" in message


def test_fashion_mnist_error_names_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setattr(FashionMNIST, "system_dirs", ())
    with pytest.raises(DatasetNotFoundError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST(data_dir=tmp_path).setup("fit")


def test_fashion_mnist_finds_system_files(tmp_path, monkeypatch):
    system = tmp_path / "usr-share"
    write_mnist_family(system)
    monkeypatch.setattr(FashionMNIST, "system_dirs", (str(system),))
    dm = FashionMNIST(data_dir=tmp_path / "empty")
    dm.setup("fit")
    assert len(dm.train_set) == 20


def test_download_is_skipped_when_files_exist(tmp_path, monkeypatch):
    write_mnist_family(tmp_path / "MNIST" / "raw")

    def fail(*args, **kwargs):
        raise AssertionError("must not download")

    monkeypatch.setattr("gan_zoo.data.archives.download_url", fail)
    MNIST(data_dir=tmp_path, download=True).prepare_data()


def serve(files: dict[str, bytes], monkeypatch) -> list[str]:
    """Answer downloads from ``files`` (by file name) instead of the network; returns the URLs asked for."""
    asked = []

    def fake_download(url, root, filename):
        asked.append(url)
        (root / filename).write_bytes(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr("gan_zoo.data.archives.download_url", fake_download)
    return asked


@pytest.mark.parametrize("cls", [MNIST, FashionMNIST])
def test_download_fetches_torchvisions_files_and_checks_their_md5(cls, tmp_path, monkeypatch):
    monkeypatch.setattr(cls, "system_dirs", ())
    write_mnist_family(tmp_path / "server")
    files = {path.name: path.read_bytes() for path in (tmp_path / "server").iterdir()}
    library = getattr(torchvision.datasets, cls.folder)
    md5s = {name: hashlib.md5(data).hexdigest() for name, data in files.items()}
    monkeypatch.setattr(library, "resources", [(name, md5s[name]) for name, _ in library.resources])
    asked = serve(files, monkeypatch)
    dm = cls(data_dir=tmp_path / "data", download=True)
    dm.prepare_data()
    assert asked == [library.mirrors[0] + name for name, _ in library.resources]
    dm.prepare_data()  # nothing left to fetch
    assert len(asked) == 4
    dm.setup("fit")
    assert len(dm.train_set) == 20
    assert sorted(p.name for p in (tmp_path / "data" / cls.folder / "raw").iterdir()) == sorted(files)


def test_a_download_with_the_wrong_md5_is_deleted_and_the_next_mirror_tried(tmp_path, monkeypatch):
    write_mnist_family(tmp_path / "server")
    files = {path.name: path.read_bytes() for path in (tmp_path / "server").iterdir()}
    first, expected = torchvision.datasets.MNIST.resources[0]  # the official md5: the fixture has another
    asked = serve(files, monkeypatch)
    with pytest.raises(DatasetNotFoundError) as error:
        MNIST(data_dir=tmp_path / "data", download=True).prepare_data()
    message = str(error.value)
    assert message.startswith(f"MNIST: the download of {first} failed its check, deleted (")
    for mirror in torchvision.datasets.MNIST.mirrors:
        assert (
            f"{mirror}{first}: corrupt, md5 {hashlib.md5(files[first]).hexdigest()}, expected {expected}"
            in message
        )
    assert str(tmp_path / "data" / "MNIST" / "raw") in message and "download: false" in message
    assert asked == [mirror + first for mirror in torchvision.datasets.MNIST.mirrors]
    assert not (tmp_path / "data").exists()  # no bad file, no folder left behind


@pytest.mark.real_data
@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_debian_package(tmp_path):
    dm = FashionMNIST(data_dir=tmp_path, image_size=32, batch_size=128)
    dm.setup()
    assert len(dm.train_set) == 60000 and len(dm.test_set) == 10000
    assert torch.bincount(dm.train_set.labels).tolist() == [6000] * 10
    with gzip.open(DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz") as f:
        assert np.frombuffer(f.read()[8:], dtype=np.uint8)[:5].tolist() == dm.test_set.labels[:5].tolist()
    shutil.rmtree(tmp_path, ignore_errors=True)
