"""The zoo's scoreboard: every registered model trained on real Fashion-MNIST for the same wall-clock
budget, scored by one evaluator, in one table with sample grids.

    python benchmarks/scoreboard.py                             # every model, about an hour on 2 cores
    python benchmarks/scoreboard.py --lock /work/notes/cpu.lock # one model at a time under a shared lock
    python benchmarks/scoreboard.py --budget 600                # 10 minutes of training per model
    python benchmarks/scoreboard.py --models DCGAN WGANGP       # some models only

**What is trained.** Every model of ``gan_zoo.models.MODELS`` (a new model appears by itself), from its
experiment file (``experiments/<model>/fashion_mnist.yaml``, else the file named in :data:`SETUPS`,
else the model's paper defaults), on Fashion-MNIST at 32×32 read from Debian's
``dataset-fashion-mnist`` (conditional models get the labels; the semi-supervised GAN 10 labels per
class; the text-to-image GAN the captioned variant ``FashionMNISTCaptions``). Only widths, the image size
and the batch size are changed, never a loss or a schedule, and every change is written in the row
(``overrides``). Each model trains for ``--budget`` seconds of wall-clock time, counted from its first
batch, in its own process.

**How it is scored** (``benchmarks/fashion_scores.py``): FID, KID, Inception Score and improved
precision/recall (Kynkäänniemi et al. 2019, k = 3) of ``--num-samples`` (10 000) samples against the
10 000 test images, in the features of the ``fashion_mnist`` classifier that ships with gan_zoo. A low
recall flags mode collapse; a run stopped by the divergence guard keeps its row, with the guard's message.
The semi-supervised GAN also reports its classifier's test errors (its paper's number). SinGAN learns one
photo, not a dataset: it is trained on scikit-image's rocket (``experiments/singan/rocket_cpu.yaml``) and
reported separately, with the paper's diversity measure and its reconstruction error.

**Outputs**, in ``--out`` (``docs/scoreboard``): ``models/<name>.json`` and ``grids/<name>.png`` per
model, the merged config each model trained with (``configs/<name>.yaml``: ``gan-zoo fit --config`` runs
it), ``reference.json`` (real training images scored as samples: the evaluator's best case), and
``scoreboard.json``, ``scoreboard.md`` and ``montage.png`` for all; ``--doc``
(``docs/scoreboard.md``) is the page that shows them. A model whose ``models/<name>.json`` exists with
the same settings is not trained again: an interrupted run resumes where it stopped. Checkpoints and
logs go to ``--work-dir`` (``runs/scoreboard``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"

#: Recall below this is reported as mode collapse.
COLLAPSED_RECALL = 0.1
#: Seconds of training per model: 13 models and their evaluation take about an hour on 2 quiet cores.
BUDGET = 240.0
#: The hand-written page on what the rows that are not "ok" show (a section per model).
FINDINGS = REPO / "docs" / "scoreboard_findings.md"
#: How dates are written in the rows and on the page.
DATE = "%Y-%m-%d %H:%M UTC"
#: Seconds a model's evaluation and start-up are expected to take, for the ETA before any model ran.
OVERHEAD_GUESS = 75.0


# ---------------------------------------------------------------------------------------------- setups
@dataclass
class Setup:
    """How one model is trained for the scoreboard.

    Attributes:
        config: experiment file (relative to ``experiments/``) to start from; ``None``: the model's
            paper defaults (its class and nothing else).
        model: ``model.init_args`` overrides (widths only).
        data: ``data.init_args`` overrides (image size, batch size).
        data_class: the data module (class path) when the experiment file trains on other data.
        kind: ``"dataset"`` (scored against Fashion-MNIST) or ``"single_image"`` (SinGAN).
        note: what a reader should know about this row.
        paper: the paper's headline number, its dataset and metric, and where it is (cited).
    """

    config: str | None = None
    model: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    data_class: str = "gan_zoo.data.FashionMNIST"
    kind: str = "dataset"
    note: str = ""
    paper: str = ""


FASHION = "gan_zoo.data.FashionMNIST"
#: Per-model setups; a registered model missing here gets ``Setup()`` (its experiments/<name>/
#: fashion_mnist.yaml if there is one, else its paper defaults, on Fashion-MNIST at 32×32).
SETUPS: dict[str, Setup] = {
    "GAN": Setup(
        "gan/mnist.yaml",
        note="MNIST's MLP setup (Fashion-MNIST has the same format)",
        paper="Goodfellow et al. 2014, Table 1: MNIST Parzen-window log-likelihood 225 ± 2",
    ),
    "CGAN": Setup(
        "cgan/mnist.yaml",
        note="MNIST's MLP setup; one-hot labels",
        paper="Mirza & Osindero 2014, Table 1: MNIST Parzen-window log-likelihood 132 ± 1.8",
    ),
    "DCGAN": Setup(
        "dcgan/fashion_mnist.yaml",
        note="the project's Fashion-MNIST experiment: half the paper's width and batch 64 instead of 128 "
        "(docs/dcgan_reference.md)",
        paper="Radford et al. 2016, Table 1: CIFAR-10 accuracy 82.8 % of an L2-SVM on D's features "
        "(no FID or IS)",
    ),
    "LSGAN": Setup(
        "lsgan/cifar10.yaml",
        model={"g_width": 32, "d_width": 32},
        note="the paper's Figure 3 networks, half width",
        paper="Mao et al. 2017: LSUN scenes judged by eye (no FID or IS)",
    ),
    "ACGAN": Setup(
        "acgan/fashion_mnist.yaml",
        model={"g_width": 32, "d_width": 8},
        note="the Appendix's CIFAR-10 networks at a third of G's width and half of D's (at full width it "
        "made 115 updates in two minutes)",
        paper="Odena et al. 2017, Table 1: CIFAR-10 Inception Score 8.25 ± 0.07",
    ),
    "WGAN": Setup(
        "wgan/fashion_mnist.yaml",
        model={"g_width": 32, "d_width": 32},
        note="the DCGAN networks at the width of the zoo's DCGAN Fashion-MNIST experiment (half the paper's)",
        paper="Arjovsky et al. 2017: LSUN bedroom samples and loss curves (no FID or IS)",
    ),
    "WGANGP": Setup(
        "wgan_gp/fashion_mnist.yaml",
        model={"g_width": 32, "d_width": 32},
        note="the DCGAN networks at the width of the zoo's DCGAN Fashion-MNIST experiment (half the paper's)",
        paper="Gulrajani et al. 2017, Table 3: CIFAR-10 Inception Score 7.86 ± 0.07 (unsupervised)",
    ),
    "SemiSupervisedGAN": Setup(
        "semi_supervised/fashion_mnist.yaml",
        note="10 labels per class; its classifier's test errors in the errors column",
        paper="Salimans et al. 2016, Table 1: MNIST with 100 labels, 93 ± 6.5 test errors of 10 000",
    ),
    "SAGAN": Setup(
        "sagan/cifar10.yaml",
        model={"g_width": 16, "d_width": 16},
        data={"batch_size": 64},
        note="class-conditional; a quarter of the width and batch 64 instead of 256 (at half width and "
        "batch 256 it made 17 updates in two minutes)",
        paper="Zhang et al. 2019, Table 2: ImageNet 128×128 FID 18.65, Inception Score 52.52",
    ),
    "BigGAN": Setup(
        "biggan/cifar10.yaml",
        model={"g_width": 16, "d_width": 16},
        note="class-conditional; a quarter of the width; the EMA starts after 1 000 G steps "
        "(launch_cifar_ema.sh), which the budget may not reach",
        paper="Brock et al. 2019, abstract: ImageNet 128×128 FID 7.4, Inception Score 166.5 (truncated)",
    ),
    "ProGAN": Setup(
        "progan/cifar10.yaml",
        model={"fmap_base": 1024, "fmap_max": 128},
        note="1/4–1/8 of the widths; the paper's 800k images per phase keep it at low resolution in budget",
        paper="Karras et al. 2018, Table 3: CIFAR-10 Inception Score 8.80 ± 0.05 (unsupervised)",
    ),
    "TextToImageGAN": Setup(
        "text2image/fashion_mnist.yaml",
        model={"g_width": 32, "d_width": 32, "text_encoder_options": {"embedding_dim": 128, "width": 128}},
        data={"image_size": 32},
        data_class="gan_zoo.data.FashionMNISTCaptions",
        note="captioned Fashion-MNIST; sampled for the captions of random test images",
        paper="Reed et al. 2016: CUB, Oxford-102, MS-COCO judged by eye (no FID or IS)",
    ),
    "SinGAN": Setup(
        "singan/rocket.yaml",
        data={"max_size": 53},
        kind="single_image",
        data_class="gan_zoo.data.SingleImage",
        note="scikit-image's rocket at 35×53 (3 scales) instead of 250 px; the paper's 2000 iterations per "
        "scale, so the budget may end before the finest scale (the row says how many were trained)",
        paper="Shaham et al. 2019, Table 2: SIFID 0.09 of random samples from scale N (50 Places images)",
    ),
}


def setup_of(name: str) -> Setup:
    """The row's setup: from :data:`SETUPS`, or found for a model that is not listed."""
    if name in SETUPS:
        return SETUPS[name]
    default = Path(name.lower()) / "fashion_mnist.yaml"
    return Setup(str(default) if (EXPERIMENTS / default).is_file() else None, note="not in SETUPS: defaults")


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    """What a stored row must have been run with to be reused."""
    return {
        "budget_seconds": args.budget,
        "max_batches": args.max_batches,
        "num_samples": args.num_samples,
        "seed": args.seed,
        "set": sorted(args.set),
    }


# ---------------------------------------------------------------------------------------------- configs
def extra_overrides(assignments: list[str], name: str) -> dict[str, Any]:
    """``--set NAME:dotted.key=value`` entries for ``name``, as ``{dotted key: parsed YAML value}``."""
    chosen: dict[str, Any] = {}
    for item in assignments:
        target, _, assignment = item.partition(":")
        if target != name:
            continue
        key, _, value = assignment.partition("=")
        if not key or not _:
            raise SystemExit(f"--set {item!r}: expected NAME:dotted.key=value")
        chosen[key] = yaml.safe_load(value)
    return chosen


def set_dotted(config: dict[str, Any], key: str, value: Any) -> Any:
    """Set ``config[a][b][c] = value`` for ``key = "a.b.c"``; returns the old value (``None`` if absent)."""
    *path, last = key.split(".")
    node = config
    for part in path:
        node = node.setdefault(part, {})
    old = node.get(last)
    node[last] = value
    return old


def build_config(name: str, setup: Setup, extra: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The merged experiment config of a row and the list of what differs from its source."""
    model_class = f"gan_zoo.models.{name}"
    config: dict[str, Any] = {}
    source = "the paper defaults of " + name
    if setup.config:
        config = yaml.safe_load((EXPERIMENTS / setup.config).read_text())
        source = f"experiments/{setup.config}"
    config.setdefault("seed_everything", 0)
    config.setdefault("model", {"class_path": model_class})
    changes: list[str] = []
    model_args = config["model"].setdefault("init_args", {})
    data = config.setdefault("data", {})
    if data.get("class_path") != setup.data_class:
        if data.get("class_path"):
            changes.append(
                f"data: {data['class_path'].rsplit('.', 1)[-1]} → {setup.data_class.rsplit('.', 1)[-1]}"
            )
        kept = {
            k: v for k, v in (data.get("init_args") or {}).items() if k in ("batch_size", "labels_per_class")
        }
        data.clear()
        data.update({"class_path": setup.data_class, "init_args": kept})
    data_args = data.setdefault("init_args", {})
    if setup.kind == "dataset":
        data_args["download"] = False  # Debian's package, or the files in data/: never a download
        wanted = {"image_size": 32, **setup.data}
    else:
        wanted = dict(setup.data)
    overrides = {**{f"model.init_args.{k}": v for k, v in setup.model.items()}}
    overrides |= {f"data.init_args.{k}": v for k, v in wanted.items()}
    overrides |= extra
    for key, value in overrides.items():
        old = set_dotted(config, key, value)
        if old != value:
            changes.append(
                f"{key.replace('.init_args', '')}: {old if old is not None else 'default'} → {value}"
            )
    del model_args  # (set through the dotted keys)
    trainer = config.setdefault("trainer", {})
    for key in ("max_epochs", "max_steps", "max_time", "log_every_n_steps"):
        trainer.pop(key, None)
    trainer.update({"accelerator": "cpu", "devices": 1, "max_epochs": -1})
    trainer.update({"enable_progress_bar": False, "enable_model_summary": False})
    trainer["logger"] = False
    config["sample_grid"] = {"every_n_epochs": 1_000_000}
    return config, [f"source: {source}", *changes]


# ---------------------------------------------------------------------------------------------- worker
class Budget:
    """Stops training after ``seconds`` of it (from the first batch) or ``max_batches`` batches, counts
    the images, and prints progress every ``every`` seconds."""

    def __init__(self, name: str, seconds: float, max_batches: int | None, every: float = 30.0) -> None:
        import pytorch_lightning as pl  # noqa: F401  (the worker imports Lightning lazily)

        self.name, self.seconds, self.max_batches, self.every = name, seconds, max_batches, every
        self.start: float | None = None
        self.elapsed = 0.0
        self.batches = self.images = 0
        self.next_report = every

    def callback(self) -> Any:
        from gan_zoo.lightning_compat import Callback

        budget = self

        class _BudgetCallback(Callback):
            def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
                if budget.start is None:
                    budget.start = time.perf_counter()

            def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
                budget.tick(trainer, batch)

        return _BudgetCallback()

    def tick(self, trainer: Any, batch: Any) -> None:
        import torch

        self.batches += 1
        first = batch if torch.is_tensor(batch) else batch[0]
        self.images += int(first.shape[0])
        self.elapsed = time.perf_counter() - self.start
        if self.elapsed >= self.next_report:
            self.next_report += self.every
            print(
                f"  {self.name}: {self.batches} batches, {self.elapsed:.0f}/{self.seconds:.0f} s", flush=True
            )
        if self.elapsed >= self.seconds or (
            self.max_batches is not None and self.batches >= self.max_batches
        ):
            trainer.should_stop = True


def train(name: str, config_path: Path, workdir: Path, budget: Budget) -> tuple[Any, str | None]:
    """Fit the row's config in ``workdir``; returns (the CLI object, the divergence message or None)."""
    import warnings

    from gan_zoo.callbacks import DivergenceError
    from gan_zoo.cli import build_cli

    # A model is trained here only when it has no finished result, so what an earlier, interrupted
    # attempt left (its saved config, checkpoints) is scratch: start clean.
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    with contextlib.chdir(workdir), warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*args parameter is intended to run from within Python.*")
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        cli = build_cli(["--config", str(config_path)], run=False)
        cli.trainer.callbacks.append(budget.callback())
        try:
            cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        except DivergenceError as error:
            return cli, str(error)
    return cli, None


class CaptionSampler:
    """``sample(n, generator=...)`` of a text-to-image model for the captions of random test images, so
    the generated set follows the test set's mix of classes and attributes."""

    conditional = False
    num_classes = None

    def __init__(self, model: Any, datamodule: Any) -> None:
        datamodule.setup("test")
        self.model, self.test_set = model, datamodule.test_set

    @property
    def device(self) -> Any:
        return self.model.device

    def sample(self, n: int, y: Any = None, *, generator: Any = None) -> Any:
        import torch

        index = torch.randint(len(self.test_set), (n,), generator=generator).tolist()
        captions = [self.test_set.captions(i)[0] for i in index]
        return self.model.sample(n, captions, generator=generator)


def sample_grid(model: Any, path: Path) -> list[int]:
    """The model's fixed-noise grid (one row per class for conditional models) as a PNG; its size."""
    import torch
    from torchvision.utils import make_grid, save_image

    with torch.no_grad():
        if getattr(model, "fixed_noise", None) is not None and model.fixed_noise.numel():
            labels = model.fixed_labels if getattr(model, "conditional", False) else None
            images = model.sample(z=model.fixed_noise, y=labels)
        else:
            images = model.sample(64, generator=torch.Generator().manual_seed(0))
    columns = getattr(model.hparams, "grid_columns", 8)
    grid = make_grid(images.cpu(), nrow=columns, normalize=True, value_range=(-1, 1), padding=2, pad_value=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, path)
    return list(grid.shape[1:])


def test_errors(cli: Any) -> int:
    """The semi-supervised GAN's misclassified test images (its paper's number)."""
    [metrics] = cli.trainer.test(cli.model, datamodule=cli.datamodule, verbose=False)
    cli.datamodule.setup("test")
    return round(float(metrics["test/error"]) * len(cli.datamodule.test_set))


def singan_scores(model: Any, datamodule: Any, samples: int = 100) -> dict[str, float]:
    """SinGAN's own measures: the paper's diversity (the std over ``samples`` random samples of each
    pixel, averaged over pixels and divided by the std of the training image's pixels, §3) and the RMSE
    of the reconstruction from {z*, 0, …} (the L_rec path) against the image, both in [-1, 1] units."""
    import torch

    datamodule.setup("fit")
    real = datamodule.train_set.images[:1].float() / 127.5 - 1  # [1, C, H, W]
    fakes = model.sample(samples, generator=torch.Generator().manual_seed(0))
    real = torch.nn.functional.interpolate(real, size=fakes.shape[-2:], mode="bilinear", antialias=True)
    diversity = fakes.std(0).mean() / real.std()
    rebuilt = model.reconstruct()
    rmse = (rebuilt - real.to(rebuilt.device)).pow(2).mean().sqrt()
    return {
        "diversity": float(diversity),
        "reconstruction_rmse": float(rmse),
        "scales_trained": int(model.scale) + 1,  # the last of them possibly in part:
        "iterations_of_the_last": int(model.scale_updates) // int(model.n_critic),
        "iterations_per_scale": int(model.iterations_per_scale),
        "scales": int(model.num_scales),
    }


def worker(args: argparse.Namespace) -> None:
    """Train and score one model; writes ``models/<name>.json`` and ``grids/<name>.png``."""
    import torch

    torch.set_num_threads(args.threads)
    name, out = args.worker, args.out
    setup = setup_of(name)
    config, overrides = build_config(name, setup, extra_overrides(args.set, name))
    config_path = out / "configs" / f"{name}.yaml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(
        f"# scoreboard config of {name}; {overrides[0]}\n" + yaml.safe_dump(config, sort_keys=False)
    )
    start = time.perf_counter()
    row: dict[str, Any] = {
        "model": name,
        "kind": setup.kind,
        "config": str(config_path.relative_to(out)),
        "overrides": overrides,
        "note": setup.note,
        "paper": setup.paper,
        "settings": settings_of(args),
    }
    budget = Budget(name, args.budget, args.max_batches)
    load = os.getloadavg()[0]
    cli, diverged = train(name, config_path.resolve(), args.work_dir / name, budget)
    row["load_average_1min"] = [load, os.getloadavg()[0]]  # at the start and the end of training
    model = cli.model.eval()
    row |= {
        "status": f"diverged: {diverged}" if diverged else "ok",
        "train_seconds": budget.elapsed,
        "batches": budget.batches,
        "images": budget.images,
        "images_per_second": budget.images / budget.elapsed if budget.elapsed else math.nan,
        "batch_size": cli.datamodule.batch_size,
        "updates": dict(model.updates),
    }
    from fashion_scores import score

    if setup.kind == "single_image":
        row["scores"] = singan_scores(model, cli.datamodule)
    else:
        sampler = CaptionSampler(model, cli.datamodule) if name == "TextToImageGAN" else model
        row["scores"] = score(sampler, args.num_samples, seed=args.seed)
        if row["scores"]["recall"] < COLLAPSED_RECALL and not diverged:
            row["status"] = f"collapsed: recall {row['scores']['recall']:.3f} < {COLLAPSED_RECALL}"
        if name == "SemiSupervisedGAN":
            row["scores"]["test_errors"] = test_errors(cli)
    row["grid"] = f"grids/{name}.png"
    row["grid_size"] = sample_grid(model, out / row["grid"])
    row["wall_seconds"] = time.perf_counter() - start
    row["finished"] = time.strftime(DATE, time.gmtime())
    path = out / "models" / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(row, indent=2) + "\n")


# ---------------------------------------------------------------------------------------------- table
def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def anchor(name: str) -> str:
    """The row's anchor: the heading ``### <name>`` of its section, as GitHub spells it (lower case)."""
    return name.lower()


def model_cell(row: dict[str, Any]) -> str:
    return f"[{row['model']}](#{anchor(row['model'])})"


def load_text(row: dict[str, Any]) -> str:
    load = row.get("load_average_1min")
    return f"{load[0]:.1f} → {load[1]:.1f}" if load else "—"


def scales_text(scores: dict[str, Any]) -> str:
    """SinGAN's progress: scales trained of all, and how far into the last one."""
    if "scales" not in scores:
        return "—"
    return (
        f"{scores['scales_trained']}/{scores['scales']} ({scores['iterations_of_the_last']}/"
        f"{scores['iterations_per_scale']} iterations of the last)"
    )


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any], root: str = "", findings: str = "") -> str:
    """The table of the dataset models, then SinGAN's, then one section per model (its anchor, what it
    trained, its grid); ``root`` is the path from the page to ``--out``, ``findings`` the link to the
    page that says what each row that is not "ok" shows (one ``### <model>`` section each)."""
    head = (
        f"Fashion-MNIST 32×32, {meta['budget_seconds']:.0f} s of training per model, scored on "
        f"{meta['num_samples']} samples against the 10 000 test images in the `fashion_mnist` classifier's "
        f"features; {meta['cpu']}, {meta['threads']} threads, {meta['date']}. Load: the 1-minute load "
        "average at the start and the end of each model's training (2 cores; above 2, other work shared "
        "them).\n"
    )
    lines = [
        head,
        "| model | status | train s | img/s | FID ↓ | KID ↓ | IS ↑ | precision | recall | errors | load "
        "| paper's headline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    if meta.get("reference"):
        s = meta["reference"]["scores"]
        lines.append(
            f"| real training images | reference | — | — | {fmt(s['fid'])} | {fmt(s['kid_mean'])} | "
            f"{fmt(s['is_mean'])} | {fmt(s['precision'], 2)} | {fmt(s['recall'], 2)} | — | — | "
            f"{meta['num_samples']} of the 60 000 training images scored as samples: the evaluator's "
            "best case |"
        )
    for row in (r for r in rows if r.get("kind") == "dataset"):
        s = row.get("scores", {})
        lines.append(
            f"| {model_cell(row)} | {row['status']} | {fmt(row.get('train_seconds'))} | "
            f"{fmt(row.get('images_per_second'))} | {fmt(s.get('fid'))} | {fmt(s.get('kid_mean'))} | "
            f"{fmt(s.get('is_mean'))} | {fmt(s.get('precision'), 2)} | {fmt(s.get('recall'), 2)} | "
            f"{fmt(s.get('test_errors'))} | {load_text(row)} | {row.get('paper', '')} |"
        )
    single = [r for r in rows if r.get("kind") == "single_image"]
    if single:
        lines += [
            "",
            "| single-image model | status | train s | scales trained | diversity | reconstruction RMSE "
            "| load | paper's headline |",
            "|---|---|---:|---:|---:|---:|---|---|",
        ]
        for row in single:
            s = row.get("scores", {})
            lines.append(
                f"| {model_cell(row)} | {row['status']} | {fmt(row.get('train_seconds'))} | "
                f"{scales_text(s)} | {fmt(s.get('diversity'))} | "
                f"{fmt(s.get('reconstruction_rmse'))} | {load_text(row)} | {row.get('paper', '')} |"
            )
    for row in rows:
        lines += ["", f"### {row['model']}", "", f"Status: {row['status']}."]
        if "batches" in row:
            lines.append(
                f"{row['batches']} batches of {row['batch_size']} in {fmt(row['train_seconds'])} s "
                f"(updates: {', '.join(f'{k} {v}' for k, v in row['updates'].items())})."
            )
        if row.get("overrides"):
            lines.append("Trained: " + "; ".join(row["overrides"]) + f" (`{row['config']}`).")
        if row.get("note"):
            lines.append(f"{row['note'][0].upper()}{row['note'][1:]}.")
        lines.append(f"Paper: {row.get('paper', '')}.")
        if findings and row["status"] != "ok" and "scores" in row:
            lines.append(f"What this row shows: [{findings}]({findings}#{anchor(row['model'])}).")
        if row.get("grid"):
            lines += ["", f"![{row['model']} samples]({root}{row['grid']})"]
    return "\n".join(lines) + "\n"


def montage(rows: list[dict[str, Any]], out: Path, cell: int = 256, columns: int = 4) -> list[int]:
    """All grids in one PNG, each scaled into a ``cell``-wide tile under its model's name; its size."""
    from PIL import Image, ImageDraw

    tiles = [(row["model"], out / row["grid"]) for row in rows if (out / row.get("grid", "-")).is_file()]
    label = 18
    rows_n = max(1, math.ceil(len(tiles) / columns))
    sheet = Image.new("RGB", (columns * cell, rows_n * (cell + label)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (name, path) in enumerate(tiles):
        with Image.open(path) as grid:
            grid = grid.convert("RGB")
            grid.thumbnail((cell, cell))
            x, y = (i % columns) * cell, (i // columns) * (cell + label)
            sheet.paste(grid, (x + (cell - grid.width) // 2, y + label))
        draw.text((x + 4, y + 3), name, fill="black")
    sheet.save(out / "montage.png")
    return [sheet.height, sheet.width]


def write_doc(doc: Path, out: Path, rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """``docs/scoreboard.md``: how the table was made, the montage, the table; returns the table."""
    relative = os.path.relpath(out, doc.parent)
    findings = os.path.relpath(FINDINGS, doc.parent)
    table = markdown(rows, meta, root=f"{relative}/", findings=findings)
    text = f"""# Scoreboard

Every model in the zoo, trained on real Fashion-MNIST for the same wall-clock budget on a CPU and scored
by one evaluator: `benchmarks/scoreboard.py` made this page (its docstring says exactly how). The
numbers compare the zoo's models with each other at a laptop's budget; the last column is what each
paper reports on its own data at GPU scale, for scale. FID / KID / IS are in the 128-d feature space of
the `fashion_mnist` domain classifier, not Inception's, so they compare with each other only.
Precision and recall (Kynkäänniemi et al. 2019, k = 3) show how much of the data the samples cover: a
low recall means the samples either crowd onto a few modes or lie off the data's manifold (blurred or
noisy images), and `benchmarks/sample_spread.py` tells the two apart. A row is never hidden: "collapsed"
marks a recall under {COLLAPSED_RECALL} (what each such row shows at this budget, model by model:
[{findings}]({findings})), "diverged" carries the divergence guard's message, "failed" the worker's last
error line, "not run yet" a model an interrupted run did not reach. The load column is the 1-minute
load average around each model's training: on 2 cores, anything above 2 means other work shared the CPU
and the model trained for fewer batches than it would on a quiet machine.

Link to a model's row as `docs/scoreboard.md#<model in lower case>` (e.g. `#dcgan`,
`#semisupervisedgan`); `docs/scoreboard/scoreboard.md` has the same anchors.

Command: `{meta["command"]}`

![sample grids of every model]({relative}/montage.png)

Per-model results: [`{relative}/models/`]({relative}/models/), all rows in
[`{relative}/scoreboard.json`]({relative}/scoreboard.json), the same table with a section per model in
[`{relative}/scoreboard.md`]({relative}/scoreboard.md).

{table}"""
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
    return table


# ---------------------------------------------------------------------------------------------- runner
def load_row(path: Path, settings: dict[str, Any]) -> dict[str, Any] | None:
    """A stored row if it was run with ``settings``."""
    if not path.is_file():
        return None
    row = json.loads(path.read_text())
    return row if row.get("settings") == settings else None


def run_worker(name: str, args: argparse.Namespace) -> tuple[int, str]:
    """The model's worker in its own process; (exit code, the last line of its errors)."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--out",
        str(args.out),
        "--work-dir",
        str(args.work_dir),
    ]
    command += [
        "--budget",
        str(args.budget),
        "--num-samples",
        str(args.num_samples),
        "--seed",
        str(args.seed),
    ]
    command += ["--threads", str(args.threads)] + [f"--set={item}" for item in args.set]
    if args.max_batches is not None:
        command += ["--max-batches", str(args.max_batches)]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = args.work_dir / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with cpu_lock(args.lock), log.open("w") as stream:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stream, text=True)
        for line in process.stdout:  # the worker's progress lines
            print(line, end="", flush=True)
        code = process.wait()
    errors = [line.strip() for line in log.read_text().splitlines() if line.strip()]
    return code, (errors[-1] if errors else "")


@contextlib.contextmanager
def cpu_lock(path: Path | None) -> Any:
    """Hold an exclusive ``flock`` on ``path`` (as ``flock(1)`` does) while one model trains and is
    scored, so timed runs of several people never overlap; ``None``: no lock."""
    if path is None:
        yield
        return
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for whoever holds it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def eta(done: list[float], remaining: int, budget: float) -> str:
    per_model = sum(done) / len(done) if done else budget + OVERHEAD_GUESS
    minutes = remaining * per_model / 60
    return f"ETA {minutes:.0f} min" if minutes >= 1 else "ETA < 1 min"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.worker:
        try:
            worker(args)
        except Exception:
            traceback.print_exc()
            raise SystemExit(1) from None
        return {}
    from report import cpu_name

    from gan_zoo.models import MODELS

    names = args.models or sorted(MODELS.names())
    unknown = sorted(set(names) - set(MODELS.names()))
    if unknown:
        raise SystemExit(f"unknown models {unknown}; registered: {', '.join(sorted(MODELS.names()))}")
    settings = settings_of(args)
    rows: list[dict[str, Any]] = []
    durations: list[float] = []
    meta = {
        "cpu": cpu_name(),
        "threads": args.threads,
        "load_average_1min_at_start": started_load(args),
        "command": " ".join(  # the run's command (a --report-only rendering shows the run's)
            ["python benchmarks/scoreboard.py"]
            + [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--report-only"]
        ),
        **settings,
    }
    meta["reference"] = reference_scores(args)
    for i, name in enumerate(names):
        path = args.out / "models" / f"{name}.json"
        row = load_row(path, settings)
        if row is not None:
            print(f"[{i + 1}/{len(names)}] {name}: done before, kept ({path})", flush=True)
            rows.append(row)
            continue
        if args.report_only:
            rows.append(placeholder(name, "not run yet"))
            continue
        todo = sum(load_row(args.out / "models" / f"{n}.json", settings) is None for n in names[i:])
        print(
            f"[{i + 1}/{len(names)}] {name}: training for {args.budget:.0f} s; "
            f"{eta(durations, todo, args.budget)}",
            flush=True,
        )
        start = time.perf_counter()
        code, error = run_worker(name, args)
        durations.append(time.perf_counter() - start)
        row = load_row(path, settings)
        if code != 0 or row is None:  # not finished: reported, and tried again by the next run
            print(f"  {name} failed: {error} (log: {args.work_dir / f'{name}.log'})", flush=True)
            row = placeholder(name, f"failed: {error}")
        else:
            s = row["scores"]
            shown = {k: s[k] for k in ("fid", "precision", "recall", "diversity") if k in s}
            print(
                f"  {name}: {row['status']}, " + ", ".join(f"{k} {v:.3g}" for k, v in shown.items()),
                flush=True,
            )
        rows.append(row)
        # The outputs after every model: an interrupted run still leaves a table (the rest "not run").
        write_outputs(args, rows + [placeholder(n, "not run yet") for n in names[i + 1 :]], meta)
    table = write_outputs(args, rows, meta)
    print(table)
    print(
        f"wrote {args.out / 'scoreboard.json'}, {args.out / 'scoreboard.md'}, {args.out / 'montage.png'}, "
        f"{args.doc}"
    )
    return {"meta": meta, "rows": rows}


def started_load(args: argparse.Namespace) -> float:
    """The load when the run began: now, or the stored run's for a ``--report-only`` rendering."""
    stored = args.out / "scoreboard.json"
    if args.report_only and stored.is_file():
        return json.loads(stored.read_text())["meta"]["load_average_1min_at_start"]
    return os.getloadavg()[0]


def reference_scores(args: argparse.Namespace) -> dict[str, Any] | None:
    """The scores of real training images against the test split (``reference.json``, computed once per
    ``--num-samples`` and ``--seed``): what a generator that reproduced the data would get."""
    path = args.out / "reference.json"
    settings = {"num_samples": args.num_samples, "seed": args.seed}
    if path.is_file() and (stored := json.loads(path.read_text()))["settings"] == settings:
        return stored
    if args.report_only:
        return None
    import torch
    from fashion_scores import TrainingImages, score

    torch.set_num_threads(args.threads)
    print(f"scoring {args.num_samples} real training images as the reference row", flush=True)
    stored = {
        "settings": settings,
        "scores": score(TrainingImages(seed=args.seed), args.num_samples, seed=args.seed),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2) + "\n")
    return stored


def placeholder(name: str, status: str) -> dict[str, Any]:
    """The row of a model without results."""
    return {"model": name, "kind": setup_of(name).kind, "status": status, "paper": setup_of(name).paper}


def write_outputs(args: argparse.Namespace, rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """``scoreboard.json``, ``scoreboard.md``, ``montage.png`` and the page in docs/; returns the table."""
    finished = sorted(row["finished"] for row in rows if "finished" in row)  # when the rows were made
    meta["date"] = (
        f"models finished {finished[0]} to {finished[-1]}" if finished else time.strftime(DATE, time.gmtime())
    )
    table = markdown(rows, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scoreboard.md").write_text(f"# Scoreboard\n\n{table}")
    meta["montage_size"] = montage(rows, args.out)
    (args.out / "scoreboard.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    write_doc(args.doc, args.out, rows, meta)
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--budget", type=float, default=BUDGET, help=f"seconds of training per model ({BUDGET:.0f})"
    )
    parser.add_argument(
        "--lock", type=Path, help="take an exclusive flock on this file for each model (shared machines)"
    )
    parser.add_argument("--max-batches", type=int, help="also stop each model after this many batches")
    parser.add_argument("--num-samples", type=int, default=10_000, help="samples scored per model")
    parser.add_argument("--models", nargs="+", help="registered model names (default: all)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME:KEY=VALUE",
        help="one more override, e.g. DCGAN:model.init_args.g_width=8 (recorded in the row)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation's latents")
    parser.add_argument("--threads", type=int, default=2, help="torch threads per model")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "scoreboard")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "scoreboard.md")
    parser.add_argument("--work-dir", type=Path, default=REPO / "runs" / "scoreboard")
    parser.add_argument(
        "--report-only", action="store_true", help="train nothing: the outputs from the finished models"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out, args.work_dir, args.doc = args.out.resolve(), args.work_dir.resolve(), args.doc.resolve()
    if args.budget <= 0 or args.num_samples < 10:
        parser.error("--budget must be positive and --num-samples at least 10")
    return args


if __name__ == "__main__":
    main()
