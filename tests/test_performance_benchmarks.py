"""The performance benchmarks run from a fresh install, at tiny sizes, and report what their tables claim.

Timing targets are not asserted here (they are the benchmarks' output on a quiet machine); these
tests check that each script runs and that its JSON is consistent with its own definitions.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_benchmark(script: str, tmp_path: Path, *args: str) -> dict:
    output = tmp_path / "report.json"
    command = [sys.executable, str(REPO / "benchmarks" / script), *args, "--json", str(output)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(output.read_text())


def test_train_throughput_pairs_each_round(tmp_path):
    # channels_last, not bf16: bf16 is ~10x slower than fp32 on CPUs without native bf16 (tests/core
    # trains bf16-mixed); the pairing of rounds is what this checks.
    tiny = ["--shapes", "1x16x16", "--variants", "fp32", "channels_last", "--threads", "1"]
    report = run_benchmark(
        "train_throughput.py", tmp_path, *tiny, "--rounds", "2", "--warmup", "1", "--steps", "2"
    )
    fp32, other = report["results"]
    assert (fp32["variant"], other["variant"]) == ("fp32", "channels_last")
    for row in (fp32, other):
        trainer, bare = row["runs"]["trainer"], row["runs"]["bare"]
        assert len(trainer) == len(bare) == 2
        assert row["round_ratios"] == pytest.approx([t / b for t, b in zip(trainer, bare, strict=True)])
        assert row["ratio"] == pytest.approx(statistics.median(row["round_ratios"]))
        assert row["trainer"] == pytest.approx(statistics.median(trainer))
        assert row["sane"] and row["gflop_per_image"] > 0 and row["fraction_of_peak"] > 0
    assert other["speedup_vs_fp32_trainer"] == pytest.approx(other["trainer"] / fp32["trainer"])


def test_data_throughput_compares_every_dataset_with_torchvision(tmp_path):
    report = run_benchmark("data_throughput.py", tmp_path, "--batches", "2", "--rounds", "1")
    rows = report["results"]
    assert len(rows) == 3
    for row in rows:
        assert row["ratio"] == pytest.approx(row["gan_zoo"] / row["torchvision"])


def test_eval_throughput_times_the_fid_callback(tmp_path):
    report = run_benchmark(
        "eval_throughput.py", tmp_path, "--num-samples", "64", "--real-samples", "1000",
        "--inception-samples", "0", "--threads", "1",
    )  # fmt: skip
    images = {row["part"]: row["images"] for row in report["results"]}
    assert list(images) == [
        "model.sample → uint8",
        "extractor alone",
        "FID callback, real cache cold",
        "FID callback, real cache warm",
    ]
    # The warm run embeds only the samples; the cold one also the real split, once.
    assert images["model.sample → uint8"] == images["extractor alone"] == 64
    assert images["FID callback, real cache warm"] == 64
    assert images["FID callback, real cache cold"] == 64 + 1000
    for row in report["results"]:
        assert row["img_per_s"] == pytest.approx(row["images"] / row["seconds"], rel=1e-3)


def test_step_overhead_reports_the_median_paired_difference(tmp_path):
    report = run_benchmark(
        "step_overhead.py", tmp_path, "--shape", "1x16x16", "--rounds", "2", "--warmup", "2", "--steps", "5"
    )
    (row,) = report["results"]
    trainer, bare = row["runs_ms"]["trainer"], row["runs_ms"]["bare"]
    assert len(trainer) == len(bare) == 2 and min(trainer + bare) > 0
    assert row["round_added_ms"] == pytest.approx([t - b for t, b in zip(trainer, bare, strict=True)])
    assert row["added_ms_per_batch"] == pytest.approx(statistics.median(row["round_added_ms"]))
