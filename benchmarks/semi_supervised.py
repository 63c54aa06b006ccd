"""Semi-supervised GAN against the same classifier trained on the labels alone (Salimans et al. 2016, §5).

For each dataset and seed, with ``--labels-per-class`` labels per class (10, i.e. 100 labels, by default):

* ``SemiSupervisedGAN``: its discriminator (a K-class classifier) learns from the labelled batches and
  from the unlabelled images against a feature-matching generator;
* supervised only: the same network, initialization, optimizer and number of updates, trained on the
  same labelled batches with the supervised loss alone.

Both report the classification error on the dataset's test split (D in eval mode: no noise layers).
The seed picks the labelled examples (as the paper averages over random labelled subsets), the
initialization and the batch order. The paper's anchor is MNIST with 100 labels: 93 ± 6.5 test errors
of 10 000 after 300 epochs (Table 1).

    PYTHONPATH=$PWD python benchmarks/semi_supervised.py      # Fashion-MNIST (if installed) and Digits
    PYTHONPATH=$PWD python benchmarks/semi_supervised.py --datasets digits --epochs 40 --seeds 1 2 3
    PYTHONPATH=$PWD python benchmarks/semi_supervised.py --datasets mnist --epochs 300   # the paper's run

Prints a table and writes JSON (``--json``, an existing file is never replaced). Fashion-MNIST is read
from ``--data-dir`` or Debian's ``dataset-fashion-mnist`` package (``/usr/share/datasets/fashion-mnist``),
MNIST (``--datasets mnist``) from ``--data-dir``; a dataset that is absent is skipped. ``--threads``
(1 by default) sets torch's intra-op threads: on a busy machine one thread per process is much faster
than two that wait on each other (here, 0.29 s against 3.3 s per Fashion-MNIST step under a load of 6
on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from report import write_report

from gan_zoo.core.optimizers import build_optimizer
from gan_zoo.data import MNIST, DatasetNotFoundError, Digits, FashionMNIST, ImageDataModule, normalize
from gan_zoo.models import SemiSupervisedGAN
from gan_zoo.models.improved_gan import supervised_loss

#: name → (data module, epochs when --epochs is not given). The epochs are sized so that the default
#: datasets take about 20 minutes on one busy core: 2 400 updates on Fashion-MNIST (600 per epoch), 1 200
#: on Digits (15 per epoch). The paper trains 300 epochs.
DATASETS: dict[str, tuple[type[ImageDataModule], int]] = {
    "fashion_mnist": (FashionMNIST, 4),
    "digits": (Digits, 80),
    "mnist": (MNIST, 4),  # the paper's dataset; not installed here, so not a default
}


def make_data(name: str, labels_per_class: int, data_dir: str, seed: int) -> ImageDataModule:
    """The dataset at its native size, ``labels_per_class`` labels per class chosen with ``seed``;
    batches of 100 unlabelled + 100 labelled images, as the authors' code."""
    options = {"batch_size": 100, "labels_per_class": labels_per_class, "seed": seed}
    data = DATASETS[name][0](data_dir=data_dir, **options)
    data.setup()  # fit and test splits; raises DatasetNotFoundError when the files are missing
    return data


@torch.no_grad()
def test_errors(classifier: torch.nn.Module, data: ImageDataModule) -> int:
    """Number of misclassified test images (argmax of the K logits, classifier in eval mode)."""
    classifier.eval()
    images, labels = data.test_set.images, data.test_set.labels
    wrong = 0
    for start in range(0, len(labels), 1000):
        logits = classifier(normalize(images[start : start + 1000]))
        wrong += int((logits.argmax(1) != labels[start : start + 1000]).sum())
    return wrong


def semi_supervised(data: ImageDataModule, epochs: int, seed: int) -> torch.nn.Module:
    """SemiSupervisedGAN trained with Lightning for ``epochs`` epochs; returns its classifier, D."""
    pl.seed_everything(seed, verbose=False)
    model = SemiSupervisedGAN(image_shape=data.image_shape, num_classes=data.num_classes)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, datamodule=data)
    return model.discriminator


def supervised_only(data: ImageDataModule, epochs: int, seed: int) -> torch.nn.Module:
    """The same classifier (same seed, so the same initialization) trained for as many updates on the
    labelled half of the same kind of batches, with L_supervised alone."""
    pl.seed_everything(seed, verbose=False)
    model = SemiSupervisedGAN(image_shape=data.image_shape, num_classes=data.num_classes)
    classifier = model.discriminator.train()
    optimizer = build_optimizer(model.optimizer_factories["discriminator"], classifier.parameters())
    for _ in range(epochs):
        for images, labels in data.train_dataloader():
            labelled = labels >= 0
            loss = supervised_loss(classifier(normalize(images[labelled])), labels[labelled])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return classifier


#: method → trains on (data, epochs, seed) and returns the classifier.
TRAINERS: dict[str, Callable[[ImageDataModule, int, int], torch.nn.Module]] = {
    "semi-supervised GAN": semi_supervised,
    "supervised only": supervised_only,
}


def summary(rows: list[dict]) -> list[dict]:
    """Mean and (over more than one seed) standard deviation of the test errors per dataset and method."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["data"], row["method"]), []).append(row)
    out = []
    for (name, method), group in groups.items():
        errors = [row["test_errors"] for row in group]
        out.append(
            {
                "data": name,
                "method": method,
                "labels": group[0]["labels"],
                "seeds": len(group),
                "test_errors_mean": statistics.mean(errors),
                "test_errors_std": statistics.stdev(errors) if len(errors) > 1 else None,
                "test_images": group[0]["test_images"],
                "epochs": group[0]["epochs"],
                "updates": group[0]["updates"],
                "seconds": sum(row["seconds"] for row in group),
            }
        )
    return out


def table(summaries: list[dict]) -> str:
    """The summary as a Markdown table."""
    lines = [
        "| data | labels | method | seeds | test errors | test error | epochs | updates | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in summaries:
        mean = f"{s['test_errors_mean']:.0f}" if s["seeds"] == 1 else f"{s['test_errors_mean']:.1f}"
        spread = f" ± {s['test_errors_std']:.1f}" if s["test_errors_std"] is not None else ""
        percent = 100 * s["test_errors_mean"] / s["test_images"]
        lines.append(
            f"| {s['data']} | {s['labels']} | {s['method']} | {s['seeds']} "
            f"| {mean}{spread} / {s['test_images']} | {percent:.1f} % "
            f"| {s['epochs']} | {s['updates']} | {s['seconds']:.0f} s |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["fashion_mnist", "digits"], choices=DATASETS)
    parser.add_argument("--epochs", type=int, default=None, help="epochs for every dataset")
    parser.add_argument("--labels-per-class", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path("runs/semi_supervised.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    if args.json.exists():  # checked before training, not after
        raise SystemExit(f"{args.json} exists; pass another --json")
    torch.set_num_threads(args.threads)
    load = os.getloadavg()[0]
    rows = []
    for name in args.datasets:
        epochs = args.epochs or DATASETS[name][1]
        for seed in args.seeds:
            try:
                data = make_data(name, args.labels_per_class, args.data_dir, seed)
            except DatasetNotFoundError as error:
                print(f"skipping {name}: {error}")
                break
            updates, n_test = epochs * len(data.train_dataloader()), len(data.test_set)
            for method, train in TRAINERS.items():
                start = time.perf_counter()
                errors = test_errors(train(data, epochs, seed), data)
                seconds = time.perf_counter() - start
                rows.append(
                    {
                        "data": name,
                        "labels": args.labels_per_class * data.num_classes,
                        "seed": seed,
                        "method": method,
                        "epochs": epochs,
                        "updates": updates,
                        "test_errors": errors,
                        "test_images": n_test,
                        "seconds": seconds,
                    }
                )
                print(
                    f"{name} seed {seed} {method}: {errors} / {n_test} test errors, {seconds:.0f} s",
                    flush=True,
                )
    summaries = summary(rows)
    print()
    print(table(summaries))
    write_report(args.json, rows, load, threads=args.threads, summary=summaries)
    return summaries


if __name__ == "__main__":
    main()
