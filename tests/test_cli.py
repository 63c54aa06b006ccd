"""The gan-zoo command: end to end, short names, run directories, and every experiment YAML."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from conftest import tiny_data_args

from gan_zoo.cli import build_cli, main
from gan_zoo.models import MODELS

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted(p for p in (REPO / "experiments").rglob("*.yaml") if "_base" not in p.parts)
BASE_LAYERS = sorted((REPO / "experiments" / "_base").glob("*.yaml"))

TINY_FIT = [
    "--model", "DCGAN",
    "--model.latent_dim", "8",
    "--model.g_width", "4",
    "--model.d_width", "4",
    "--data", "Digits",
    "--data.image_size", "16",
    "--data.batch_size", "32",
    "--trainer.max_epochs", "1",
    "--trainer.limit_train_batches", "2",
    "--trainer.enable_progress_bar", "false",
    "--trainer.enable_model_summary", "false",
]  # fmt: skip


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_dir(root: Path, version: int = 0) -> Path:
    return root / "runs" / "dcgan-digits" / f"version_{version}"


def test_fit_end_to_end_in_a_subprocess(in_tmp):
    result = subprocess.run(
        [sys.executable, "-m", "gan_zoo", "fit", *TINY_FIT],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = run_dir(in_tmp)
    assert (run / "config.yaml").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert (run / "samples" / "epoch=0000.png").is_file()
    assert list(run.glob("events.out.tfevents.*")), "TensorBoard is the default logger"
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["class_path"].endswith(".DCGAN")
    hparams = torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)["hyper_parameters"]
    assert tuple(hparams["image_shape"]) == (1, 16, 16)  # linked from the data module


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "gan-zoo"  # installed beside the interpreter by pip
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "fit" in result.stdout


def test_second_run_gets_its_own_directory(in_tmp):
    main(["fit", *TINY_FIT])
    first = run_dir(in_tmp)
    stamp = {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()}
    main(["fit", *TINY_FIT])
    assert run_dir(in_tmp, 1).is_dir()
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*") if p.is_file()} == stamp


def test_existing_run_directory_is_never_overwritten(in_tmp):
    main(["fit", *TINY_FIT])
    config = run_dir(in_tmp) / "config.yaml"
    before = config.read_bytes()
    with pytest.raises(SystemExit) as exit_:
        main([
            "fit", *TINY_FIT, "--trainer.logger", "TensorBoardLogger", "--trainer.logger.save_dir", "runs",
            "--trainer.logger.name", "dcgan-digits", "--trainer.logger.version", "0",
        ])  # fmt: skip
    assert exit_.value.code == 2
    assert config.read_bytes() == before


def test_default_root_dir_holds_the_runs(in_tmp):
    """--trainer.default_root_dir is where runs go, as Lightning users expect, in the zoo's layout."""
    main(["fit", *TINY_FIT, "--trainer.default_root_dir", "elsewhere"])
    run = in_tmp / "elsewhere" / "dcgan-digits" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file() and (run / "config.yaml").is_file()
    assert not (in_tmp / "runs").exists()


@pytest.mark.parametrize("root", [None, "elsewhere"])
def test_the_csv_layer_keeps_the_run_directory(root, in_tmp):
    layer = ["--config", str(REPO / "experiments" / "_base" / "csv.yaml")]
    main(["fit", *TINY_FIT, *layer, *(["--trainer.default_root_dir", root] if root else [])])
    run = in_tmp / (root or "runs") / "dcgan-digits" / "version_0"
    assert (run / "metrics.csv").is_file() and (run / "checkpoints" / "last.ckpt").is_file()
    assert not (in_tmp / (root or "runs") / "lightning_logs").exists()


def test_two_checkpoint_schedules_are_one_line(in_tmp, capsys):
    layer = ["--config", str(REPO / "experiments" / "_base" / "preemptible.yaml")]
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *TINY_FIT, *layer, "--checkpoint.every_n_train_steps", "100"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "gan-zoo: error: checkpoint: every_n_train_steps=100 and train_time_interval=0:10:00 are "
        "alternatives (one checkpoint schedule); set all but one to null, e.g. "
        "--checkpoint.train_time_interval null"
    )


@pytest.mark.parametrize("name", MODELS.names())
def test_short_names_fast_dev_run(name, in_tmp):
    main(["fit", "--model", name, *tiny_data_args(name), "--trainer.fast_dev_run", "true"])


def test_full_class_paths(in_tmp):
    main([
        "fit", "--model", "gan_zoo.models.DCGAN", "--data", "gan_zoo.data.Digits",
        "--data.image_size", "16", "--trainer.fast_dev_run", "true",
    ])  # fmt: skip


def test_validate_and_test_from_a_checkpoint(in_tmp):
    main(["fit", *TINY_FIT, "--data.val_split", "0.1"])
    ckpt = run_dir(in_tmp) / "checkpoints" / "last.ckpt"
    args = ["--model", "DCGAN", "--data", "Digits", "--data.image_size", "16", "--data.val_split", "0.1"]
    cli = build_cli(["validate", *args, "--ckpt_path", str(ckpt)])
    assert "val/d_loss" in cli.trainer.callback_metrics
    cli = build_cli(["test", *args, "--ckpt_path", str(ckpt)])
    assert {"test/d_loss", "test/g_loss", "test/d_real", "test/d_fake"} <= set(cli.trainer.callback_metrics)


def test_print_config(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fit", "--model", "DCGAN", "--data", "Digits", "--print_config"])
    assert exit_.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"].endswith(".DCGAN")
    assert printed["sample_grid"]["every_n_epochs"] == 1
    assert printed["checkpoint"]["save_last"] is True


def test_unknown_model_lists_choices(capsys):
    with pytest.raises(SystemExit):
        main(["fit", "--model", "DCGANN", "--data", "Digits"])
    assert "DCGAN" in capsys.readouterr().err


def test_there_are_experiments():
    assert len(EXPERIMENTS) >= 6 and BASE_LAYERS


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: str(p.relative_to(REPO / "experiments")))
def test_every_experiment_parses_and_instantiates(path, in_tmp):
    cli = build_cli(["--config", str(path)], run=False)
    model, data = cli.model, cli.datamodule
    assert tuple(model.hparams.image_shape) == data.image_shape
    assert model.num_classes == data.num_classes
    assert model.sample(2).shape == (2, *data.image_shape)
    optimizers = model.configure_optimizers()[0]
    assert all(isinstance(opt, torch.optim.Optimizer) for opt in optimizers)


@pytest.mark.parametrize("layer", BASE_LAYERS, ids=lambda p: p.name)
def test_base_layers_compose_with_an_experiment(layer, in_tmp):
    cli = build_cli(
        ["--config", str(layer), "--config", str(REPO / "experiments" / "quickstart.yaml")], run=False
    )
    assert cli.trainer is not None


def test_quickstart_config_is_the_documented_one():
    config = yaml.safe_load((REPO / "experiments" / "quickstart.yaml").read_text())
    assert config["data"]["class_path"] == "gan_zoo.data.Digits"
    assert config["model"]["class_path"] == "gan_zoo.models.DCGAN"
