"""``gan-zoo analyze``: the papers' analyses of a trained checkpoint, each a table, a JSON file and a plot.

    gan-zoo analyze features --ckpt_path runs/dcgan-fashionmnist/version_0/checkpoints/last.ckpt \\
        --data FashionMNIST --labels_per_class 100,1000
    gan-zoo analyze resolution --ckpt_path runs/acgan-fashionmnist/version_0/checkpoints/last.ckpt \\
        --data FashionMNIST --sizes 32,16,8
    gan-zoo analyze truncation --ckpt_path runs/biggan-fashionmnist/version_0/checkpoints/last.ckpt \\
        --data FashionMNIST --truncations 0.25,0.5,1,1.5,2,none

* ``features`` (DCGAN §5.1): D's convolutional features, max-pooled to 4×4 per layer, as the input of a
  linear L2-SVM trained on a few labelled real images per class; beside the same SVM on raw pixels and
  on a randomly initialised D of the same architecture.
* ``resolution`` (AC-GAN §4.1, Figure 2): a domain classifier's accuracy on class-conditional samples
  resized down and back up, and on real images treated the same way.
* ``truncation`` (BigGAN §3.1, Figures 4 and 17): FID and IS over a sweep of the truncation threshold ψ.

Each writes ``<out>/<analysis>.json`` and ``<out>/<analysis>.png`` (default ``out``: ``<ckpt stem>-analyses``
beside the checkpoint) and prints its table. Existing files are kept unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from gan_zoo.checkpoints import load_model
from gan_zoo.commands import analysis_plots
from gan_zoo.commands.evaluate import add_checkpoint_arguments, build_data
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule
from gan_zoo.errors import ConfigError, OutputExistsError
from gan_zoo.machine import cpu_name
from gan_zoo.metrics import RealFeatureCache, build_feature_extractor, feature_extractor_names
from gan_zoo.metrics.datasets import data_module_class, snake_case
from gan_zoo.metrics.discriminability import discriminability_by_resolution, real_accuracy_by_resolution
from gan_zoo.metrics.linear_probe import (
    DEFAULT_C_GRID,
    LabelledSplits,
    PooledFeatures,
    estimate_batch_norm,
    pixel_features,
    probe,
    sees_labels,
    untrained_discriminator,
)
from gan_zoo.metrics.streams import as_uint8, quiet_loader, split_dataset
from gan_zoo.metrics.truncation import check_normal_prior, truncation_sweep
from gan_zoo.models import MODELS

ANALYSES = ("features", "resolution", "truncation")
DEFAULT_TRUNCATIONS = "0.25,0.5,0.75,1,1.25,1.5,1.75,2,none"


# ---------------------------------------------------------------------- arguments
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-zoo analyze", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="analysis", required=True, metavar="{" + ",".join(ANALYSES) + "}")

    features = commands.add_parser(
        "features", help="DCGAN §5.1: L2-SVM accuracy on D's features with few labels"
    )
    _common(features)
    features.add_argument(
        "--labels_per_class",
        "--labels-per-class",
        default=_labels_per_class("100,400"),
        type=_labels_per_class,
        help="comma-separated counts of labelled training images per class; 'all' for every one "
        "(default 100,400; an SVM on 1000 per class of 7k-dimensional features takes minutes per fit)",
    )  # fmt: skip
    features.add_argument("--repeats", type=_positive, default=5, help="random labelled subsets per count")
    features.add_argument(
        "--c_grid", "--c-grid", type=_floats, default=DEFAULT_C_GRID,
        help=f"values of the SVM's C to choose from on held-out images (default {_join(DEFAULT_C_GRID)})",
    )  # fmt: skip
    features.add_argument(
        "--num_val",
        "--num-val",
        type=_positive,
        help="training images held out to choose C (default: 10%%, at most 10 000)",
    )
    features.add_argument(
        "--num_test", "--num-test", type=_positive, help="test images to score (default: all)"
    )
    features.add_argument(
        "--layers", type=_names, help="D's modules to take features from (default: every activation)"
    )
    features.add_argument(
        "--bn_stats", "--bn-stats", choices=("real", "running"), default="real",
        help="D's batch-norm statistics: re-estimated on real training images (the authors' code) or "
        "the running averages from training",
    )  # fmt: skip

    resolution = commands.add_parser(
        "resolution", help="AC-GAN §4.1: classifier accuracy of samples resized down and back up"
    )
    _common(resolution)
    resolution.add_argument(
        "--sizes",
        type=_sizes,
        help="resolutions to resize to and back (default: the native size halved down to 4)",
    )
    resolution.add_argument("--samples_per_class", "--samples-per-class", type=_positive, default=1000)
    resolution.add_argument("--classifier", help="a domain classifier (default: the one shipped for --data)")
    resolution.add_argument(
        "--num_real", "--num-real", type=_positive, help="real test images for the reference (default: all)"
    )

    truncation = commands.add_parser(
        "truncation", help="BigGAN §3.1: FID and IS over the truncation threshold ψ"
    )
    _common(truncation)
    truncation.add_argument(
        "--truncations", type=_truncations, default=_truncations(DEFAULT_TRUNCATIONS),
        help=f"thresholds ψ, 'none' for no truncation (default {DEFAULT_TRUNCATIONS})",
    )  # fmt: skip
    truncation.add_argument(
        "--num_samples", "--num-samples", type=_positive, default=10_000, help="generated images per ψ"
    )
    truncation.add_argument(
        "--feature_extractor",
        "--feature-extractor",
        help=f"{', '.join(feature_extractor_names())}, or a classifier .pt file (default: the one of --data)",
    )
    truncation.add_argument(
        "--inception_weights", "--inception-weights", help="a local copy of the Inception-v3 weights"
    )
    truncation.add_argument("--real_split", "--real-split", default="train", choices=["train", "val", "test"])
    truncation.add_argument(
        "--num_real", "--num-real", type=_positive, help="use only the first N real images (default: all)"
    )
    truncation.add_argument("--cache_dir", "--cache-dir", help="directory of the real-feature cache")
    truncation.add_argument(
        "--no_cache", "--no-cache", action="store_true", help="neither read nor write the real-feature cache"
    )
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    add_checkpoint_arguments(parser)
    parser.add_argument("--out", type=Path, help="output directory (default: <ckpt stem>-analyses beside it)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _labels_per_class(text: str) -> list[int | None]:
    return [None if item == "all" else _positive(item) for item in _items(text)]


def _floats(text: str) -> list[float]:
    values = [float(item) for item in _items(text)]
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"give positive numbers, got {text}")
    return values


def _sizes(text: str) -> list[int]:
    return [_positive(item) for item in _items(text)]


def _truncations(text: str) -> list[float | None]:
    values = [None if item == "none" else float(item) for item in _items(text)]
    if not values or any(v is not None and v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"thresholds must be > 0 or 'none', got {text}")
    return values


def _names(text: str) -> list[str]:
    return _items(text)


def _join(values: Any) -> str:
    return ",".join(f"{v:g}" for v in values)


# ---------------------------------------------------------------------- shared steps
def output_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """``<out>/<analysis>.json`` and ``.png``; refuses to replace either unless ``--overwrite``."""
    out = args.out if args.out is not None else args.ckpt.with_name(f"{args.ckpt.stem}-analyses")
    paths = (out / f"{args.analysis}.json", out / f"{args.analysis}.png")
    existing = [str(p) for p in paths if p.exists()]
    if existing and not args.overwrite:
        raise OutputExistsError(
            f"{', '.join(existing)} exist(s); pass --overwrite to replace, or choose another --out"
        )
    return paths


def load(args: argparse.Namespace) -> tuple[AdversarialModule, ImageDataModule]:
    """The model from ``--ckpt_path`` and its data module at the model's resolution and channels."""
    try:
        data_cls = data_module_class(args.data)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    model = load_model(args.ckpt, model=MODELS.get(args.model) if args.model else None, map_location=device)
    check_model_kind(args.analysis, model)
    try:
        data = build_data(data_cls, args, model)
    except ValueError as error:  # the model's classes do not match the data's
        raise ConfigError(str(error)) from None
    return model, data


def check_model_kind(analysis: str, model: AdversarialModule) -> None:
    """One clear line when ``model`` cannot have ``analysis``."""
    name = type(model).__name__
    if analysis == "features" and model.conditional and sees_labels(model.discriminator):
        raise ConfigError(
            f"features needs a discriminator that sees only the image; {name}'s also takes the label"
        )
    if analysis == "resolution" and not model.conditional:
        raise ConfigError(f"resolution needs a class-conditional model; {name} is unconditional")
    if analysis == "truncation":
        try:
            check_normal_prior(model)
        except ValueError as error:
            raise ConfigError(str(error)) from None


def machine() -> dict[str, Any]:
    return {"cpu": cpu_name(), "torch": torch.__version__, "threads": torch.get_num_threads()}


# ---------------------------------------------------------------------- features (DCGAN §5.1)
def labelled_images(data: ImageDataModule, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Every uint8 image ``[N, C, H, W]`` of ``split`` and its label ``[N]``."""
    dataset, collate_fn = split_dataset(data, split)
    batches = list(quiet_loader(dataset, 1000, collate_fn))
    return torch.cat([as_uint8(x) for x, _ in batches]), torch.cat([y for _, y in batches]).long()


def features_splits(args: argparse.Namespace, data: ImageDataModule) -> LabelledSplits:
    """Training images split into the labelled pool and a validation set; the test split."""
    images, labels = labelled_images(data, "train")
    num_val = args.num_val or min(10_000, len(labels) // 10)
    if num_val >= len(labels):
        raise ConfigError(f"--num-val {num_val} leaves no training images (the split has {len(labels)})")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(args.seed))
    val, pool = order[:num_val], order[num_val:]
    test_images, test_labels = labelled_images(data, "test")
    num_test = min(args.num_test or len(test_labels), len(test_labels))
    return LabelledSplits(
        pool=(images[pool], labels[pool]),
        validation=(images[val], labels[val]),
        test=(test_images[:num_test], test_labels[:num_test]),
        num_classes=int(data.num_classes),
    )


def analyze_features(
    args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule
) -> dict[str, Any]:
    splits = features_splits(args, data)
    per_class = max(int(torch.bincount(splits.pool[1]).min()), 1)
    too_many = [k for k in args.labels_per_class if k is not None and k > per_class]
    if too_many:
        raise ConfigError(
            f"--labels-per-class {too_many[0]}: the rarest class has {per_class} images in the pool"
        )
    # Batch-norm statistics from up to 10 000 pool images (the authors use the whole training set).
    estimation = splits.pool[0][:10_000].split(args.batch_size)
    networks = {
        "discriminator": model.discriminator,
        "random discriminator": untrained_discriminator(model, args.seed),
    }
    if args.bn_stats == "real":
        networks = {name: estimate_batch_norm(net, estimation) for name, net in networks.items()}
    extractors: dict[str, Callable] = {
        name: PooledFeatures(net, args.layers) for name, net in networks.items()
    }
    extractors["pixels"] = pixel_features
    results = []
    for name, extractor in extractors.items():
        results += probe(
            name, extractor, splits, args.labels_per_class,
            repeats=args.repeats, c_grid=args.c_grid, batch_size=args.batch_size, seed=args.seed,
            show_progress=not args.no_progress,
        )  # fmt: skip
    layers = extractors["discriminator"].layers_seen
    return {
        "pool_images": len(splits.pool[1]),
        "validation_images": len(splits.validation[1]),
        "test_images": len(splits.test[1]),
        "repeats": args.repeats,
        "c_grid": list(args.c_grid),
        "bn_stats": args.bn_stats,
        "layers": [{"name": name, "features": size} for name, size in layers],
        "results": [
            {
                "features": r.features,
                "labels_per_class": r.labels_per_class or "all",
                "mean": r.mean,
                "std": r.std,
                "test_accuracy": r.test_accuracy,
                "c": r.c,
                "validation_accuracy": r.validation_accuracy,
                "validation_by_c": {f"{c:g}": v for c, v in r.validation_by_c.items()},
                "dimension": r.dimension,
                "not_converged": r.not_converged,
            }
            for r in results
        ],
    }


def features_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"L2-SVM test accuracy, mean ± std over {report['repeats']} labelled subsets "
        f"({report['test_images']} test images; C chosen on {report['validation_images']} held-out images)",
        f"  {'features':<22}{'dim':>7}{'labels/class':>14}{'accuracy':>18}{'C':>9}",
    ]
    for r in report["results"]:
        spread = f"{100 * r['std']:.2f}" if len(r["test_accuracy"]) > 1 else "—"  # one subset: no spread
        accuracy = f"{100 * r['mean']:.2f} ± {spread} %"
        lines.append(
            f"  {r['features']:<22}{r['dimension']:>7}{r['labels_per_class']!s:>14}{accuracy:>18}{r['c']:>9g}"
        )
    unconverged = sum(r["not_converged"] for r in report["results"])
    if unconverged:
        lines.append(f"  ({unconverged} SVM fits stopped at the iteration limit before converging)")
    return lines


# ---------------------------------------------------------------------- resolution (AC-GAN §4.1)
def analyze_resolution(
    args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule
) -> dict[str, Any]:
    classifier = build_feature_extractor(args.classifier or snake_case(type(data).__name__))
    if classifier.num_logits != model.num_classes:
        raise ConfigError(
            f"classifier '{classifier.name}' knows {classifier.num_logits} classes, the model "
            f"{model.num_classes}; give --classifier one of the model's classes"
        )
    native = model.image_shape[-1]
    sizes = args.sizes or [native // 2**i for i in range(int(math.log2(native)) - 1) if native // 2**i >= 4]
    generated = discriminability_by_resolution(
        model, classifier, sizes, args.samples_per_class,
        batch_size=args.batch_size, seed=args.seed, show_progress=not args.no_progress,
    )  # fmt: skip
    real = real_accuracy_by_resolution(
        data, classifier, sizes, num_images=args.num_real, batch_size=args.batch_size, device=model.device
    )
    classes = list(data.classes)
    return {
        "classifier": classifier.name,
        "classifier_image_size": getattr(classifier, "image_size", None),
        "native_size": native,
        "samples_per_class": args.samples_per_class,
        "real_split": "test",
        "real_images": args.num_real,
        "rows": [
            {
                "size": size,
                "generated": g.overall,
                "real": r.overall,
                "generated_per_class": dict(zip(classes, g.per_class, strict=True)),
                "real_per_class": dict(zip(classes, r.per_class, strict=True)),
            }
            for size, g, r in zip(sizes, generated, real, strict=True)
        ],
    }


def resolution_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"accuracy of classifier '{report['classifier']}' on images resized to each size and back to "
        f"{report['native_size']}×{report['native_size']} ({report['samples_per_class']} samples per class)",
        f"  {'size':>6}{'generated':>12}{'real':>10}",
    ]
    lines += [
        f"  {r['size']:>6}{100 * r['generated']:>11.2f}%{100 * r['real']:>9.2f}%" for r in report["rows"]
    ]
    return lines


# ---------------------------------------------------------------------- truncation (BigGAN §3.1)
def analyze_truncation(
    args: argparse.Namespace, model: AdversarialModule, data: ImageDataModule
) -> dict[str, Any]:
    extractor = build_feature_extractor(
        args.feature_extractor or snake_case(type(data).__name__), args.inception_weights
    )
    points = truncation_sweep(
        model, data, extractor, args.truncations,
        num_samples=args.num_samples, real_split=args.real_split, num_real=args.num_real,
        batch_size=args.batch_size, seed=args.seed,
        cache=None if args.no_cache else RealFeatureCache(args.cache_dir), show_progress=not args.no_progress,
    )  # fmt: skip
    return {
        "feature_extractor": {"name": extractor.name, "fingerprint": extractor.fingerprint()},
        "num_samples": args.num_samples,
        "real_split": args.real_split,
        "num_real": args.num_real,
        "rows": [{"psi": p.psi, "fid": p.fid, "is_mean": p.is_mean, "is_std": p.is_std} for p in points],
    }


def truncation_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"FID and IS of {report['num_samples']} samples per ψ "
        f"(features: {report['feature_extractor']['name']}, "
        f"real split: {report['real_split']})",
        f"  {'ψ':>6}{'FID':>11}{'IS':>17}",
    ]
    for r in report["rows"]:
        psi = "none" if r["psi"] is None else f"{r['psi']:g}"
        lines.append(f"  {psi:>6}{r['fid']:>11.3f}{r['is_mean']:>10.3f} ± {r['is_std']:.3f}")
    return lines


# ---------------------------------------------------------------------- main
RUN: dict[str, tuple[Callable, Callable, Callable]] = {
    "features": (analyze_features, features_table, analysis_plots.features_plot),
    "resolution": (analyze_resolution, resolution_table, analysis_plots.resolution_plot),
    "truncation": (analyze_truncation, truncation_table, analysis_plots.truncation_plot),
}


def main(argv: list[str]) -> dict[str, Any]:
    """Run one analysis; bad input raises the errors ``gan-zoo`` reports as one line with exit code 2."""
    args = build_parser().parse_args(argv)
    json_path, png_path = output_paths(args)
    analysis_plots.check_available()
    model, data = load(args)
    compute, table, plot = RUN[args.analysis]
    start = time.perf_counter()
    report = {
        "analysis": args.analysis,
        "checkpoint": str(args.ckpt),
        "model": f"{type(model).__module__}.{type(model).__qualname__}",
        "data": type(data).__name__,
        "image_shape": list(model.image_shape),
        "seed": args.seed,
        **compute(args, model, data),
    }
    report["seconds"] = round(time.perf_counter() - start, 1)
    report["machine"] = machine()
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    plot(report, png_path)
    header = f"{report['model'].rsplit('.', 1)[-1]} on {report['data']} {tuple(report['image_shape'])}"
    print("\n".join([header, *table(report)]))
    print(f"wrote {json_path} and {png_path}")
    return report
