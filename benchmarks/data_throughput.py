"""Data throughput: gan_zoo's data modules against torchvision's dataset + ToTensor + Normalize.

    python benchmarks/data_throughput.py
    python benchmarks/data_throughput.py --workers 2 --json runs/data_throughput.json

Each row loads the same images both ways, with the same batch size (64), shuffling and workers, and
counts images per second until the batch is normalised floats in [-1, 1] (for gan_zoo that includes
``on_after_batch_transfer``, where the normalisation happens). Rounds alternate the two paths and
the table shows medians, so load on a shared machine hits both alike.

Datasets: Fashion-MNIST from ``/usr/share/datasets/fashion-mnist`` when installed (else random IDX
files of the same size), CIFAR-10 as random pickled batches in the official layout (10 000 images),
and a folder of 512 generated 96×96 JPEGs read at 64×64.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from unittest import mock

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import transforms

from gan_zoo.data import CIFAR10, FashionMNIST, ImageDataModule, ImageFolder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "data"))
from fixtures import write_cifar10, write_mnist_family  # the test suite's dataset writers
from image_fixtures import natural_image
from report import write_report

BATCH = 64
FASHION = Path("/usr/share/datasets/fashion-mnist")


class UncheckedCIFAR10(torchvision.datasets.CIFAR10):
    """torchvision's CIFAR-10 without the md5 checks, which the generated batches cannot pass."""

    def __init__(self, root: Path, transform: Callable) -> None:
        with mock.patch("torchvision.datasets.cifar.check_integrity", return_value=True):
            super().__init__(root, train=True, transform=transform)


def fashion_mnist(root: Path) -> str:
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    if FASHION.is_dir():
        for path in FASHION.glob("*.gz"):  # torchvision reads the extracted files
            with gzip.open(path) as source, open(raw / path.stem, "wb") as target:
                shutil.copyfileobj(source, target)
        return "real"
    write_mnist_family(raw, n_train=60_000, n_test=10, gz=False)
    return "random"


def image_folder(root: Path, n: int = 512) -> None:
    for i in range(n):
        folder = root / f"class_{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        natural_image(96, 96, seed=i).save(folder / f"{i}.jpg", quality=90)


def normalized(mean: float, channels: int) -> transforms.Compose:
    return transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize([mean] * channels, [mean] * channels)]
    )


def images_per_second(batches: Iterable, finish: Callable, limit: int) -> float:
    start, seen = time.perf_counter(), 0
    for i, batch in enumerate(batches):
        images, _ = finish(batch)
        seen += images.shape[0]
        if i + 1 == limit:
            break
    return seen / (time.perf_counter() - start)


def compare(module: ImageDataModule, reference, limit: int, rounds: int, workers: int) -> dict:
    module.setup("fit")
    ours = module.train_dataloader()
    theirs = DataLoader(reference, batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True)
    limit = min(limit, len(ours), len(theirs))
    paths = {
        "gan_zoo": lambda: images_per_second(ours, lambda b: module.on_after_batch_transfer(b, 0), limit),
        "torchvision": lambda: images_per_second(theirs, lambda b: b, limit),
    }
    for path in paths.values():  # first pass: page in the data, start workers, warm allocators
        path()
    runs: dict[str, list[float]] = {"gan_zoo": [], "torchvision": []}
    for r in range(rounds):
        for name in ("gan_zoo", "torchvision") if r % 2 == 0 else ("torchvision", "gan_zoo"):
            runs[name].append(paths[name]())
    medians = {name: statistics.median(values) for name, values in runs.items()}
    return medians | {"ratio": medians["gan_zoo"] / medians["torchvision"], "batches": limit, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--batches", type=int, default=40, help="batches timed per round")
    parser.add_argument("--rounds", type=int, default=3)
    # One thread, as in every DataLoader worker (torch sets it there); on oversubscribed cores a
    # two-thread OpenMP region also stalls on its barrier, which only the batched path pays.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path("runs/data_throughput.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    common = {"batch_size": BATCH, "num_workers": args.workers}
    load = os.getloadavg()[0]
    print(f"batch {BATCH}, {args.workers} workers, {args.threads} threads; load {load:.1f}")
    print(f"{'dataset':26} {'gan_zoo img/s':>13} {'torchvision img/s':>17} {'ratio':>7}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kind = fashion_mnist(root / "fashion")
        write_cifar10(root / "cifar", per_batch=2000)
        image_folder(root / "folder")
        cases = {
            f"Fashion-MNIST 28×28 ({kind})": (
                FashionMNIST(data_dir=root / "fashion", **common),
                torchvision.datasets.FashionMNIST(root / "fashion", transform=normalized(0.5, 1)),
            ),
            "CIFAR-10 32×32 (random)": (
                CIFAR10(data_dir=root / "cifar", **common),
                UncheckedCIFAR10(root / "cifar", transform=normalized(0.5, 3)),
            ),
            "ImageFolder JPEG 96→64": (
                ImageFolder(data_dir=root / "folder", image_size=64, **common),
                torchvision.datasets.ImageFolder(
                    root / "folder",
                    transform=transforms.Compose(
                        [transforms.Resize(64), transforms.CenterCrop(64), normalized(0.5, 3)]
                    ),
                ),
            ),
        }
        for name, (module, reference) in cases.items():
            row = compare(module, reference, args.batches, args.rounds, args.workers) | {"dataset": name}
            results.append(row)
            print(
                f"{name:26} {row['gan_zoo']:13.0f} {row['torchvision']:17.0f} {row['ratio']:6.1f}×",
                flush=True,
            )
    write_report(
        args.json,
        results,
        load,
        workers=args.workers,
        threads=args.threads,
        batch_size=BATCH,
        torchvision=torchvision.__version__,
    )


if __name__ == "__main__":
    main()
