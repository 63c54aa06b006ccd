"""``gan-zoo evaluate``: the metrics of a trained checkpoint, printed as a table and written as JSON.

    gan-zoo evaluate --ckpt_path runs/dcgan-fashionmnist/version_0/checkpoints/last.ckpt \\
        --data FashionMNIST --metrics fid,kid,is --num_samples 10000 --feature_extractor fashion_mnist
    gan-zoo evaluate --ckpt_path runs/cgan-mnist/version_0/checkpoints/last.ckpt --data MNIST \\
        --metrics fid,accuracy,diversity --feature_extractor inception --classifier mnist.pt
    gan-zoo evaluate --ckpt_path runs/dcgan-fashionmnist/version_0/checkpoints/last.ckpt \\
        --data FashionMNIST --metrics fid,precision_recall --real_split test --feature_extractor fashion_mnist

The model is read with :func:`gan_zoo.load_model` (``weights_only=True``); its class comes from the
checkpoint (every zoo model records it), so any registered model works; ``--model NAME`` names it for a
checkpoint that does not record it. The data module is built at the model's resolution and channels.
Every number is of the averaged generator when the model keeps one, of the raw one with
``--weights raw``.
With the same ``--num_samples``, ``--batch_size``, ``--seed``, split and extractor, the numbers are
those the metric callbacks log at the end of training.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import torch

from gan_zoo.checkpoints import load_model
from gan_zoo.commands.options import add_ckpt_path
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule
from gan_zoo.metrics import (
    SAMPLE_METRICS,
    FeatureExtractor,
    RealFeatureCache,
    SampleMetric,
    build_feature_extractor,
    evaluate_model,
    feature_extractor_names,
)
from gan_zoo.metrics.datasets import data_module_class, snake_case
from gan_zoo.metrics.discriminability import discriminability
from gan_zoo.metrics.diversity import class_diversity
from gan_zoo.models import MODELS

ANALYSES = ("accuracy", "diversity")
MIFID_REAL_IMAGES = 10_000
ALL_METRICS = (*SAMPLE_METRICS, *ANALYSES)


def add_checkpoint_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every command that reads a checkpoint and the data it was trained on: ``--ckpt_path``,
    ``--data``, ``--data_dir``, ``--download``, ``--batch_size``, ``--seed``, ``--model``, ``--device``,
    ``--no_progress``."""
    add_ckpt_path(parser, help="a checkpoint written by gan-zoo fit")
    parser.add_argument(
        "--data", required=True, help="data module the model was trained on, e.g. FashionMNIST"
    )
    parser.add_argument(
        "--data_dir", "--data-dir", default="data", help="where the data module looks for its files"
    )
    parser.add_argument("--download", action="store_true", help="let the data module download missing files")
    parser.add_argument("--batch_size", "--batch-size", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--model", help=f"model class, for checkpoints that do not record it: {', '.join(MODELS.names())}"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--no_progress", "--no-progress", action="store_true")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gan-zoo evaluate", description=__doc__.split("\n\n")[0])
    add_checkpoint_arguments(parser)
    parser.add_argument("--metrics", default="fid", help=f"comma-separated, from: {','.join(ALL_METRICS)}")
    parser.add_argument(
        "--num_samples",
        "--num-samples",
        type=int,
        default=10_000,
        help="generated images (spread over the classes for accuracy)",
    )
    parser.add_argument(
        "--feature_extractor",
        "--feature-extractor",
        default="inception",
        help=f"for fid/kid/is/mifid: {', '.join(feature_extractor_names())}, or a classifier .pt file",
    )
    parser.add_argument(
        "--inception_weights", "--inception-weights", help="a local copy of the Inception-v3 weights"
    )
    parser.add_argument(
        "--antialias", action="store_true", help="resize for Inception with PyTorch's antialiased filter"
    )
    parser.add_argument(
        "--classifier", help="for accuracy: a domain classifier (default: the one shipped for --data)"
    )
    parser.add_argument("--real_split", "--real-split", default="train", choices=["train", "val", "test"])
    parser.add_argument(
        "--num_real",
        "--num-real",
        type=int,
        help="use only the first N real images (default: all; MiFID: 10 000)",
    )
    parser.add_argument("--pairs", type=int, default=100, help="diversity: MS-SSIM pairs per class")
    parser.add_argument(
        "--weights",
        choices=["ema", "raw"],
        help="the average of G's weights or G as trained (default: ema when the model keeps one)",
    )
    parser.add_argument(
        "--nearest_k",
        "--nearest-k",
        type=int,
        default=3,
        help="precision_recall: the k of the k-NN balls (3, the paper's)",
    )
    parser.add_argument("--cache_dir", "--cache-dir", help="directory of the real-feature cache")
    parser.add_argument(
        "--no_cache", "--no-cache", action="store_true", help="neither read nor write the real-feature cache"
    )
    parser.add_argument(
        "--output", type=Path, help="JSON file (default: <ckpt stem>-evaluation.json beside it)"
    )
    args = parser.parse_args(argv)
    args.metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in args.metrics if m not in ALL_METRICS]
    if unknown or not args.metrics:
        parser.error(f"unknown metrics {unknown}; valid: {', '.join(ALL_METRICS)}")
    if args.nearest_k < 1:
        parser.error(f"--nearest_k must be a positive integer, got {args.nearest_k}")
    if args.output is not None and args.output.exists():
        parser.error(f"{args.output} exists; choose another --output")
    return args


def build_data(
    cls: type[ImageDataModule], args: argparse.Namespace, model: AdversarialModule
) -> ImageDataModule:
    """The data module at the model's resolution and channels."""
    channels, size, _ = model.image_shape
    data = cls(
        data_dir=args.data_dir,
        image_size=size,
        channels=channels,
        batch_size=args.batch_size,
        download=args.download,
    )
    if data.num_classes != model.num_classes and model.conditional:
        raise ValueError(
            f"{type(model).__name__} has {model.num_classes} classes, {cls.__name__} {data.num_classes}"
        )
    data.prepare_data()
    return data


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Everything ``args`` asks for, as the JSON-ready report."""
    data_cls = data_module_class(args.data)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    model = load_model(args.ckpt, model=MODELS.get(args.model) if args.model else None, map_location=device)
    data = build_data(data_cls, args, model)
    with model.sampling_from(args.weights):  # also for the analyses, which call model.sample
        return report_for(args, model, data)


def report_for(args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule) -> dict[str, Any]:
    """The report of :func:`evaluate` for a loaded model and its data."""
    report: dict[str, Any] = {
        "checkpoint": str(args.ckpt),
        "model": f"{type(model).__module__}.{type(model).__qualname__}",
        "data": type(data).__name__,
        "image_shape": list(model.image_shape),
        "weights": model.chosen_weights(),
        "num_samples": args.num_samples,
        "batch_size": args.batch_size,
        "seed": args.seed,
    }
    if any(m in SAMPLE_METRICS for m in args.metrics):
        extractor = build_feature_extractor(args.feature_extractor, args.inception_weights, args.antialias)
        report["real_split"] = args.real_split
        report["feature_extractor"] = {"name": extractor.name, "fingerprint": extractor.fingerprint()}
        report["metrics"] = sample_metrics_report(args, model, data, extractor)
    if "accuracy" in args.metrics:
        report["accuracy"] = accuracy_report(args, model, data)
    if "diversity" in args.metrics:
        diversity = class_diversity(
            model, data, args.pairs, real_split=args.real_split, batch_size=args.batch_size, seed=args.seed
        )
        report["diversity"] = {
            "pairs": diversity.pairs,
            "real_split": args.real_split,
            "share_at_least_as_diverse": diversity.share_at_least_as_diverse,
            "msssim": {
                name: {"generated": g, "real": r}
                for name, g, r in zip(data.classes, diversity.generated, diversity.real, strict=True)
            },
        }
    return report


def sample_metrics_report(
    args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule, extractor: FeatureExtractor
) -> dict[str, float]:
    """FID / KID / IS / MiFID; MiFID against the first 10 000 real images unless ``--num_real`` says
    otherwise (as the MiFID callback: its cosine matrix is ``num_samples × num_real`` float64)."""
    groups: dict[int | None, list[str]] = {}
    for name in (m for m in args.metrics if m in SAMPLE_METRICS):
        num_real = args.num_real or (MIFID_REAL_IMAGES if name == "mifid" else None)
        groups.setdefault(num_real, []).append(name)
    cache = None if args.no_cache else RealFeatureCache(args.cache_dir)
    results: dict[str, float] = {}
    for num_real, names in groups.items():
        results |= evaluate_model(
            model,
            data,
            [sample_metric(name, extractor, args) for name in names],
            extractor,
            num_samples=args.num_samples,
            real_split=args.real_split,
            num_real=num_real,
            batch_size=args.batch_size,
            seed=args.seed,
            cache=cache,
            show_progress=not args.no_progress,
        )
    return results


def sample_metric(name: str, extractor: FeatureExtractor, args: argparse.Namespace) -> SampleMetric:
    """The metric ``name`` with the options the command line gives it."""
    if name == "precision_recall":
        return SAMPLE_METRICS[name](extractor, k=args.nearest_k)
    return SAMPLE_METRICS[name](extractor)


def accuracy_report(
    args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule
) -> dict[str, Any]:
    classifier = build_feature_extractor(args.classifier or snake_case(type(data).__name__))
    per_class = math.ceil(args.num_samples / model.num_classes)
    result = discriminability(model, classifier, per_class, batch_size=args.batch_size, seed=args.seed)
    return {
        "classifier": classifier.name,
        "real_test_accuracy": getattr(classifier, "record", {}).get("test_accuracy"),
        "samples_per_class": result.samples_per_class,
        "overall": result.overall,
        "per_class": dict(zip(data.classes, result.per_class, strict=True)),
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as aligned text: the sample metrics, then one row per class for the analyses."""
    shape = tuple(report["image_shape"])
    lines = [
        f"{report['model']} on {report['data']} {shape}: {report['num_samples']} samples, "
        f"{report['weights']} weights"
    ]
    if "metrics" in report:
        lines.append(f"features: {report['feature_extractor']['name']}, real split: {report['real_split']}")
        lines += [f"  {name:<10} {value:>12.4f}" for name, value in report["metrics"].items()]
    accuracy, diversity = report.get("accuracy"), report.get("diversity")
    if accuracy or diversity:
        header = f"  {'class':<14}" + (f"{'accuracy':>10}" if accuracy else "")
        header += f"{'MS-SSIM gen':>13}{'MS-SSIM real':>14}" if diversity else ""
        lines.append(header)
        classes = list((accuracy or {}).get("per_class") or diversity["msssim"])
        for name in classes:
            row = f"  {name:<14}" + (f"{accuracy['per_class'][name]:>10.4f}" if accuracy else "")
            if diversity:
                pair = diversity["msssim"][name]
                row += f"{pair['generated']:>13.4f}{pair['real']:>14.4f}"
            lines.append(row)
        if accuracy:
            real = accuracy["real_test_accuracy"]
            lines.append(
                f"  accuracy overall {accuracy['overall']:.4f} (classifier '{accuracy['classifier']}'"
                + (f", {real:.4f} on real test images)" if real is not None else ")")
            )
        if diversity:
            lines.append(
                f"  classes at least as diverse as real data: {diversity['share_at_least_as_diverse']:.1%}"
            )
    return "\n".join(lines)


def output_path(args: argparse.Namespace) -> Path:
    """``--output``, or a fresh ``<ckpt stem>-evaluation[-N].json`` beside the checkpoint."""
    if args.output is not None:
        return args.output
    candidate = args.ckpt.with_name(f"{args.ckpt.stem}-evaluation.json")
    n = 0
    while candidate.exists():
        n += 1
        candidate = args.ckpt.with_name(f"{args.ckpt.stem}-evaluation-{n}.json")
    return candidate


def main(argv: list[str]) -> dict[str, Any]:
    args = parse_args(argv)
    report = evaluate(args)
    path = output_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(format_table(report))
    print(f"wrote {path}")
    return report
