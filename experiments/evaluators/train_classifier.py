"""Train the domain classifier of an MNIST-family dataset and record its accuracy on the real test split.

The shipped weights were made with (one thread, which also behaves best on a busy machine)::

    python experiments/evaluators/train_classifier.py \
        --data FashionMNIST --image-size 32 --epochs 3 --threads 1
    python experiments/evaluators/train_classifier.py \
        --data Digits --image-size 16 --epochs 30 --max-shift 1 --threads 1

Each writes ``<out>.pt`` (weights and settings) and ``<out>.json`` (the training record, with
``test_accuracy``) into ``gan_zoo/metrics/weights/`` unless ``--out`` says otherwise. A classifier written
elsewhere is used with ``--feature-extractor path/to/classifier.pt`` (MNIST, for instance:
``--data MNIST --data-dir data --download``). Existing files are kept unless ``--overwrite``.

Recipe: Adam (lr 2e-3, cosine decay to 0 over the run), batch 128, cross-entropy; optional random
translations of up to ``--max-shift`` pixels (zero padding) for the small Digits set.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.data import normalize
from gan_zoo.metrics.classifier import WEIGHTS_DIR, ClassifierFeatures, DomainClassifier
from gan_zoo.metrics.datasets import data_module_class, snake_case


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="data module: Digits, FashionMNIST, MNIST")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--download", action="store_true")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=16, help="channels of the first conv block")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-shift", type=int, default=0, help="random translation in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, help="weights file (default gan_zoo/metrics/weights/<data>.pt)")
    parser.add_argument("--overwrite", action="store_true")
    return parser.parse_args(argv)


def random_shift(x: Tensor, max_shift: int, generator: torch.Generator) -> Tensor:
    """Translate each image by up to ``max_shift`` pixels in x and y, filling with the background (-1)."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, [max_shift] * 4, value=-1.0)
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].expand(n, x.shape[1], h, padded.shape[-1])
    x = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].expand(n, x.shape[1], h, w)
    return x.gather(3, cols)


def train(args: argparse.Namespace) -> tuple[ClassifierFeatures, dict]:
    torch.manual_seed(args.seed)
    data = data_module_class(args.data)(
        data_dir=args.data_dir, image_size=args.image_size, batch_size=args.batch_size, download=args.download
    )
    data.prepare_data()
    data.setup()
    classifier = DomainClassifier(
        num_classes=data.num_classes, channels=data.image_shape[0], width=args.width
    )
    optimizer = torch.optim.Adam(classifier.parameters(), lr=args.lr)
    loader = data.train_dataloader()
    steps = args.epochs * len(loader)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / steps))
    )
    shifts = torch.Generator().manual_seed(args.seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    for epoch in range(args.epochs):
        classifier.train()
        total = 0.0
        for images, labels in loader:
            logits = classifier(random_shift(normalize(images), args.max_shift, shifts))
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {total / len(loader):.4f}", flush=True)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    name = snake_case(type(data).__name__)
    extractor = ClassifierFeatures(classifier, name, args.image_size, list(data.classes))
    test = data.test_set
    correct = sum(
        int((extractor.predict(test.images[i : i + 1000]) == test.labels[i : i + 1000]).sum())
        for i in range(0, len(test), 1000)
    )
    record = {
        "name": name,
        "dataset": type(data).__name__,
        "classes": list(data.classes),
        "image_size": args.image_size,
        "test_accuracy": correct / len(test),
        "test_images": len(test),
        "train_images": len(data.train_set),
        "parameters": sum(p.numel() for p in classifier.parameters()),
        "width": args.width,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_shift": args.max_shift,
        "seed": args.seed,
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu_seconds, 1),
        "threads": args.threads,
        "torch": torch.__version__,
        "command": "python experiments/evaluators/train_classifier.py " + " ".join(sys.argv[1:]),
    }
    extractor.record = record
    return extractor, record


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = args.out or WEIGHTS_DIR / f"{snake_case(data_module_class(args.data).__name__)}.pt"
    record_path = out.with_suffix(".json")
    existing = [p for p in (out, record_path) if p.exists()]
    if existing and not args.overwrite:
        raise SystemExit(f"{', '.join(map(str, existing))} exist; pass --overwrite to replace them")
    extractor, record = train(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    extractor.save(out)
    record_path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"test accuracy {record['test_accuracy']:.4f} on {record['test_images']} images; wrote {out}")


if __name__ == "__main__":
    main()
