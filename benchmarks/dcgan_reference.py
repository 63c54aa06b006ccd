"""gan_zoo's DCGAN against the reference PyTorch-GAN ``dcgan.py`` at equal CPU time, on Fashion-MNIST.

The reference is eriklindernoren/PyTorch-GAN, ``implementations/dcgan/dcgan.py``, re-implemented here
from its published setup (its code is not copied): G = Linear(100 → 128·8·8) · BN(128) · [Upsample×2 ·
Conv3×3(128 → 128) · BN(128, eps 0.8) · LeakyReLU(0.2)] · [Upsample×2 · Conv3×3(128 → 64) · BN(64, eps
0.8) · LeakyReLU(0.2)] · Conv3×3(64 → 1) · tanh; D = four blocks Conv3×3 stride 2 (1 → 16 → 32 → 64 →
128) · LeakyReLU(0.2) · Dropout2d(0.25) (· BN(eps 0.8) in all but the first) · Linear(128·2·2 → 1) ·
sigmoid; convolutions ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02); BCE; Adam(2e-4, β = (0.5, 0.999))
for both; batch 64; z ~ N(0, I)^100; per batch one G update on a fresh fake batch, then one D update on
the real batch and that fake batch detached, halving D's loss. Images are 28×28 PIL images resized to
32×32, ToTensor, Normalize(0.5, 0.5), loaded by a single-process shuffling DataLoader, as there (its
``datasets.MNIST`` swapped for Fashion-MNIST). One epoch is 938 batches.

Every model is scored by ``benchmarks/fashion_scores.py``: FID / KID / IS / precision-recall of 10 000
samples against the Fashion-MNIST test split in the shipped ``fashion_mnist`` classifier's features.

    # the timed comparison (a quiet machine): the reference's epoch, then the zoo's YAML for as long,
    # scored at the end, at a third of the time and every --snapshot-every seconds
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py compare
    # the same in two sessions (docs/dcgan_reference.md): the reference, then the zoo for 9.5 minutes
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py reference --json runs/dcgan_reference/reference.json
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py compare --seconds 570 \
        --reference-json runs/dcgan_reference/reference.json --override=--trainer.max_time=00:00:09:30
    # on a busy machine, compare at matched step counts instead of wall time:
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py speed            # batches/s of both, interleaved
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py reference        # one epoch, scored
    PYTHONPATH=$PWD python benchmarks/dcgan_reference.py zoo --batches 400 1200   # scored after each

Results are printed and written as JSON (``--json``, default ``runs/dcgan_reference/<command>.json``).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytorch_lightning as pl
import torch
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from gan_zoo.cli import build_cli
from gan_zoo.data import FashionMNIST

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion_scores import score
from report import write_report

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "experiments" / "dcgan" / "fashion_mnist.yaml"
#: The reference's published settings.
LATENT, BATCH, IMAGE_SIZE, LR, BETAS = 100, 64, 32, 2e-4, (0.5, 0.999)


# ---------------------------------------------------------------------------------------- the reference
class ReferenceGenerator(nn.Module):
    """z [N, 100] → [N, 1, 32, 32]: a linear projection to 8×8, two upsample-conv stages."""

    def __init__(self, latent_dim: int = LATENT, channels: int = 1, size: int = IMAGE_SIZE) -> None:
        super().__init__()
        self.base = size // 4
        self.project = nn.Linear(latent_dim, 128 * self.base**2)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, 1, 1),
            nn.BatchNorm2d(128, 0.8),  # the second positional argument is eps: 0.8, as published
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, 1, 1),
            nn.BatchNorm2d(64, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, channels, 3, 1, 1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(self.project(z).view(z.shape[0], 128, self.base, self.base))


class ReferenceDiscriminator(nn.Module):
    """[N, 1, 32, 32] → probability [N, 1]: four stride-2 conv blocks with dropout, a linear layer."""

    def __init__(self, channels: int = 1, size: int = IMAGE_SIZE) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out, bn in ((channels, 16, False), (16, 32, True), (32, 64, True), (64, 128, True)):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.Dropout2d(0.25)]
            if bn:
                layers.append(nn.BatchNorm2d(c_out, 0.8))
        self.net = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(128 * (size // 16) ** 2, 1), nn.Sigmoid())

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.net(x).flatten(1))


def init_reference(module: nn.Module) -> None:
    """The reference's init: conv weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02), shifts 0 (the
    linear layers keep PyTorch's default)."""
    if isinstance(module, nn.Conv2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class PILImages(Dataset):
    """Fashion-MNIST as torchvision's dataset classes serve it: one PIL image per item, transformed."""

    def __init__(self, images: Tensor, transform: Any) -> None:
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.transform(Image.fromarray(self.images[index].numpy(), mode="L")), 0


def reference_loader(data_dir: str = "data") -> DataLoader:
    """Resize(32) · ToTensor · Normalize(0.5, 0.5), batch 64, shuffled, in the main process."""
    fashion = FashionMNIST(data_dir=data_dir)
    images, _ = fashion.load_split("train")  # uint8 [60000, 1, 28, 28]
    transform = transforms.Compose(
        [transforms.Resize(IMAGE_SIZE), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]
    )
    return DataLoader(PILImages(images[:, 0], transform), batch_size=BATCH, shuffle=True)


class Reference:
    """The reference's training loop, one batch at a time."""

    def __init__(self, seed: int = 0, data_dir: str = "data") -> None:
        torch.manual_seed(seed)
        self.generator, self.discriminator = ReferenceGenerator(), ReferenceDiscriminator()
        self.generator.apply(init_reference)
        self.discriminator.apply(init_reference)
        self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=LR, betas=BETAS)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=LR, betas=BETAS)
        self.loss = nn.BCELoss()
        self.loader = reference_loader(data_dir)
        self.batches = iter(self.loader)
        self.seen = 0

    def step(self) -> None:
        try:
            real, _ = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            real, _ = next(self.batches)
        valid, fake_target = torch.ones(real.shape[0], 1), torch.zeros(real.shape[0], 1)
        self.g_opt.zero_grad()
        fake = self.generator(torch.randn(real.shape[0], LATENT))
        self.loss(self.discriminator(fake), valid).backward()
        self.g_opt.step()
        self.d_opt.zero_grad()
        real_loss = self.loss(self.discriminator(real), valid)
        fake_loss = self.loss(self.discriminator(fake.detach()), fake_target)
        (0.5 * (real_loss + fake_loss)).backward()
        self.d_opt.step()
        self.seen += 1

    def sampler(self, train_mode: bool = False) -> nn.Module:
        return ReferenceSampler(self.generator, train_mode)


class ReferenceSampler(nn.Module):
    """``sample(n, generator=...)`` of the reference's G: eval mode (running batch-norm statistics), or
    train mode (the statistics of each batch of samples, as the reference's own sample grids)."""

    conditional = False
    num_classes = None

    def __init__(self, generator: nn.Module, train_mode: bool = False) -> None:
        super().__init__()
        self.generator, self.train_mode = generator, train_mode

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    @torch.no_grad()
    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        was = self.generator.training
        self.generator.train(self.train_mode)
        state = [
            (m, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
            for m in self.generator.modules()
            if isinstance(m, nn.BatchNorm2d)
        ]
        try:
            return self.generator(torch.randn(n, LATENT, generator=generator)).clamp(-1, 1)
        finally:
            for module, mean, var, count in state:  # sampling in train mode must not move the statistics
                module.running_mean.copy_(mean)
                module.running_var.copy_(var)
                module.num_batches_tracked.copy_(count)
            self.generator.train(was)


def run_reference(batches: int, seed: int, num_samples: int, data_dir: str) -> dict[str, Any]:
    """Train the reference for ``batches`` batches (timed), then score it in eval and in train mode."""
    reference = Reference(seed, data_dir)
    start = time.perf_counter()
    for _ in range(batches):
        reference.step()
    seconds = time.perf_counter() - start
    print(f"reference: {batches} batches of {BATCH} in {seconds:.0f} s", flush=True)
    result = {"batches": batches, "batch_size": BATCH, "train_seconds": seconds}
    for mode in ("eval", "train"):
        result[f"scores_{mode}_mode"] = score(reference.sampler(mode == "train"), num_samples, seed=seed)
        print(f"  {mode}-mode samples: {fmt(result[f'scores_{mode}_mode'])}", flush=True)
    result["fid"] = min(result["scores_eval_mode"]["fid"], result["scores_train_mode"]["fid"])
    return result


# ---------------------------------------------------------------------------------------- gan_zoo
class Snapshots(pl.Callback):
    """Copies the model's weights after given batch counts and/or wall-clock times of training, stops
    after ``stop_batches`` batches, and times the training from its first batch.

    Args:
        at_batches: batch counts (1-based) after which to copy the weights.
        at_seconds: seconds of training (from the start of the first batch) after which to copy them.
        stop_batches: end training after this many batches (``None``: no limit).
        stop_seconds: end training after this many seconds of it (``None``: no limit).
    """

    def __init__(
        self,
        at_batches: list[int] = (),
        at_seconds: list[float] = (),
        stop_batches: int | None = None,
        stop_seconds: float | None = None,
    ) -> None:
        self.at_batches, self.at_seconds = sorted(at_batches), sorted(at_seconds)
        self.stop_batches, self.stop_seconds = stop_batches, stop_seconds
        self.taken: list[dict[str, Any]] = []
        self.batches = 0
        self.start: float | None = None
        self.seconds = self.cpu_seconds = self.cpu_start = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.start is None:
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches += 1
        self.seconds = time.perf_counter() - self.start
        self.cpu_seconds = time.process_time() - self.cpu_start
        due = self.batches in self.at_batches
        while self.at_seconds and self.seconds >= self.at_seconds[0]:
            self.at_seconds.pop(0)
            due = True
        if due:
            state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
            self.taken.append(
                {"batches": self.batches, "seconds": self.seconds, "cpu_seconds": self.cpu_seconds}
                | {"load_average_1min": os.getloadavg()[0], "state": state}
            )
        if (self.stop_batches is not None and self.batches >= self.stop_batches) or (
            self.stop_seconds is not None and self.seconds >= self.stop_seconds
        ):
            trainer.should_stop = True


def fit_zoo(config: Path, overrides: list[str], callbacks: list[pl.Callback], root: Path) -> Any:
    """``gan-zoo fit --config config overrides`` with ``callbacks`` added, in a fresh directory under
    ``root`` (no logger, no progress bar); returns the LightningCLI object after training."""
    args = ["--config", str(config), *overrides, "--trainer.enable_progress_bar=false"]
    args += ["--trainer.logger=false", "--sample_grid.every_n_epochs=1000"]
    root.mkdir(parents=True, exist_ok=True)
    here = Path.cwd()
    os.chdir(tempfile.mkdtemp(prefix="zoo-", dir=root))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", ".*args parameter is intended to run from within Python.*")
            cli = build_cli(args, run=False)
        cli.trainer.callbacks.extend(callbacks)
        cli.trainer.fit_loop.max_epochs = 10_000  # the callbacks stop the run
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        return cli
    finally:
        os.chdir(here)


def run_zoo(
    config: Path,
    overrides: list[str],
    *,
    at_batches: list[int] = (),
    at_seconds: list[float] = (),
    max_seconds: float | None = None,
    num_samples: int,
    seed: int,
    root: Path,
) -> dict[str, Any]:
    """Train gan_zoo's DCGAN from ``config`` and score each snapshot."""
    snapshots = Snapshots(at_batches, at_seconds, max(at_batches) if at_batches else None, max_seconds)
    cli = fit_zoo(config, overrides, [snapshots], root)
    final = {"batches": snapshots.batches, "seconds": snapshots.seconds, "cpu_seconds": snapshots.cpu_seconds}
    final |= {"load_average_1min": os.getloadavg()[0], "state": cli.model.state_dict()}
    if not snapshots.taken or snapshots.taken[-1]["batches"] != snapshots.batches:
        snapshots.taken.append(final)
    batch_size = cli.datamodule.batch_size
    print(f"zoo: {snapshots.batches} batches of {batch_size} in {snapshots.seconds:.0f} s", flush=True)
    model = copy.deepcopy(cli.model)
    rows = []
    for snap in snapshots.taken:
        model.load_state_dict(snap["state"])
        scores = score(model, num_samples, seed=seed)
        rows.append({key: value for key, value in snap.items() if key != "state"} | {"scores": scores})
        print(f"  after {snap['batches']} batches ({snap['seconds']:.0f} s): {fmt(scores)}", flush=True)
    return {
        "config": str(config.relative_to(REPO) if config.is_relative_to(REPO) else config),
        "overrides": overrides,
        "batch_size": batch_size,
        "snapshots": rows,
    }


# ---------------------------------------------------------------------------------------- speed
class BatchClock(pl.Callback):
    """Wall-clock and CPU seconds (this process, all its threads) of batches ``warmup`` … ``warmup +
    steps − 1``, end to end; stops training after them."""

    def __init__(self, warmup: int, steps: int) -> None:
        self.warmup, self.steps = warmup, steps
        self.start = (0.0, 0.0)
        self.seconds = self.cpu_seconds = math.nan

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == self.warmup - 1:
            self.start = (time.perf_counter(), time.process_time())
        elif batch_idx == self.warmup + self.steps - 1:
            self.seconds = time.perf_counter() - self.start[0]
            self.cpu_seconds = time.process_time() - self.start[1]
            trainer.should_stop = True


def time_reference(reference: Reference, warmup: int, steps: int) -> tuple[float, float]:
    """(wall, CPU) seconds of ``steps`` reference batches after ``warmup``."""
    for _ in range(warmup):
        reference.step()
    start = (time.perf_counter(), time.process_time())
    for _ in range(steps):
        reference.step()
    return time.perf_counter() - start[0], time.process_time() - start[1]


def measure_speed(
    config: Path, overrides: list[str], rounds: int, warmup: int, steps: int, root: Path, data_dir: str
) -> dict[str, Any]:
    """Batches per second of the reference and of the zoo's config, alternating, ``rounds`` times.

    Reported per wall-clock second and per CPU second of the process. On a busy machine the wall-clock
    rates depend on what else runs (a Python-heavy data pipeline suffers differently from a BLAS-heavy
    step), while CPU time per batch stays close to what the batch costs on a quiet machine: with
    ``--threads 1`` the CPU-time ratio of the two is the ratio to use for matching step counts. Each
    ratio is the median of the rounds' back-to-back ratios.
    """
    reference = Reference(0, data_dir)
    times: dict[str, dict[str, list[float]]] = {who: {"wall": [], "cpu": []} for who in ("reference", "zoo")}
    for r in range(rounds):
        for who in ("reference", "zoo") if r % 2 == 0 else ("zoo", "reference"):
            if who == "reference":
                wall, cpu = time_reference(reference, warmup, steps)
            else:
                clock = BatchClock(warmup, steps)
                fit_zoo(config, overrides, [clock], root)
                wall, cpu = clock.seconds, clock.cpu_seconds
            times[who]["wall"].append(steps / wall)
            times[who]["cpu"].append(steps / cpu)
        print(
            f"round {r}: batches per wall second: reference {times['reference']['wall'][-1]:.2f}, zoo "
            f"{times['zoo']['wall'][-1]:.2f}; per CPU second: reference {times['reference']['cpu'][-1]:.2f}, "
            f"zoo {times['zoo']['cpu'][-1]:.2f}",
            flush=True,
        )
    result: dict[str, Any] = {"config": str(config), "overrides": overrides, "rates": times}
    for clock in ("wall", "cpu"):
        ratios = [z / ref for z, ref in zip(times["zoo"][clock], times["reference"][clock], strict=True)]
        result[f"zoo_over_reference_{clock}"] = statistics.median(ratios)
        for who in ("reference", "zoo"):
            result[f"{who}_batches_per_{clock}_second"] = statistics.median(times[who][clock])
    return result


# ---------------------------------------------------------------------------------------- report
def fmt(scores: dict[str, float]) -> str:
    keys = ("fid", "kid_mean", "is_mean", "precision", "recall")
    return "  ".join(f"{k}={scores[k]:.4g}" for k in keys if k in scores)


def snapshot_table(result: dict[str, Any]) -> str:
    """The Markdown table of a ``compare`` result: the reference's row, then each snapshot of the zoo."""
    lines = [
        "| run | batches | train s (wall) | CPU s | load | FID ↓ | KID ↓ | IS ↑ | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ref = result["reference"]
    for mode in ("eval", "train"):
        s = ref[f"scores_{mode}_mode"]
        lines.append(
            f"| reference, {mode}-mode BN | {ref['batches']} | {ref['train_seconds']:.0f} | — | — | "
            f"{s['fid']:.3f} | {s['kid_mean']:.4f} | {s['is_mean']:.3f} | {s['precision']:.3f} | "
            f"{s['recall']:.3f} |"
        )
    for row in result["zoo"]["snapshots"]:
        s = row["scores"]
        lines.append(
            f"| gan_zoo | {row['batches']} | {row['seconds']:.0f} | {row.get('cpu_seconds', math.nan):.0f} | "
            f"{row.get('load_average_1min', math.nan):.1f} | {s['fid']:.3f} | {s['kid_mean']:.4f} | "
            f"{s['is_mean']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def first_match(rows: list[dict[str, Any]], target: float) -> dict[str, Any] | None:
    """The first snapshot whose FID is at most ``target``."""
    return next((row for row in rows if row["scores"]["fid"] <= target), None)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["compare", "reference", "zoo", "speed"])
    parser.add_argument("--config", type=Path, default=CONFIG, help="the zoo's experiment file")
    parser.add_argument("--override", action="append", default=[], help="e.g. --data.init_args.batch_size=64")
    parser.add_argument("--reference-batches", type=int, default=938, help="938 = one epoch of batch 64")
    parser.add_argument("--batches", type=int, nargs="*", default=[], help="zoo: score after these batches")
    parser.add_argument(
        "--seconds", type=float, help="zoo: train for this long (default: the batches); compare: the zoo's "
        "training time (default: the reference's)",
    )  # fmt: skip
    parser.add_argument(
        "--reference-json", type=Path, help="compare: the stored result of `reference` instead of a re-run"
    )
    parser.add_argument("--snapshot-every", type=float, default=30.0, help="compare: score every N s")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=5, help="speed: alternating rounds")
    parser.add_argument("--steps", type=int, default=30, help="speed: timed batches per round")
    parser.add_argument("--threads", type=int, default=min(2, torch.get_num_threads()))
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    root = REPO / "runs" / "dcgan_reference"
    load = os.getloadavg()[0]
    result: dict[str, Any] = {"command": args.command, "threads": args.threads}
    if args.command == "speed":
        result |= measure_speed(args.config, args.override, args.rounds, 3, args.steps, root, args.data_dir)
        print(
            f"zoo / reference batches per second: {result['zoo_over_reference_wall']:.3f} (wall clock), "
            f"{result['zoo_over_reference_cpu']:.3f} (CPU time)"
        )
    if args.command == "compare" and args.reference_json is not None:  # a stored `reference` run
        result["reference"] = json.loads(args.reference_json.read_text())["results"][0]["reference"]
    elif args.command in ("reference", "compare"):
        result["reference"] = run_reference(
            args.reference_batches, args.seed, args.num_samples, args.data_dir
        )
    if args.command == "zoo":
        if not args.batches and args.seconds is None:
            raise SystemExit("zoo needs --batches N [N ...] or --seconds S")
        result["zoo"] = run_zoo(
            args.config,
            args.override,
            at_batches=args.batches,
            max_seconds=args.seconds,
            num_samples=args.num_samples,
            seed=args.seed,
            root=root,
        )
    if args.command == "compare":
        reference_seconds = result["reference"]["train_seconds"]
        budget = args.seconds or reference_seconds
        third_mark = reference_seconds / 3  # "match it in a third of its wall time"
        marks = [third_mark, *np.arange(args.snapshot_every, budget, args.snapshot_every).tolist()]
        result["zoo"] = run_zoo(
            args.config,
            args.override,
            at_seconds=[m for m in marks if m < budget],
            max_seconds=budget,
            num_samples=args.num_samples,
            seed=args.seed,
            root=root,
        )
        target = result["reference"]["fid"]
        rows = result["zoo"]["snapshots"]
        at_third = [row for row in rows if row["seconds"] <= third_mark * 1.02]  # the snapshot at it
        match = first_match(rows, target)
        result["summary"] = {
            "reference_seconds": reference_seconds,
            "reference_fid": target,
            "zoo_seconds": rows[-1]["seconds"],
            "zoo_fid_at_the_end": rows[-1]["scores"]["fid"],
            "zoo_fid_over_reference_fid": rows[-1]["scores"]["fid"] / target,
            "zoo_fid_at_a_third_of_reference_time": at_third[-1]["scores"]["fid"] if at_third else math.nan,
            "zoo_seconds_to_match": match["seconds"] if match else math.nan,
        }
        print("\n" + "\n".join(f"  {k}: {v:.4g}" for k, v in result["summary"].items()))
        print("\n" + snapshot_table(result))
    path = args.json or root / f"{args.command}.json"
    write_report(path, [result], load, command=" ".join(sys.argv))
    return result


if __name__ == "__main__":
    main()
