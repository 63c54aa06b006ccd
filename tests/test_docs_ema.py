"""docs/ema.md: its ``bash run`` block, with a tiny DCGAN on Digits instead of DCGAN on Fashion-MNIST."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from markdown_blocks import run_page

REPO = Path(__file__).resolve().parents[1]
TINY = (
    "--model DCGAN --model.latent_dim 8 --model.g_width 4 --model.d_width 4 --data Digits "
    "--data.image_size 16 --data.batch_size 16 --trainer.max_epochs 2 --trainer.limit_train_batches 4 "
    "--trainer.accelerator cpu --trainer.enable_progress_bar false --trainer.enable_model_summary false "
    "--seed_everything 0 --config experiments/_base/csv.yaml"
)
SAMPLES = "num_samples=100 batch_size=50 use_cache=false progress_bar=false"


def test_the_ema_page_runs(tmp_path, preloaded):
    (tmp_path / "experiments").symlink_to(REPO / "experiments")
    callbacks = " ".join(f"--trainer.callbacks.{option}" for option in SAMPLES.split())
    run_page(
        REPO / "docs" / "ema.md",
        tmp_path,
        replacements={
            "--config experiments/dcgan/fashion_mnist.yaml --model.init_args.ema_decay 0.999": (
                f"{TINY} --model.ema_decay 0.9"
            ),
            "--trainer.callbacks.feature_extractor=fashion_mnist": (
                f"--trainer.callbacks.feature_extractor=digits {callbacks}"
            ),
            "runs/dcgan-fashionmnist/": "runs/dcgan-digits/",
            "--data FashionMNIST --feature_extractor fashion_mnist": (
                "--data Digits --feature_extractor digits --num_samples 100 --batch_size 50 --no_cache"
            ),
        },
        env={"PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"},
        preloaded=preloaded,
    )
    run = tmp_path / "runs" / "dcgan-digits" / "version_0"
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    logged = {k: float(v) for row in rows for k, v in row.items() if k.startswith("eval/") and v}
    assert set(logged) == {"eval/digits/fid", "eval/digits/fid_raw"}
    assert logged["eval/digits/fid"] != pytest.approx(logged["eval/digits/fid_raw"], rel=1e-3)
    report = json.loads((tmp_path / "raw-evaluation.json").read_text())
    assert report["weights"] == "raw" and report["real_split"] == "test"
    assert report["metrics"]["fid"] == pytest.approx(logged["eval/digits/fid_raw"], rel=1e-5)
    assert (tmp_path / "raw.png").stat().st_size > 0
