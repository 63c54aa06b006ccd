"""LSUN on lmdb environments written with the lmdb package in the official layout."""

from __future__ import annotations

import io
import multiprocessing
import pickle

import numpy as np
import pytest
import torch
from image_fixtures import encode, natural_image, write_lsun
from PIL import Image
from torch.utils.data import DataLoader

from gan_zoo.data import LSUN, DatasetNotFoundError, UnreadableSampleWarning


def centre_square(value: bytes, size: int, whole_pixels: bool = True) -> torch.Tensor:
    """The expected sample: PIL decode, centre square, bilinear resize.

    The WebP path crops whole pixels; the PIL path (JPEG) resamples the fractional square.
    """
    image = Image.open(io.BytesIO(value)).convert("RGB")
    w, h = image.size
    s = min(w, h)
    left, top = (w - s) / 2, (h - s) / 2
    if whole_pixels:
        left, top = round(left), round(top)
    box = (left, top, left + s, top + s)
    return torch.from_numpy(np.array(image.resize((size, size), Image.Resampling.BILINEAR, box=box))).permute(
        2, 0, 1
    )


def files_under(*roots):
    return {p for root in roots for p in root.rglob("*")}


def test_reads_one_category_unlabelled(tmp_path):
    records = write_lsun(tmp_path)
    dm = LSUN(data_dir=tmp_path, image_size=64, batch_size=4)
    assert dm.num_classes is None and dm.image_shape == (3, 64, 64)
    dm.setup("fit")
    assert len(dm.train_set) == len(records) and dm.quirks["train"] == {}
    for i, value in enumerate(records.values()):  # key order
        image, label = dm.train_set[i]
        assert label == 0 and torch.equal(image, centre_square(value, 64))  # lossless, native height


@pytest.mark.parametrize("size", [32, 64, 128])
def test_sizes_and_gray(tmp_path, size):
    write_lsun(tmp_path, n=2)
    dm = LSUN(data_dir=tmp_path, image_size=size, channels=1, batch_size=2)
    dm.setup("fit")
    images, _ = next(iter(dm.train_dataloader()))
    assert images.shape == (2, 1, size, size)


def test_several_categories_are_labelled_in_order(tmp_path):
    write_lsun(tmp_path, "tower", n=3, seed=1)
    write_lsun(tmp_path, "bedroom", n=5, seed=2)
    dm = LSUN(data_dir=tmp_path, categories=["tower", "bedroom"])
    assert dm.num_classes == 2 and dm.classes == ("tower", "bedroom")
    dm.setup("fit")
    assert dm.train_set.labels.tolist() == [0] * 3 + [1] * 5


def test_max_images_caps_each_category_in_key_order(tmp_path):
    towers = write_lsun(tmp_path, "tower", n=6, seed=1)
    write_lsun(tmp_path, "bedroom", n=6, seed=2)
    dm = LSUN(data_dir=tmp_path, categories=["tower", "bedroom"], max_images=4)
    dm.setup("fit")
    assert dm.train_set.labels.tolist() == [0] * 4 + [1] * 4
    assert [dm.train_set.keys[i] for i in range(4)] == list(towers)[:4]


def test_test_split_reads_the_val_database(tmp_path):
    write_lsun(tmp_path, split="train", n=5)
    write_lsun(tmp_path, split="val", n=3, seed=9)
    dm = LSUN(data_dir=tmp_path)
    dm.setup()
    assert len(dm.train_set) == 5 and len(dm.test_set) == 3


def test_jpeg_values_of_the_first_release(tmp_path):
    records = write_lsun(tmp_path, n=3, fmt="JPEG")
    dm = LSUN(data_dir=tmp_path, image_size=32)
    dm.setup("fit")
    first = next(iter(records.values()))
    expected = centre_square(first, 32, whole_pixels=False)
    assert (dm.train_set[0][0].int() - expected.int()).abs().float().mean() < 2  # draft: 1/2-scale DCT


def test_databases_in_an_lsun_subfolder_are_found(tmp_path):
    write_lsun(tmp_path / "lsun", n=2)
    dm = LSUN(data_dir=tmp_path)
    dm.setup("fit")
    assert dm.train_set.databases == [tmp_path / "lsun" / "bedroom_train_lmdb"]


def test_nothing_is_written_anywhere(tmp_path, monkeypatch):
    write_lsun(tmp_path / "data", n=8)
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    before = {p: p.stat().st_mtime_ns for p in files_under(tmp_path)}
    dm = LSUN(data_dir=tmp_path / "data", batch_size=4, num_workers=2)
    dm.setup("fit")
    for _ in dm.train_dataloader():
        pass
    assert {p: p.stat().st_mtime_ns for p in files_under(tmp_path)} == before  # no cache, no lock file


def test_missing_database_says_what_to_fetch_and_where(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        LSUN(data_dir=tmp_path, categories=["bedroom", "kitchen"]).setup("fit")
    message = str(error.value)
    for part in (
        "bedroom_train_lmdb",
        "kitchen_train_lmdb",
        "bedroom_train_lmdb.zip",
        "http://dl.yf.io/lsun/scenes/",
        "https://github.com/fyu/lsun",
        f"unzip them in {tmp_path}",
        "data.mdb",
    ):
        assert part in message


def test_a_downloaded_zip_is_pointed_out(tmp_path):
    (tmp_path / "bedroom_train_lmdb.zip").write_bytes(b"PK")
    with pytest.raises(DatasetNotFoundError, match=r"Found bedroom_train_lmdb\.zip: unzip it there"):
        LSUN(data_dir=tmp_path).setup("fit")


def test_unknown_category_lists_the_valid_ones():
    with pytest.raises(ValueError, match="church_outdoor"):
        LSUN(categories="castle")


def bad_records():
    truncated = encode(natural_image(64, 85, 7), "WEBP", lossless=True)
    # "!" sorts before the hex digits of real keys: these come first in key order.
    return {b"!bad-1-empty": b"", b"!bad-2-garbage": b"\x00\x01garbage", b"!bad-3-cut": truncated[:2000]}


def test_verify_images_skips_bad_values_at_setup(tmp_path):
    records = write_lsun(tmp_path, n=4, extra=bad_records())
    dm = LSUN(data_dir=tmp_path, verify_images=True)
    dm.setup("fit")
    assert len(dm.train_set) == len(records) - 3
    assert dm.quirks["train"] == {"empty_value": 1, "unreadable": 1, "truncated": 1}


def test_without_verification_bad_values_are_replaced_while_training(tmp_path):
    write_lsun(tmp_path, n=4, extra=bad_records())
    dm = LSUN(data_dir=tmp_path, batch_size=7)
    dm.setup("fit")
    assert len(dm.train_set) == 7  # keys only: nothing decoded at setup
    with pytest.warns(UnreadableSampleWarning, match=r"bedroom_train_lmdb\[!bad-1-empty\]"):
        images = [dm.train_set[i][0] for i in range(3)]
    assert all(torch.equal(image, dm.train_set[3][0]) for image in images)  # three bad, then sample 3


def test_datasets_on_one_database_share_its_environment(tmp_path):
    write_lsun(tmp_path, n=2)
    # lmdb refuses to open one environment twice
    first, second = LSUN(data_dir=tmp_path), LSUN(data_dir=tmp_path)
    first.setup("fit")
    second.setup("fit")
    clone = pickle.loads(pickle.dumps(first.train_set))  # as a spawned worker would get it
    assert torch.equal(clone[1][0], second.train_set[1][0])


def test_each_forked_worker_opens_its_own_environment(tmp_path):
    write_lsun(tmp_path, n=8)
    dm = LSUN(data_dir=tmp_path)
    dm.setup("fit")
    parent = [dm.train_set[i][0] for i in range(8)]  # the parent has an environment open now
    loader = DataLoader(
        dm.train_set, batch_size=2, num_workers=2, multiprocessing_context=multiprocessing.get_context("fork")
    )
    images = torch.cat([batch for batch, _ in loader])
    assert torch.equal(images, torch.stack(parent))
