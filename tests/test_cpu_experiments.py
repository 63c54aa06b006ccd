"""The CPU-sized experiments of SAGAN, BigGAN and ProGAN train from their YAML, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gan_zoo.cli import build_cli

REPO = Path(__file__).resolve().parents[1]
CPU_EXPERIMENTS = ["sagan/digits.yaml", "biggan/digits.yaml", "progan/digits.yaml"]


@pytest.mark.parametrize("name", CPU_EXPERIMENTS)
def test_cpu_experiment_trains_from_its_yaml(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = str(REPO / "experiments" / name)
    initial = build_cli(["--config", config], run=False).model  # seed_everything: the same start
    cli = build_cli(
        [
            "fit", "--config", config, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
            "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        ]
    )  # fmt: skip
    model = cli.model
    for network in ("generator", "discriminator"):
        before = dict(getattr(initial, network).named_parameters())
        after = dict(getattr(model, network).named_parameters())
        assert any(not torch.equal(before[k], after[k]) for k in before), f"{network} did not train"
    assert torch.isfinite(cli.trainer.callback_metrics["train/d_loss_epoch"])
    run = Path(cli.trainer.log_dir)
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert list((run / "samples").glob("*.png"))
