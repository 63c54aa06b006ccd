"""Training throughput: DCGAN through ``Trainer.fit`` against the same networks in a bare PyTorch loop.

    python benchmarks/train_throughput.py            # fp32, bf16-mixed, channels_last, bf16+channels_last
    python benchmarks/train_throughput.py --variants fp32 compile bf16+channels_last+compile --shapes 1x32x32
    python benchmarks/train_throughput.py --threads 1 --json runs/train_throughput.json

Both paths do the same work per batch (the schedule of ``AdversarialModule``): draw z, G(z) once,
one D update on (x, G(z).detach()) and one G update with D's parameters frozen, Adam(2e-4, 0.5) on
both (built afresh for each run, as ``Trainer.fit`` does), images kept as uint8 in memory and
normalised per batch. The Trainer path is what a user runs: the default progress bar and a CSV
logger writing every 50 steps.

The machine is shared, so absolute times mean little: each round runs every variant's Trainer and
bare paths once (timing ``--steps`` batches after ``--warmup``), the order reversing every round.
The img/s columns are medians over rounds; the ratio is the median of each round's Trainer/bare
ratio, the two runs back to back, so load that drifts between rounds cancels. The
matmul peak is measured in the same run (fp32 and bf16, square ``torch.mm``), and the achieved
GFLOP/s is counted with ``torch.utils.flop_counter.FlopCounterMode`` on one bare training step.
The last columns are each variant's Trainer speed over fp32's and a sanity check after training
(every logged loss finite, samples finite and in [-1, 1]).

``--threads`` sets PyTorch's intra-op threads (default: up to 2). When other jobs keep the cores
busy, every OpenMP parallel region waits at its barrier for a thread that is not running, and many
short regions (bf16 casts and reorders more than fp32) pay that wait each time: compare with
``--threads 1`` there.
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
from pathlib import Path

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import CSVLogger
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from gan_zoo.core.optimizers import build_optimizer
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
    "bf16+channels_last+compile": ("bf16-mixed", True, True),
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
        self.model = model
        self.images = images
        self.autocast = precision == "bf16-mixed"
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

    def new_optimizers(self) -> None:
        """Fresh optimizers, as every ``Trainer.fit`` builds them with ``configure_optimizers``."""
        factories = self.model.optimizer_factories
        self.g_opt = build_optimizer(factories["generator"], self.g.parameters())
        self.d_opt = build_optimizer(factories["discriminator"], self.d.parameters())

    def run(self, warmup: int, steps: int) -> float:
        self.new_optimizers()
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
) -> tuple[float, bool]:
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
    return steps * BATCH / watch.seconds, sane(model, trainer)


def sane(model: DCGAN, trainer: pl.Trainer) -> bool:
    """Numerically sane after training: every logged loss finite, samples finite and in [-1, 1]."""
    losses = [v for k, v in trainer.callback_metrics.items() if k.startswith("train/")]
    images = model.sample(16)
    return (
        bool(losses)
        and all(bool(torch.isfinite(v).all()) for v in losses)
        and bool(torch.isfinite(images).all())
        and bool(images.abs().max() <= 1)
    )


# ---------------------------------------------------------------------------------------------- flops
def flops_per_image(model: DCGAN, images: Tensor) -> float:
    """FLOPs of one full training step (both updates, forward and backward) divided by the batch."""
    loop = BareLoop(model, images, "32-true")
    loop.new_optimizers()
    with FlopCounterMode(display=False) as counter:
        loop.step()
    return counter.get_total_flops() / BATCH


def build(shape: tuple[int, int, int], channels_last: bool, compile_: bool) -> DCGAN:
    torch.manual_seed(0)
    model = DCGAN(image_shape=shape)
    apply_performance(model, channels_last=channels_last, compile=compile_)
    return model


class Contender:
    """One variant's two paths, each with its own copy of the networks (so neither warms the other's
    optimizer state or compiled graphs), timed a round at a time."""

    def __init__(self, shape, variant: str, warmup: int, steps: int, root: str) -> None:
        self.precision, channels_last, compile_ = VARIANTS[variant]
        self.data = RandomImages(shape, n=BATCH * (warmup + steps) * 2)
        self.data.setup("fit")
        self.trainer_model = build(shape, channels_last, compile_)
        self.bare = BareLoop(
            build(shape, channels_last, compile_), self.data.train_set.images, self.precision
        )
        self.warmup, self.steps, self.root = warmup, steps, root
        self.runs: dict[str, list[float]] = {"trainer": [], "bare": []}
        self.checks: list[bool] = []

    def run(self, path: str) -> None:
        if path == "bare":
            self.runs["bare"].append(self.bare.run(self.warmup, self.steps))
            return
        speed, ok = trainer_run(
            self.trainer_model, self.data, self.precision, self.warmup, self.steps, self.root
        )
        self.runs["trainer"].append(speed)
        self.checks.append(ok)

    def result(self) -> dict:
        medians = {path: statistics.median(values) for path, values in self.runs.items()}
        # Each round's two paths ran back to back, so their ratio is the least disturbed by load that
        # drifts between rounds; the median of those ratios is the table's.
        ratios = [t / b for t, b in zip(self.runs["trainer"], self.runs["bare"], strict=True)]
        return medians | {
            "ratio": statistics.median(ratios),
            "round_ratios": ratios,
            "runs": self.runs,
            "sane": all(self.checks),
        }


def measure(shape, variants: list[str], rounds: int, warmup: int, steps: int, root: str) -> dict[str, dict]:
    """Every variant's medians. Each round runs every variant and path once, so a burst of load on
    the shared machine hits all of them alike; the order reverses every round."""
    contenders = {variant: Contender(shape, variant, warmup, steps, root) for variant in variants}
    turns = [(variant, path) for variant in variants for path in ("trainer", "bare")]
    for r in range(rounds):
        for variant, path in turns if r % 2 == 0 else reversed(turns):
            contenders[variant].run(path)
    return {variant: contender.result() for variant, contender in contenders.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", nargs="+", default=["1x32x32", "3x64x64"], help="CxHxW")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["fp32", "bf16-mixed", "channels_last", "bf16+channels_last"],
        choices=VARIANTS,
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=min(2, torch.get_num_threads()))
    parser.add_argument("--json", type=Path, default=Path("runs/train_throughput.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)  # keep the table readable
    warnings.filterwarnings("ignore")

    # bf16's peak only when a bf16 variant runs: without native bf16 one 1024² matmul takes seconds.
    bf16 = any(VARIANTS[variant][0] == "bf16-mixed" for variant in args.variants)
    peaks = {"fp32": matmul_peak(torch.float32)} | ({"bf16": matmul_peak(torch.bfloat16)} if bf16 else {})
    load = os.getloadavg()[0]
    print(f"{cpu_name()}, {args.threads} threads, torch {torch.__version__}")
    measured_peaks = ", ".join(f"{dtype} {gflops:.0f} GFLOP/s" for dtype, gflops in peaks.items())
    print(f"matmul peak: {measured_peaks}; load {load:.1f}")
    print(
        f"{'shape':8} {'variant':26} {'trainer img/s':>13} {'bare img/s':>10} {'ratio':>6} "
        f"{'GFLOP/s':>8} {'of peak':>7} {'× fp32':>6} {'sane':>5}"
    )
    results = []
    with tempfile.TemporaryDirectory() as root:
        for text in args.shapes:
            shape = tuple(int(v) for v in text.split("x"))
            flops = flops_per_image(
                build(shape, False, False), RandomImages(shape, BATCH).load_split("train")[0]
            )
            fp32 = None
            measured = measure(shape, args.variants, args.rounds, args.warmup, args.steps, root)
            for variant, row in measured.items():
                peak = peaks["bf16" if VARIANTS[variant][0] == "bf16-mixed" else "fp32"]
                gflops = row["trainer"] * flops / 1e9
                row |= {
                    "shape": text,
                    "variant": variant,
                    "gflop_per_image": flops / 1e9,
                    "trainer_gflops": gflops,
                    "fraction_of_peak": gflops / peak,
                }
                if variant == "fp32":
                    fp32 = row
                if fp32 is not None:
                    row["speedup_vs_fp32_trainer"] = row["trainer"] / fp32["trainer"]
                    row["speedup_vs_fp32_bare"] = row["bare"] / fp32["bare"]
                results.append(row)
                speedup = f"{row['speedup_vs_fp32_trainer']:6.2f}" if fp32 is not None else f"{'-':>6}"
                sane_text = "yes" if row["sane"] else "NO"
                print(
                    f"{text:8} {variant:26} {row['trainer']:13.1f} {row['bare']:10.1f} {row['ratio']:6.2f} "
                    f"{gflops:8.1f} {row['fraction_of_peak']:7.0%} {speedup} {sane_text:>5}",
                    flush=True,
                )
    print("× fp32: the Trainer path's img/s over fp32's in this run; sane: losses finite, samples in [-1, 1]")
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
