"""The LSUN and Stanford Dogs experiments train on fixture trees in the real formats.

Everything comes from the experiment files but the data folder, the batch size, the length of the
run and, for DCGAN, the network widths (8 instead of 128: the paper's 64 px networks take tens of
seconds a batch on a CPU).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from image_fixtures import clean_dogs, write_lsun, write_messy_dogs, write_stanford_dogs

from gan_zoo.cli import build_cli

EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
NARROW = ("--model.init_args.g_width", "8", "--model.init_args.d_width", "8")


def fit(config: str, data_dir: Path, *overrides: str):
    return build_cli([
        "fit", "--config", str(EXPERIMENTS / config),
        "--data.init_args.data_dir", str(data_dir),
        "--data.init_args.batch_size", "8",
        "--data.init_args.num_workers", "0",
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false",
        *overrides,
    ])  # fmt: skip


def check_run(cli, run: str, image_shape, num_classes):
    assert cli.trainer.global_step == 4  # two batches, one D and one G step each
    directory = Path("runs") / run / "version_0"
    hparams = torch.load(directory / "checkpoints" / "last.ckpt", weights_only=False)["hyper_parameters"]
    assert tuple(hparams["image_shape"]) == image_shape and hparams["num_classes"] == num_classes
    assert (directory / "samples" / "epoch=0000.png").is_file()


def test_dcgan_on_lsun_bedrooms(tmp_path, monkeypatch):
    write_lsun(tmp_path / "data", "bedroom", n=24)
    monkeypatch.chdir(tmp_path)
    cli = fit("dcgan/lsun_bedroom.yaml", tmp_path / "data", *NARROW, "--data.init_args.num_workers", "2")
    check_run(cli, "dcgan-lsun", (3, 64, 64), None)


def test_dcgan_on_stanford_dogs_archives(tmp_path, monkeypatch):
    write_stanford_dogs(tmp_path / "data", clean_dogs(breeds=(0, 5, 119), per_breed=6), archives=True)
    monkeypatch.chdir(tmp_path)
    cli = fit("dcgan/stanford_dogs.yaml", tmp_path / "data", *NARROW)  # download: true; archives are here
    check_run(cli, "dcgan-stanforddogs", (3, 64, 64), 120)
    assert (tmp_path / "data" / "Images").is_dir()  # prepare_data unpacked images.tar


def test_cgan_on_messy_stanford_dogs(tmp_path, monkeypatch):
    _, samples = write_messy_dogs(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    cli = fit("cgan/stanford_dogs.yaml", tmp_path / "data", "--data.init_args.batch_size", "3")
    check_run(cli, "cgan-stanforddogs", (3, 32, 32), 120)
    assert len(cli.datamodule.train_set) == samples
    assert cli.datamodule.quirks["train"].skipped > 0


@pytest.mark.parametrize("config", ["dcgan/lsun_bedroom.yaml", "dcgan/stanford_dogs.yaml"])
def test_missing_data_stops_fit_with_the_not_found_error(config, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        fit(config, tmp_path / "empty", "--data.init_args.download", "false")
