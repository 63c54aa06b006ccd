"""The shared ImageDataModule behaviour, on the embedded Digits data."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from conftest import build_tiny, make_trainer
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from gan_zoo.data import Digits, InMemoryImages
from gan_zoo.data.transforms import normalize, resize_uint8, to_channels, to_uint8


def test_digits_are_embedded_and_split():
    dm = Digits(image_size=16, batch_size=32)
    dm.setup()
    assert len(dm.train_set) == 1500 and len(dm.test_set) == 297
    assert dm.train_set.images.shape == (1500, 1, 16, 16)
    assert dm.train_set.images.max() == 255  # 0–16 scaled to 0–255
    assert set(dm.train_set.labels.tolist()) == set(range(10))


def test_batches_are_uint8_on_the_host_and_in_range_after_transfer():
    dm = Digits(image_size=16, batch_size=32)
    dm.setup("fit")
    images, labels = next(iter(dm.train_dataloader()))
    assert images.dtype == torch.uint8 and images.shape == (32, 1, 16, 16)
    assert labels.dtype == torch.long and labels.shape == (32,)
    images, labels = dm.on_after_batch_transfer((images, labels), 0)
    assert images.dtype == torch.float32 and images.min() >= -1 and images.max() <= 1


def test_training_loader_drops_the_last_partial_batch_and_shuffles():
    dm = Digits(batch_size=64)
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(batches) == 1500 // 64
    first = torch.cat([labels for _, labels in batches])
    loader = dm.train_dataloader()
    assert torch.equal(first, torch.cat([labels for _, labels in loader]))  # a function of (seed, epoch)
    loader.sampler.set_epoch(1)  # Lightning does this before every epoch
    assert not torch.equal(first, torch.cat([labels for _, labels in loader]))


def test_in_memory_dataset_fetches_whole_batches():
    images = torch.arange(5 * 4, dtype=torch.uint8).view(5, 1, 2, 2)
    dataset = InMemoryImages(images, torch.arange(5))
    x, y = dataset.__getitems__([4, 0])
    assert torch.equal(x, images[[4, 0]]) and y.tolist() == [4, 0]
    loader = DataLoader(dataset, batch_size=2, collate_fn=lambda b: b)
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3], [4]]


def test_in_memory_dataset_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        InMemoryImages(torch.zeros(2, 1, 2, 2), torch.zeros(2))


@pytest.mark.parametrize(("val_split", "n_val"), [(0.2, 300), (100, 100), (0, 0)])
def test_validation_split(val_split, n_val):
    dm = Digits(val_split=val_split)
    dm.setup("fit")
    assert len(dm.train_set) == 1500 - n_val
    if n_val:
        assert len(dm.val_set) == n_val
        assert len(dm.val_dataloader()) > 0
    else:
        assert dm.val_dataloader() == []


def test_validation_split_is_disjoint_and_seeded():
    a, b = Digits(val_split=0.5, seed=1), Digits(val_split=0.5, seed=1)
    a.setup("fit")
    b.setup("fit")
    assert torch.equal(a.val_set.images, b.val_set.images)
    train = {bytes(x.numpy()) for x in a.train_set.images}
    assert not any(bytes(x.numpy()) in train for x in a.val_set.images if x.sum() > 0)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"image_size": 0}, {"channels": 2}, {"val_split": -1}])
def test_bad_arguments_fail_early(kwargs):
    with pytest.raises(ValueError):
        Digits(**kwargs)


def test_val_split_that_leaves_nothing_fails():
    with pytest.raises(ValueError, match="leaves no training images"):
        Digits(val_split=1500).setup("fit")


def test_normalize_round_trip():
    x = torch.tensor([0, 1, 127, 128, 254, 255], dtype=torch.uint8)
    y = normalize(x)
    assert y[0] == -1 and y[-1] == 1
    assert torch.equal(to_uint8(y), x)


def test_resize_uint8_preserves_constant_images_and_dtype():
    x = torch.full((3, 1, 8, 8), 200, dtype=torch.uint8)
    y = resize_uint8(x, 16, chunk=2)
    assert y.dtype == torch.uint8 and y.shape == (3, 1, 16, 16) and (y == 200).all()


def test_channel_conversion():
    gray = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    rgb = to_channels(gray, 3)
    assert rgb.shape == (2, 3, 4, 4) and torch.equal(rgb[:, 1], gray[:, 0])
    assert torch.equal(to_channels(rgb, 1), gray)  # luma weights sum to 1


def trainer_on(device: str) -> SimpleNamespace:
    """What the data module reads from its trainer: the strategy's device and the stage flags."""
    return SimpleNamespace(strategy=SimpleNamespace(root_device=torch.device(device)), training=False)


def test_on_device_keeps_uint8_splits_on_the_trainers_device_and_normalizes_there():
    # "meta" stands in for an accelerator: a device that is not the host, available without one.
    dm = Digits(image_size=16, batch_size=32, val_split=100, on_device=True)
    dm.trainer = trainer_on("meta")
    dm.setup()
    for split in (dm.train_set, dm.val_set, dm.test_set):
        assert split.images.device.type == "meta" and split.images.dtype == torch.uint8
        assert split.labels.device.type == "meta"
    images, labels = next(iter(dm.train_dataloader()))
    assert images.device.type == "meta" and images.shape == (32, 1, 16, 16) and images.dtype == torch.uint8
    assert labels.device.type == "meta" and labels.shape == (32,)
    images, _ = dm.on_after_batch_transfer((images, labels), 0)
    assert images.device.type == "meta" and images.dtype == torch.float32


def test_only_host_data_is_pinned(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # pinning is only asked for with CUDA
    host, device = Digits(image_size=16), Digits(image_size=16, on_device=True)
    device.trainer = trainer_on("meta")
    for dm in (host, device):
        dm.setup("fit")
    assert host.train_dataloader().pin_memory
    assert not device.train_dataloader().pin_memory  # a device tensor cannot be pinned


def test_on_device_batches_are_the_host_batches():
    host, device = Digits(image_size=16, batch_size=32), Digits(image_size=16, batch_size=32, on_device=True)
    device.trainer = trainer_on("cpu")
    for dm in (host, device):
        dm.setup("fit")
    for (x, y), (x_dev, y_dev) in zip(host.train_dataloader(), device.train_dataloader(), strict=True):
        assert torch.equal(x, x_dev) and torch.equal(y, y_dev)


def test_on_device_without_a_trainer_leaves_the_data_on_the_host():
    dm = Digits(on_device=True)
    dm.setup("fit")
    assert dm.train_set.images.device.type == "cpu"


def test_on_device_refuses_worker_processes():
    with pytest.raises(ValueError, match="num_workers=0"):
        Digits(on_device=True, num_workers=2)


class RecordLabels(pl.Callback):
    """The labels of every training batch, in order (they identify the images: a proxy for the order)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.batches.append(batch[1].tolist())


def fit_recording(tmp_path, workers: int, ckpt_path=None) -> list[list[int]]:
    """Two epochs of 5 batches of 16 digits, a checkpoint after every batch; the batches trained on."""
    record = RecordLabels()
    every_batch = ModelCheckpoint(tmp_path / "ckpt", "{step}", every_n_train_steps=1, save_top_k=-1)
    trainer = make_trainer(
        tmp_path,
        max_epochs=2,
        limit_train_batches=5,
        callbacks=[record, every_batch],
        enable_checkpointing=True,
    )
    data = Digits(image_size=16, batch_size=16, num_workers=workers, seed=3)
    trainer.fit(build_tiny("GAN"), datamodule=data, ckpt_path=ckpt_path)
    return record.batches


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("batches_done", [3, 5], ids=["mid-epoch", "epoch-end"])
def test_a_resumed_fit_trains_on_exactly_the_remaining_batches(workers, batches_done, tmp_path):
    """Lightning saves and restores the loader's position (torchdata's StatefulDataLoader), so it has
    no reason to warn that the loader is not resumable."""
    uninterrupted = fit_recording(tmp_path / "a", workers)
    checkpoint = tmp_path / "a" / "ckpt" / f"step={2 * batches_done}.ckpt"  # 2 optimizer steps a batch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = fit_recording(tmp_path / "b", workers, ckpt_path=checkpoint)
    assert resumed == uninterrupted[batches_done:]
    assert uninterrupted[5:] != uninterrupted[:5]  # epoch 1 has its own order
    assert not [w for w in caught if "not resumable" in str(w.message)]


def test_building_the_loaders_warns_about_nothing():
    """No warning a user cannot act on (torchdata's loader calls a torch API that torch deprecates)."""
    code = (
        "from gan_zoo.data import Digits\n"
        "data = Digits(image_size=8, val_split=0.1)\n"
        "data.setup()\n"
        "data.train_dataloader(), data.val_dataloader(), data.test_dataloader()\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "JSONARGPARSE_DEPRECATION_WARNINGS": "off"},
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
