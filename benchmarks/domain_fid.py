"""Domain-FID on real Fashion-MNIST, offline on a CPU: the numbers that show the metric is sane.

    python benchmarks/domain_fid.py [--num-samples 10000] [--epochs 1]

Measures, with the shipped Fashion-MNIST classifier as feature extractor and the training split as
the real set (32×32, as ``experiments/dcgan/fashion_mnist.yaml`` trains):

1. the test split against the training split (should be small: same distribution);
2. an untrained DCGAN (should be large);
3. the DCGAN after ``--epochs`` epochs of ``gan-zoo fit --config experiments/dcgan/fashion_mnist.yaml``
   (run in this process) with the FID / KID / IS callbacks (in between), then ``gan-zoo evaluate`` on
   its checkpoint (a subprocess), which must reproduce the logged values;
4. the shipped classifiers' accuracy on the real test splits (Digits and Fashion-MNIST).

Needs Fashion-MNIST (Debian's ``dataset-fashion-mnist`` or ``data/FashionMNIST/raw``). Everything is
written under a fresh ``runs/domain-fid-*`` directory; real features go to the usual cache.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gan_zoo.cli import build_cli
from gan_zoo.data import Digits, FashionMNIST
from gan_zoo.metrics import (
    RealFeatureCache,
    build_feature_extractor,
    evaluate_model,
    evaluate_samples,
    real_features,
)
from gan_zoo.metrics.sample_metrics import SAMPLE_METRICS
from gan_zoo.metrics.streams import dataset_batches, split_dataset

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "experiments" / "dcgan" / "fashion_mnist.yaml"
METRICS = ("fid", "kid", "is")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=250)
    return parser.parse_args()


def run(command: list[str], cwd: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(command, cwd=cwd, env=env, check=True)


def logged_values(run_dir: Path) -> dict[str, float]:
    """The last value of every ``eval/`` column of a CSV logger's ``metrics.csv``."""
    values: dict[str, float] = {}
    for row in csv.DictReader((run_dir / "metrics.csv").open()):
        values |= {k: float(v) for k, v in row.items() if k.startswith("eval/") and v}
    return values


def main() -> None:
    args = parse_args()
    torch.set_num_threads(2)
    workdir = Path(
        tempfile.mkdtemp(prefix="domain-fid-", dir=REPO / "runs" if (REPO / "runs").is_dir() else None)
    )
    extractor = build_feature_extractor("fashion_mnist")
    data = FashionMNIST(image_size=32, batch_size=128)
    cache = RealFeatureCache()
    results: dict[str, dict] = {}

    start = time.perf_counter()
    real = real_features(data, "train", extractor, batch_size=args.batch_size, cache=cache)
    test, collate = split_dataset(data, "test")
    test_images = dataset_batches(test, collate, range(len(test)), args.batch_size)
    metrics = [SAMPLE_METRICS[name](extractor) for name in ("fid", "kid")]
    results["test split vs train split"] = evaluate_samples(metrics, extractor, test_images, len(test), real)
    print(
        f"test vs train: {results['test split vs train split']} ({time.perf_counter() - start:.0f} s)",
        flush=True,
    )

    untrained = build_cli(["--config", str(CONFIG)], run=False).model  # seed_everything: 0
    metrics = [SAMPLE_METRICS[name](extractor) for name in METRICS]
    results["untrained DCGAN"] = evaluate_model(
        untrained,
        data,
        metrics,
        extractor,
        num_samples=args.num_samples,
        batch_size=args.batch_size,
        cache=cache,
    )
    print(f"untrained: {results['untrained DCGAN']}", flush=True)

    callback_options = [
        "--trainer.callbacks.feature_extractor=fashion_mnist",
        f"--trainer.callbacks.num_samples={args.num_samples}",
        f"--trainer.callbacks.batch_size={args.batch_size}",
        "--trainer.callbacks.progress_bar=false",
    ]
    fit = ["fit", "--config", str(CONFIG), "--config", str(REPO / "experiments/_base/csv.yaml")]
    fit += [f"--trainer.max_epochs={args.epochs}", "--trainer.enable_progress_bar=false"]
    for callback in ("FID", "KID", "InceptionScore"):
        fit += [f"--trainer.callbacks+={callback}", *callback_options]
    start, here = time.perf_counter(), Path.cwd()
    os.chdir(workdir)  # the run directory goes under workdir/runs
    try:
        build_cli(fit)  # the command line of `gan-zoo fit ...`, run in this process
    finally:
        os.chdir(here)
    fit_seconds = time.perf_counter() - start
    run_dir = next((workdir / "runs" / "lightning_logs").glob("version_*"))
    logged = logged_values(run_dir)
    results[f"DCGAN after {args.epochs} epoch(s), logged by the callbacks"] = logged
    print(f"fit: {fit_seconds:.0f} s, logged: {logged}", flush=True)

    ckpt = run_dir / "checkpoints" / "last.ckpt"
    evaluate = [sys.executable, "-m", "gan_zoo", "evaluate", "--ckpt_path", str(ckpt)]
    evaluate += ["--data", "FashionMNIST"]
    evaluate += [
        "--metrics",
        ",".join(METRICS),
        "--num_samples",
        str(args.num_samples),
        "--batch_size",
        str(args.batch_size),
    ]
    evaluate += [
        "--feature_extractor",
        "fashion_mnist",
        "--no_progress",
        "--output",
        str(workdir / "evaluate.json"),
    ]
    run(evaluate, workdir)
    reproduced = json.loads((workdir / "evaluate.json").read_text())["metrics"]
    results[f"DCGAN after {args.epochs} epoch(s), gan-zoo evaluate"] = reproduced

    for name, module in (("digits", Digits(image_size=16)), ("fashion_mnist", data)):
        module.setup("test")
        classifier = build_feature_extractor(name)
        images, labels = module.test_set.images, module.test_set.labels
        correct = sum(
            int((classifier.predict(images[i : i + 1000]) == labels[i : i + 1000]).sum())
            for i in range(0, len(labels), 1000)
        )
        results[f"{name} classifier test accuracy"] = {
            "measured": correct / len(labels),
            "recorded": classifier.record["test_accuracy"],
        }

    print(f"\nfeatures: fashion_mnist classifier; real: Fashion-MNIST train; {args.num_samples} samples")
    for what, values in results.items():
        print(f"  {what:<52} " + "  ".join(f"{k.rsplit('/', 1)[-1]}={v:.4f}" for k, v in values.items()))
    (workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {workdir / 'results.json'}")


if __name__ == "__main__":
    main()
