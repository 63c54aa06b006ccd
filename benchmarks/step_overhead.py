"""Lightning's cost per batch: the Trainer path and the bare loop with networks too small to matter.

    python benchmarks/step_overhead.py                   # 1x32x32, 5 rounds of 300 timed batches
    python benchmarks/step_overhead.py --steps 1000 --json runs/step_overhead.json

G is one linear layer (z → C·H·W, then tanh) and D another (C·H·W → 1), so a batch's arithmetic
takes microseconds and what is left is everything else: the data loader, Lightning's loop and hooks,
its optimizer wrappers, the schedule's bookkeeping and logging. Both paths are those of
``train_throughput.py`` (the Trainer with the default progress bar and a CSV logger writing every 50
steps). The difference of their milliseconds per batch is what the Trainer adds to every batch of
any model: compare it with a real step's time (``train_throughput.py``) to see its share. The
difference is the median of each round's, the two runs back to back.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import cpu_name, write_report
from train_throughput import BATCH, BareLoop, RandomImages, build, trainer_run


def minimal_networks(shape: tuple[int, int, int]):
    """A DCGAN module whose G and D are single linear layers: the schedule without the arithmetic."""
    model = build(shape, channels_last=False, compile_=False)
    pixels = shape[0] * shape[1] * shape[2]
    model.generator = nn.Sequential(nn.Linear(model.latent_dim, pixels), nn.Tanh(), nn.Unflatten(1, shape))
    model.discriminator = nn.Sequential(nn.Flatten(), nn.Linear(pixels, 1))
    return model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shape", default="1x32x32", help="CxHxW")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path("runs/step_overhead.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)  # keep the table readable
    warnings.filterwarnings("ignore")

    shape = tuple(int(v) for v in args.shape.split("x"))
    data = RandomImages(shape, n=BATCH * (args.warmup + args.steps) * 2)
    data.setup("fit")
    trainer_model = minimal_networks(shape)
    bare = BareLoop(minimal_networks(shape), data.train_set.images, "32-true")
    load = os.getloadavg()[0]
    ms = {"trainer": [], "bare": []}
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds):
            for path in ("trainer", "bare") if r % 2 == 0 else ("bare", "trainer"):
                if path == "bare":
                    speed = bare.run(args.warmup, args.steps)
                else:
                    speed, _ = trainer_run(trainer_model, data, "32-true", args.warmup, args.steps, root)
                ms[path].append(1000 * BATCH / speed)
    added = [t - b for t, b in zip(ms["trainer"], ms["bare"], strict=True)]
    result = {
        "shape": args.shape,
        "trainer_ms_per_batch": statistics.median(ms["trainer"]),
        "bare_ms_per_batch": statistics.median(ms["bare"]),
        "added_ms_per_batch": statistics.median(added),
        "round_added_ms": added,
        "runs_ms": ms,
    }
    print(f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}; load {load:.1f}")
    print(f"{'shape':8} {'Trainer ms/batch':>16} {'bare ms/batch':>13} {'added ms/batch':>14}")
    print(
        f"{args.shape:8} {result['trainer_ms_per_batch']:16.2f} {result['bare_ms_per_batch']:13.2f} "
        f"{result['added_ms_per_batch']:14.2f}"
    )
    write_report(
        args.json,
        [result],
        load,
        threads=args.threads,
        batch_size=BATCH,
        rounds=args.rounds,
        steps=args.steps,
    )


if __name__ == "__main__":
    main()
