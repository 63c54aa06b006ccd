"""SampleGrid: files, layout, logger hand-off."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from conftest import build_tiny
from PIL import Image
from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

from gan_zoo.callbacks import SampleGrid


def grid_files(root):
    return sorted(p.name for p in root.rglob("samples/*.png"))


def test_writes_every_n_epochs_and_the_final_weights(digits, trainer_factory, tmp_path):
    callback = SampleGrid(every_n_epochs=2)
    trainer_factory(max_epochs=3, limit_train_batches=1, callbacks=[callback]).fit(
        build_tiny("DCGAN"), datamodule=digits
    )
    assert grid_files(tmp_path) == ["epoch=0001.png", "final.png"]


def test_final_grid_is_not_duplicated(digits, trainer_factory, tmp_path):
    trainer_factory(max_epochs=2, limit_train_batches=1, callbacks=[SampleGrid()]).fit(
        build_tiny("DCGAN"), datamodule=digits
    )
    assert grid_files(tmp_path) == ["epoch=0000.png", "epoch=0001.png"]


@pytest.mark.parametrize(("name", "rows"), [("DCGAN", 8), ("CGAN", 10)])
def test_grid_layout_one_row_per_class(name, rows, digits, trainer_factory):
    callback = SampleGrid(min_cell_size=32)
    trainer_factory(limit_train_batches=1, callbacks=[callback]).fit(build_tiny(name), datamodule=digits)
    width, height = Image.open(callback.last_path).size
    cell = 32 + 2  # upscaled 16 px → 32 px, plus make_grid's 2 px padding
    assert (height - 2) // cell == rows
    assert (width - 2) // cell == 8


def test_min_cell_size_zero_keeps_native_size(digits, trainer_factory):
    callback = SampleGrid(min_cell_size=0)
    trainer_factory(limit_train_batches=1, callbacks=[callback]).fit(build_tiny("DCGAN"), datamodule=digits)
    assert Image.open(callback.last_path).size == (8 * 18 + 2, 8 * 18 + 2)


def test_sends_the_grid_to_tensorboard(digits, trainer_factory, tmp_path, monkeypatch):
    sent = []
    logger = TensorBoardLogger(tmp_path, name="tb")
    monkeypatch.setattr(
        type(logger.experiment),
        "add_image",
        lambda self, tag, img, global_step: sent.append((tag, tuple(img.shape))),
    )
    trainer_factory(limit_train_batches=1, logger=logger, callbacks=[SampleGrid()]).fit(
        build_tiny("DCGAN"), datamodule=digits
    )
    assert sent and sent[0][0] == "samples" and sent[0][1][0] == 3
    assert (tmp_path / "tb" / "version_0" / "samples" / "epoch=0000.png").is_file()


def test_csv_logger_gets_png_only(digits, trainer_factory, tmp_path):
    trainer_factory(limit_train_batches=1, logger=CSVLogger(tmp_path), callbacks=[SampleGrid()]).fit(
        build_tiny("DCGAN"), datamodule=digits
    )
    assert grid_files(tmp_path) == ["epoch=0000.png"]


def test_rejects_bad_interval():
    with pytest.raises(ValueError):
        SampleGrid(every_n_epochs=0)


def test_a_grid_leaves_the_training_rng_streams_as_they_were(tmp_path):
    """SinGAN draws its finer noise maps in ``sample(z=...)``. Taken from the training's RNG stream, they
    would make training depend on the grids, and a run resumed from a checkpoint written before the
    epoch-end hooks (after an epoch's last batch) would draw other latents than the uninterrupted run."""
    model = build_tiny("SinGAN")
    model.scale = 1  # the finest scale: its noise map is drawn
    before = torch.get_rng_state()
    SampleGrid()._save(SimpleNamespace(loggers=[]), model, tmp_path / "grid.png")
    assert (tmp_path / "grid.png").is_file()
    assert torch.equal(torch.get_rng_state(), before)
