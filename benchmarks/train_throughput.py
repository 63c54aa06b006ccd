"""Training throughput: DCGAN through ``Trainer.fit`` against the same networks in a bare PyTorch loop.

    python benchmarks/train_throughput.py                      # fp32, bf16-mixed, channels_last
    python benchmarks/train_throughput.py --variants fp32 compile --shapes 1x32x32
    python benchmarks/train_throughput.py --json runs/train_throughput.json

Both paths do the same work per batch (the schedule of ``AdversarialModule``): draw z, G(z) once,
one D update on (x, G(z).detach()) and one G update with D's parameters frozen, Adam(2e-4, 0.5) on
both, images kept as uint8 in memory and normalised per batch. The Trainer path is what a user runs:
the default progress bar and a CSV logger writing every 50 steps.

The machine is shared, so absolute times mean little: each variant alternates Trainer and bare rounds
(timing ``--steps`` batches after ``--warmup``) and reports medians, so load hits both alike. The
matmul peak is measured in the same run (fp32 and bf16, square ``torch.mm``), and the achieved
GFLOP/s is counted with ``torch.utils.flop_counter.FlopCounterMode`` on one bare training step.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from gan_zoo.core.performance import apply_performance
from gan_zoo.data import InMemoryImageDataModule, normalize
from gan_zoo.models import DCGAN

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import cpu_name, write_report

BATCH = 64
VARIANTS = {  # name -> (Lightning precision, channels_last, compile)
    "fp32": ("32-true", False, False),
    "bf16-mixed": ("bf16-mixed", False, False),
    "channels_last": ("32-true", True, False),
    "bf16+channels_last": ("bf16-mixed", True, False),
    "compile": ("32-true", False, True),
}


class RandomImages(InMemoryImageDataModule):
    """Random uint8 images held in memory, as the MNIST/CIFAR modules hold theirs."""

    native_shape = (1, 32, 32)

    def __init__(self, shape: tuple[int, int, int], n: int, **kwargs) -> None:
        super().__init__(batch_size=BATCH, **kwargs)
        self.native_shape, self.n = shape, n

    def load_split(self, split):
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (self.n, *self.native_shape), dtype=torch.uint8, generator=generator)
        return images, torch.zeros(self.n, dtype=torch.long)


# ---------------------------------------------------------------------------------------------- peak
def matmul_peak(dtype: torch.dtype, n: int = 1024, seconds: float = 1.0) -> float:
    """Best GFLOP/s of ``n×n @ n×n`` over short bursts: the machine's attainable compute right now."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    for _ in range(3):
        a @ b
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(4):
            a @ b
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


# ---------------------------------------------------------------------------------------------- bare
class BareLoop:
    """The reference: the same G, D, optimizers and schedule, with nothing around them."""

    def __init__(self, model: DCGAN, images: Tensor, precision: str) -> None:
        self.g, self.d = model.generator, model.discriminator
        self.latent_dim = model.latent_dim
        self.images = images
        self.autocast = precision == "bf16-mixed"
        self.g_opt = model.default_optimizer(self.g.parameters(), "generator")
        self.d_opt = model.default_optimizer(self.d.parameters(), "discriminator")
        self.loss = nn.BCEWithLogitsLoss()
        self.order = torch.randperm(images.shape[0])
        self.position = 0

    def batch(self) -> Tensor:
        if self.position + BATCH > self.order.numel():
            self.order, self.position = torch.randperm(self.images.shape[0]), 0
        index = self.order[self.position : self.position + BATCH]
        self.position += BATCH
        return normalize(self.images[index])

    def step(self) -> None:
        real = self.batch()
        with torch.autocast("cpu", torch.bfloat16, enabled=self.autocast):
            fake = self.g(torch.randn(BATCH, self.latent_dim))
            real_logits = self.d(real).flatten()
            fake_logits = self.d(fake.detach()).flatten()
            d_loss = self.loss(real_logits, torch.ones_like(real_logits)) + self.loss(
                fake_logits, torch.zeros_like(fake_logits)
            )
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()
        self.d.requires_grad_(False)  # as Lightning's toggled_optimizer does: no D weight grads for G
        with torch.autocast("cpu", torch.bfloat16, enabled=self.autocast):
            g_logits = self.d(fake).flatten()
            g_loss = self.loss(g_logits, torch.ones_like(g_logits))
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        self.d.requires_grad_(True)

    def run(self, warmup: int, steps: int) -> float:
        for _ in range(warmup):
            self.step()
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        return steps * BATCH / (time.perf_counter() - start)


# ---------------------------------------------------------------------------------------------- trainer
class Stopwatch(pl.Callback):
    """Times batches ``warmup`` … ``warmup + steps - 1`` end to end (data, step, logging, progress bar)."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.start = self.seconds = None

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        if batch_idx == self.warmup - 1:
            self.start = time.perf_counter()
        elif batch_idx == self.warmup + self.steps - 1:
            self.seconds = time.perf_counter() - self.start


def trainer_run(
    model: DCGAN, data: RandomImages, precision: str, warmup: int, steps: int, root: str
) -> float:
    watch = Stopwatch(warmup, steps)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        precision=precision,
        max_epochs=1,
        limit_train_batches=warmup + steps,
        logger=CSVLogger(root),
        log_every_n_steps=50,
        enable_checkpointing=False,
        enable_model_summary=False,
        callbacks=[watch],
        default_root_dir=root,
    )
    trainer.fit(model, datamodule=data)
    return steps * BATCH / watch.seconds


# ---------------------------------------------------------------------------------------------- flops
def flops_per_image(model: DCGAN, images: Tensor) -> float:
    """FLOPs of one full training step (both updates, forward and backward) divided by the batch."""
    loop = BareLoop(model, images, "32-true")
    with FlopCounterMode(display=False) as counter:
        loop.step()
    return counter.get_total_flops() / BATCH


def build(shape: tuple[int, int, int], channels_last: bool, compile_: bool) -> DCGAN:
    torch.manual_seed(0)
    model = DCGAN(image_shape=shape)
    apply_performance(model, channels_last=channels_last, compile=compile_)
    return model


def measure(shape, variant: str, rounds: int, warmup: int, steps: int, root: str) -> dict:
    precision, channels_last, compile_ = VARIANTS[variant]
    data = RandomImages(shape, n=BATCH * (warmup + steps) * 2)
    data.setup("fit")
    images = data.train_set.images
    # Separate copies so neither path warms the other's optimizer state or compiled graphs.
    trainer_model, bare_model = build(shape, channels_last, compile_), build(shape, channels_last, compile_)
    bare = BareLoop(bare_model, images, precision)
    runs: dict[str, list[float]] = {"trainer": [], "bare": []}
    paths: dict[str, Callable[[], float]] = {
        "trainer": lambda: trainer_run(trainer_model, data, precision, warmup, steps, root),
        "bare": lambda: bare.run(warmup, steps),
    }
    for r in range(rounds):  # alternate the order too, so neither path always runs first
        for name in ("trainer", "bare") if r % 2 == 0 else ("bare", "trainer"):
            runs[name].append(paths[name]())
    return {name: statistics.median(values) for name, values in runs.items()} | {"runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=["1x32x32", "3x64x64"], help="CxHxW")
    parser.add_argument(
        "--variants", nargs="+", default=["fp32", "bf16-mixed", "channels_last"], choices=VARIANTS
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=min(2, torch.get_num_threads()))
    parser.add_argument("--json", type=Path, default=Path("runs/train_throughput.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)  # keep the table readable
    warnings.filterwarnings("ignore")

    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}")
    print(f"matmul peak: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s; load {load:.1f}")
    print(
        f"{'shape':8} {'variant':18} {'trainer img/s':>13} {'bare img/s':>10} {'ratio':>6} "
        f"{'GFLOP/s':>8} {'of peak':>7}"
    )
    results = []
    with tempfile.TemporaryDirectory() as root:
        for text in args.shapes:
            shape = tuple(int(v) for v in text.split("x"))
            flops = flops_per_image(
                build(shape, False, False), RandomImages(shape, BATCH).load_split("train")[0]
            )
            fp32_bare = None
            for variant in args.variants:
                row = measure(shape, variant, args.rounds, args.warmup, args.steps, root)
                peak = peaks["bf16" if VARIANTS[variant][0] == "bf16-mixed" else "fp32"]
                gflops = row["trainer"] * flops / 1e9
                row |= {
                    "shape": text,
                    "variant": variant,
                    "ratio": row["trainer"] / row["bare"],
                    "gflop_per_image": flops / 1e9,
                    "trainer_gflops": gflops,
                    "fraction_of_peak": gflops / peak,
                }
                if variant == "fp32":
                    fp32_bare = row
                elif fp32_bare is not None:
                    row["speedup_vs_fp32_trainer"] = row["trainer"] / fp32_bare["trainer"]
                results.append(row)
                print(
                    f"{text:8} {variant:18} {row['trainer']:13.1f} {row['bare']:10.1f} {row['ratio']:6.2f} "
                    f"{gflops:8.1f} {row['fraction_of_peak']:7.0%}",
                    flush=True,
                )
    for row in results:
        if "speedup_vs_fp32_trainer" in row:
            print(
                f"{row['shape']} {row['variant']}: {row['speedup_vs_fp32_trainer']:.2f}× fp32 (Trainer path)"
            )
    write_report(
        args.json,
        results,
        load,
        threads=args.threads,
        matmul_peak_gflops=peaks,
        batch_size=BATCH,
        rounds=args.rounds,
        steps=args.steps,
    )


if __name__ == "__main__":
    main()
