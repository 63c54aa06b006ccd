"""Averaged vs raw generator: the domain FID of each checkpoint's G three ways, and what the batch-norm
recalibration costs.

    python benchmarks/ema_fid.py --data FashionMNIST --feature-extractor fashion_mnist \\
        --output runs/ema_fid.json runs/a/checkpoints/last.ckpt runs/b/checkpoints/last.ckpt

For every checkpoint (written by ``gan-zoo fit`` with ``ema_decay`` set), with the same latents:

* ``sample()``: what the model samples by default, the average of G's weights with batch-norm
  statistics recomputed for it (``ema_bn_batches`` batches of its own activations);
* ``raw``: G as trained, in eval mode with its own running statistics;
* ``live statistics``: the averaged weights with the running statistics of the live G, which is what
  ``sample()`` gave before the recalibration (``ema_bn_batches = 0``).

Then the time of one recalibration (median of ``--repeats``) beside the time of generating as many
images in eval mode. FID of ``--num-samples`` generated images against the whole ``--real-split``
(``test`` by default: images the models never saw), real features from the usual cache. Prints a
Markdown table and writes it as JSON (with the machine and the load) to ``--output``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from report import write_report

from gan_zoo.checkpoints import load_model
from gan_zoo.machine import cpu_name
from gan_zoo.metrics import RealFeatureCache, build_feature_extractor, evaluate_model, fid, real_features
from gan_zoo.metrics.datasets import data_module_class


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument(
        "--data", required=True, help="the data module the models trained on, e.g. FashionMNIST"
    )
    parser.add_argument(
        "--feature-extractor", required=True, help="fashion_mnist, digits, or a classifier .pt"
    )
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--real-split", default="test", help="the real images: train or test (all of it)")
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="latent streams; several show the FID's noise"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timings of the recalibration")
    parser.add_argument("--cost-only", action="store_true", help="time the recalibration, skip the FIDs")
    parser.add_argument("--output", type=Path, default=Path("runs/ema_fid.json"), help="JSON report")
    return parser.parse_args()


def seconds(function, repeats: int) -> float:
    """Median wall time of ``function()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def recalibration_cost(model, repeats: int) -> dict[str, float]:
    """Milliseconds of one recalibration, and of generating as many images in eval mode."""
    ema = model.generator_ema

    def recalibrate() -> None:
        ema.invalidate()
        model.sampling_network("ema")

    images = model.ema_bn_batches * model.ema_bn_batch_size
    generate = [model.generator_inputs(model.ema_bn_batch_size) for _ in range(model.ema_bn_batches)]

    @torch.no_grad()
    def forward() -> None:
        network = ema.module.eval()
        for inputs in generate:
            network(*inputs)

    return {
        "images": images,
        "recalibration_ms": 1000 * seconds(recalibrate, repeats),
        "eval_forward_ms": 1000 * seconds(forward, repeats),
    }


def fid_of(model, data, extractor, real, args: argparse.Namespace, weights: str, seed: int) -> float:
    """The FID of ``args.num_samples`` images of ``weights`` drawn from the latent stream ``seed``."""
    with model.sampling_from(weights):
        metrics = [fid(extractor)]
        return evaluate_model(
            model,
            data,
            metrics,
            extractor,
            num_samples=args.num_samples,
            batch_size=args.batch_size,
            seed=seed,
            real=real,
        )["fid"]


def spread(values: list[float]) -> str:
    """``mean ± sd`` of several values, the value alone of one."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def live_statistics(model) -> None:
    """Give the averaged G the live G's buffers (running statistics), as every update of the average
    does, and no recalibration."""
    model.ema_bn_batches = 0
    with torch.no_grad():
        for averaged, live in zip(
            model.generator_ema.module.buffers(), model.generator.buffers(), strict=True
        ):
            averaged.copy_(live)


def main() -> None:
    args = parse_args()
    load_at_start = os.getloadavg()[0]
    extractor = build_feature_extractor(args.feature_extractor)
    rows = []
    data = real = None
    for path in args.checkpoints:
        model = load_model(path)
        if data is None:
            channels, size, _ = model.image_shape
            data = data_module_class(args.data)(
                image_size=size, channels=channels, batch_size=args.batch_size
            )
            data.prepare_data()
            real = real_features(
                data, args.real_split, extractor, batch_size=args.batch_size, cache=RealFeatureCache()
            )
        row = {"checkpoint": str(path), "g_updates": model.updates["generator"]}
        row |= recalibration_cost(model, args.repeats)
        if args.cost_only:
            print(row, flush=True)
            rows.append(row)
            continue
        for name, weights in (("sample()", "ema"), ("raw", "raw")):
            row[name] = [fid_of(model, data, extractor, real, args, weights, seed) for seed in args.seeds]
        live_statistics(model)
        row["live statistics"] = [fid_of(model, data, extractor, real, args, "ema", args.seeds[0])]
        print(row, flush=True)
        rows.append(row)

    if args.cost_only:
        write_report(args.output, rows, load_at_start, repeats=args.repeats)
        return
    print(
        f"\nFID ({args.feature_extractor} features, {args.num_samples} samples against the "
        f"{args.data} {args.real_split} split, {len(real)} images; {cpu_name()})\n"
    )
    print(f"mean ± standard deviation over the latent streams {args.seeds}; live statistics: the first\n")
    print("| checkpoint | G updates | sample() | raw | live statistics | recalibration | eval forward |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        fids = " | ".join(spread(r[name]) for name in ("sample()", "raw", "live statistics"))
        times = f"{r['recalibration_ms']:.0f} ms | {r['eval_forward_ms']:.0f} ms"
        print(f"| {r['checkpoint']} | {r['g_updates']} | {fids} | {times} |")
    write_report(
        args.output,
        rows,
        load_at_start,
        data=args.data,
        feature_extractor=args.feature_extractor,
        num_samples=args.num_samples,
        seeds=args.seeds,
        real_split=args.real_split,
        num_real=len(real),
    )


if __name__ == "__main__":
    main()
