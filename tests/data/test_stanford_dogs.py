"""Stanford Dogs on fixture trees in the official layout: .mat lists, VOC XML, tar archives."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil

import numpy as np
import pytest
import scipy.io
import torch
from image_fixtures import (
    MESSY_DOGS_QUIRKS,
    clean_dogs,
    write_mat_list,
    write_messy_dogs,
    write_stanford_dogs,
)

from gan_zoo.data import DatasetNotFoundError, StanfordDogs
from gan_zoo.data.archives import IntegrityError
from gan_zoo.data.decode import square_around
from gan_zoo.data.stanford_dogs import ARCHIVES, BREED_FOLDERS, read_boxes, read_list


def test_120_breeds_with_readable_names_in_label_order():
    assert len(BREED_FOLDERS) == 120 and list(BREED_FOLDERS) == sorted(BREED_FOLDERS)  # by WordNet id
    dm = StanfordDogs()
    assert dm.num_classes == 120 and dm.image_shape == (3, 64, 64)
    assert dm.classes[0] == "Chihuahua" and dm.classes[4] == "Shih-Tzu"
    assert dm.classes[14] == "black-and-tan coonhound" and dm.classes[119] == "African hunting dog"


def test_list_files_read_like_the_official_ones(tmp_path):
    images = clean_dogs(breeds=(0, 119), per_breed=2, test_per_breed=0)
    write_mat_list(tmp_path / "train_list.mat", images)
    mat = scipy.io.loadmat(tmp_path / "train_list.mat")
    assert mat["file_list"].shape == (4, 1) and mat["labels"].shape == (4, 1)
    assert read_list(tmp_path / "train_list.mat") == [
        (im.file, im.file.removesuffix(".jpg"), im.label) for im in images
    ]
    assert read_list(tmp_path / "train_list.mat")[-1][0] == "n02116738-African_hunting_dog/n02116738_1001.jpg"


def test_list_without_the_official_fields_is_refused(tmp_path):
    scipy.io.savemat(tmp_path / "train_list.mat", {"files": np.zeros(3)})
    with pytest.raises(ValueError, match="annotation_list, file_list, labels"):
        read_list(tmp_path / "train_list.mat")


def test_boxes_from_voc_xml(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs(breeds=(0,)))
    third = images[2]
    assert read_boxes(tmp_path / "Annotation" / third.file.removesuffix(".jpg")) == [
        tuple(float(v) for v in box) for box in third.boxes
    ]


def test_bbox_crops_one_sample_per_box(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs())
    dm = StanfordDogs(data_dir=tmp_path, image_size=32, batch_size=4)
    dm.setup()
    train = [im for im in images if im.split == "train"]
    assert len(dm.train_set) == sum(len(im.boxes) for im in train)
    assert len(dm.test_set) == sum(len(im.boxes) for im in images if im.split == "test")
    assert dm.quirks == {"train": {}, "test": {}}
    expected_labels = [im.label for im in train for _ in im.boxes]
    assert dm.train_set.labels.tolist() == expected_labels
    for i in range(len(dm.train_set)):
        image, label = dm.train_set[i]
        colour = torch.tensor([label * 40 % 256, 200, 50]).view(3, 1, 1)  # each box is filled with it
        assert image.shape == (3, 32, 32) and image.dtype == torch.uint8
        assert (image[:, 4:-4, 4:-4].int() - colour).abs().float().mean() < 8


def test_box_windows_are_squares_around_the_box_with_margin(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs(breeds=(5,), per_breed=1, test_per_breed=0))
    image = images[0]
    dm = StanfordDogs(data_dir=tmp_path, box_margin=0.1)
    dm.setup("fit")
    x0, y0, x1, y1 = image.boxes[0]
    mx, my = 0.1 * (x1 - x0), 0.1 * (y1 - y0)
    grown = (max(x0 - mx, 0), max(y0 - my, 0), x1 + mx, y1 + my)
    assert dm.train_set.windows[0].tolist() == pytest.approx(square_around(grown, image.width, image.height))


def test_full_crop_is_one_centre_square_per_image(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs())
    (tmp_path / "Annotation").rename(tmp_path / "elsewhere")  # full crops need no annotations
    dm = StanfordDogs(data_dir=tmp_path, crop="full")
    dm.setup("fit")
    train = [im for im in images if im.split == "train"]
    assert len(dm.train_set) == len(train)
    assert dm.train_set.windows.tolist() == [
        pytest.approx(square_around((0, 0, im.width, im.height), im.width, im.height)) for im in train
    ]


@pytest.mark.parametrize("size", [32, 64, 128])
def test_sizes(tmp_path, size):
    write_stanford_dogs(tmp_path, clean_dogs(breeds=(0,), per_breed=1, test_per_breed=0))
    dm = StanfordDogs(data_dir=tmp_path, image_size=size, batch_size=1)
    dm.setup("fit")
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (1, 3, size, size) and labels.dtype == torch.long


def test_include_test_trains_on_both_lists(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs())
    dm = StanfordDogs(data_dir=tmp_path, include_test=True)
    dm.setup()
    assert len(dm.train_set) == sum(len(im.boxes) for im in images)
    assert len(dm.test_set) == sum(len(im.boxes) for im in images if im.split == "test")


def test_every_quirk_is_counted_and_the_epoch_runs(tmp_path):
    _, samples = write_messy_dogs(tmp_path)
    dm = StanfordDogs(data_dir=tmp_path, batch_size=2)
    dm.setup("fit")
    assert dict(dm.quirks["train"]) == MESSY_DOGS_QUIRKS
    assert len(dm.train_set) == samples
    batches = list(dm.train_dataloader())
    assert len(batches) == samples // 2 and all(x.shape == (2, 3, 64, 64) for x, _ in batches)


def test_clamped_box_stays_inside_the_image(tmp_path):
    images, _ = write_messy_dogs(tmp_path)
    dm = StanfordDogs(data_dir=tmp_path)
    dm.setup("fit")
    clamped = next(i for i in range(len(dm.train_set)) if dm.train_set.describe(i).endswith(images[1].file))
    x0, y0, x1, y1 = dm.train_set.windows[clamped]
    assert 0 <= x0 < x1 <= images[1].width and 0 <= y0 < y1 <= images[1].height


def test_data_dir_may_hold_a_stanford_dogs_folder(tmp_path):
    write_stanford_dogs(tmp_path / "StanfordDogs", clean_dogs(breeds=(0,)))
    dm = StanfordDogs(data_dir=tmp_path)
    dm.setup("fit")
    assert dm.root == tmp_path / "StanfordDogs" and len(dm.train_set) > 0


def test_archives_are_extracted_by_prepare_data(tmp_path):
    images = write_stanford_dogs(tmp_path, clean_dogs(), archives=True)
    assert not (tmp_path / "Images").exists()
    dm = StanfordDogs(data_dir=tmp_path)
    with pytest.raises(DatasetNotFoundError, match="not unpacked: call prepare_data"):
        dm.setup("fit")
    dm.prepare_data()
    assert {p.name for p in tmp_path.iterdir()} >= {"Images", "Annotation", "train_list.mat", "test_list.mat"}
    assert not list(tmp_path.glob(".*extracting"))  # no staging folder left behind
    dm.setup("fit")
    assert len(dm.train_set) == sum(len(im.boxes) for im in images if im.split == "train")


def test_extraction_never_overwrites(tmp_path):
    write_stanford_dogs(tmp_path, clean_dogs(breeds=(0,)), archives=True)
    (tmp_path / "train_list.mat").write_bytes(b"mine")
    StanfordDogs(data_dir=tmp_path).prepare_data()
    assert (tmp_path / "train_list.mat").read_bytes() == b"mine"  # lists.tar's copy not written over it
    assert (tmp_path / "test_list.mat").is_file()  # lists.tar was extracted: test_list.mat was missing


def test_missing_dataset_names_the_archives_and_the_site(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        StanfordDogs(data_dir=tmp_path).setup("fit")
    message = str(error.value)
    for name in ("images.tar", "lists.tar", "annotation.tar", "vision.stanford.edu/aditya86/ImageNetDogs"):
        assert name in message
    assert str(tmp_path / "StanfordDogs") in message and "download=True" in message


def test_full_crop_does_not_ask_for_annotations(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        StanfordDogs(data_dir=tmp_path, crop="full").setup("fit")
    assert "annotation.tar" not in str(error.value)


def fake_official_archives(source, monkeypatch):
    """Point ARCHIVES at fixture archives (their real sizes and digests) and serve them offline."""
    downloads = []
    for name, archive in list(ARCHIVES.items()):
        data = (source / name).read_bytes()
        fake = dataclasses.replace(archive, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        monkeypatch.setitem(ARCHIVES, name, fake)

    def fake_download(url, root, filename):
        downloads.append(url)
        shutil.copy(source / url.rsplit("/", 1)[1], root / filename)

    monkeypatch.setattr("gan_zoo.data.archives.download_url", fake_download)
    return downloads


def test_download_checks_and_extracts_the_official_archives(tmp_path, monkeypatch):
    write_stanford_dogs(tmp_path / "server", clean_dogs(), archives=True)
    downloads = fake_official_archives(tmp_path / "server", monkeypatch)
    dm = StanfordDogs(data_dir=tmp_path / "data", download=True)
    dm.prepare_data()
    assert sorted(downloads) == sorted(f"{a.url}" for a in ARCHIVES.values())
    assert all(url.startswith("http://vision.stanford.edu/aditya86/ImageNetDogs/") for url in downloads)
    dm.prepare_data()  # nothing left to fetch
    assert len(downloads) == 3
    dm.setup("fit")
    assert dm.root == tmp_path / "data" / "StanfordDogs" and len(dm.train_set) > 0


def test_corrupt_download_is_deleted_and_reported(tmp_path, monkeypatch):
    write_stanford_dogs(tmp_path / "server", clean_dogs(breeds=(0,)), archives=True)
    fake_official_archives(tmp_path / "server", monkeypatch)
    data = (tmp_path / "server" / "lists.tar").read_bytes()
    (tmp_path / "server" / "lists.tar").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # same size
    with pytest.raises(DatasetNotFoundError) as error:
        StanfordDogs(data_dir=tmp_path / "data", download=True, crop="full").prepare_data()
    assert isinstance(error.value.__cause__, IntegrityError)
    expected = ARCHIVES["lists.tar"].sha256
    assert "the download of lists.tar failed its check, deleted (" in str(error.value)
    assert (
        f"sha256 {hashlib.sha256(data[:-1] + bytes([data[-1] ^ 1])).hexdigest()}, expected {expected}"
        in str(error.value)
    )
    root = tmp_path / "data" / "StanfordDogs"
    assert not (root / "lists.tar").exists() and not (root / "lists.tar.part").exists()


def test_damaged_archive_gives_a_clear_error(tmp_path):
    write_stanford_dogs(tmp_path, clean_dogs(breeds=(0,)), archives=True)
    data = (tmp_path / "images.tar").read_bytes()
    (tmp_path / "images.tar").write_bytes(data[: len(data) // 3])
    with pytest.raises(OSError, match=r"cannot extract .*images\.tar"):
        StanfordDogs(data_dir=tmp_path).prepare_data()
    assert not (tmp_path / "Images").exists()


@pytest.mark.parametrize("kwargs", [{"crop": "tight"}, {"box_margin": -0.1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        StanfordDogs(**kwargs)
