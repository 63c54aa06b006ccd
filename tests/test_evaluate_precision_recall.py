"""Precision/recall from ``gan-zoo evaluate`` equals what the callback logged at the end of training."""

from __future__ import annotations

import json

import pytest
from test_cli import TINY_FIT
from test_evaluate import checkpoint, workdir  # noqa: F401  (a fixture)

from gan_zoo.cli import build_cli, main


def test_evaluate_reproduces_the_precision_recall_callback(workdir, capsys):  # noqa: F811
    options = ["feature_extractor=random.pt", "num_samples=120", "batch_size=40", "num_real_samples=200"]
    options += ["use_cache=false", "k=5"]
    cli = build_cli(
        [
            "fit",
            *TINY_FIT,
            "--trainer.callbacks+=PrecisionRecall",
            *(f"--trainer.callbacks.{o}" for o in options),
        ]
    )
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("eval/")}
    assert set(logged) == {"eval/random/precision", "eval/random/recall"}

    ckpt = checkpoint(workdir, "dcgan")
    main([
        "evaluate", "--ckpt_path", str(ckpt), "--data", "digits", "--metrics", "precision_recall",
        "--nearest_k", "5", "--num_samples", "120", "--batch_size", "40", "--feature_extractor", "random.pt",
        "--num_real", "200", "--no_cache", "--no_progress", "--output", "pr.json",
    ])  # fmt: skip
    report = json.loads((workdir / "pr.json").read_text())["metrics"]
    assert report == pytest.approx(
        {"precision": logged["eval/random/precision"], "recall": logged["eval/random/recall"]}
    )
    # (An untrained tiny model scores 0 and 0: the callback's test checks non-trivial values.)
    with pytest.raises(SystemExit):
        main(
            [
                "evaluate",
                "--ckpt_path",
                str(ckpt),
                "--data",
                "digits",
                "--metrics",
                "precision_recall",
                "--nearest-k",  # the kebab-case alias
                "0",
            ]
        )
    assert "--nearest_k must be a positive integer, got 0" in capsys.readouterr().err
