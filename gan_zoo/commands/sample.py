"""``gan-zoo sample``: images from a checkpoint — a PNG grid, individual images, or latent walks.

    gan-zoo sample --ckpt_path runs/dcgan-digits/version_0/checkpoints/last.ckpt --num 64 --out grid.png
    gan-zoo sample --ckpt_path last.ckpt --num 16 --out samples/            # samples/grid.png + 0000.png …
    gan-zoo sample --ckpt_path last.ckpt --interpolate 10 --num 6 --out walk.png  # 6 walks of 10 steps
    gan-zoo sample --ckpt_path cgan.ckpt --class 7 --truncation 1.0 --seed 3

Any registered model is loaded from the checkpoint alone (its class is recorded in the file, read with
``torch.load(weights_only=True)``); the EMA generator is used when the model keeps one. Existing files
are never overwritten unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid, save_image

from gan_zoo.checkpoints import load_model
from gan_zoo.commands.options import add_ckpt_path
from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.latent_space import interpolate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-zoo sample",
        description="Images from a checkpoint: a PNG grid, individual images, or latent walks.",
        epilog=(
            "A path ending in .png receives the grid; any other path is a directory that receives "
            "grid.png (or interpolation.png) and one PNG per image. Conditional models without "
            "--class cycle through the classes, one class per column."
        ),
    )
    add_ckpt_path(parser, help="checkpoint written by gan-zoo fit or a Trainer")
    parser.add_argument(
        "--num", type=_positive, help="images (default 64), or walks with --interpolate (default 8)"
    )
    parser.add_argument(
        "--out", type=Path, help="a .png file or a directory (default: samples.png / interpolation.png)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the latents and labels (default 0)")
    parser.add_argument("--class", dest="label", type=int, help="class of every image (conditional models)")
    parser.add_argument("--truncation", type=float, help="draw z from a normal truncated at this threshold")
    parser.add_argument(
        "--interpolate", type=_at_least_two, metavar="STEPS", help="walk between two latents in STEPS steps"
    )
    parser.add_argument(
        "--spherical", action="store_true", help="walk on the great circle (slerp) instead of a line"
    )
    parser.add_argument("--nrow", type=_positive, help="images per grid row")
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:1, … (default: cuda when available)"
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    walking = args.interpolate is not None
    out = args.out or Path("interpolation.png" if walking else "samples.png")
    try:
        model = load_model(args.ckpt, map_location=_device(args.device))
        generator = torch.Generator().manual_seed(args.seed)
        if walking:
            images, nrow = latent_walks(
                model, args.num or 8, args.interpolate, args.label, args.truncation, args.spherical, generator
            )
        else:
            images, nrow = samples(model, args.num or 64, args.label, args.truncation, generator)
        written = write_images(images.cpu(), out, args.nrow or nrow, args.overwrite, walking)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        parser.exit(2, f"gan-zoo sample: error: {error}\n")
    print(f"wrote {written[0]}" + (f" and {len(written) - 1} images in {out}" if len(written) > 1 else ""))


def samples(
    model: AdversarialModule,
    num: int,
    label: int | None,
    truncation: float | None,
    generator: torch.Generator,
) -> tuple[Tensor, int]:
    """``num`` images ``[num, C, H, W]`` in [-1, 1] and the natural row length of their grid."""
    z = model.sample_latent(num, truncation=truncation, generator=generator)
    labels = _labels(model, num, label)
    nrow = model.num_classes if model.conditional and label is None else round(num**0.5)
    return model.sample(z=z, y=labels), max(nrow, 1)


def latent_walks(
    model: AdversarialModule,
    walks: int,
    steps: int,
    label: int | None,
    truncation: float | None,
    spherical: bool,
    generator: torch.Generator,
) -> tuple[Tensor, int]:
    """``walks`` rows of ``steps`` images, each row from one latent to another (DCGAN §6.1, Figure 4).

    A conditional model keeps each row's class fixed, so only the latent changes along the row.
    """
    start = model.sample_latent(walks, truncation=truncation, generator=generator)
    end = model.sample_latent(walks, truncation=truncation, generator=generator)
    z = interpolate(start, end, steps, spherical=spherical).transpose(0, 1).reshape(walks * steps, -1)
    row_labels = _labels(model, walks, label)
    labels = row_labels.repeat_interleave(steps) if row_labels is not None else None
    return model.sample(z=z, y=labels), steps


def _labels(model: AdversarialModule, n: int, label: int | None) -> Tensor | None:
    if not model.conditional:
        if label is not None:
            raise ValueError(f"{type(model).__name__} is unconditional; --class does not apply")
        return None
    if label is not None:
        if not 0 <= label < model.num_classes:
            raise ValueError(f"--class must lie in [0, {model.num_classes}), got {label}")
        return torch.full((n,), label, dtype=torch.long)
    return torch.arange(n) % model.num_classes


def write_images(images: Tensor, out: Path, nrow: int, overwrite: bool, walking: bool) -> list[Path]:
    """The grid (and, for a directory, one PNG per image); returns the paths, grid first.

    Raises:
        FileExistsError: a file to be written exists and ``overwrite`` is false. Nothing is written.
    """
    if out.suffix.lower() == ".png":
        targets = [out]
    else:
        grid_name = "interpolation.png" if walking else "grid.png"
        singles = [out / _image_name(i, nrow, walking) for i in range(images.shape[0])]
        targets = [out / grid_name, *singles]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (" …" if len(existing) > 3 else "")
        raise FileExistsError(
            f"{shown} already exist(s); pass --overwrite to replace, or choose another --out"
        )
    targets[0].parent.mkdir(parents=True, exist_ok=True)
    grid = make_grid(images, nrow=nrow, normalize=True, value_range=(-1, 1), pad_value=1.0)
    save_image(grid, targets[0])
    for image, path in zip(images, targets[1:], strict=False):
        save_image(image, path, normalize=True, value_range=(-1, 1))
    return targets


def _image_name(i: int, steps: int, walking: bool) -> str:
    return f"walk{i // steps:03d}_step{i % steps:03d}.png" if walking else f"{i:04d}.png"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _at_least_two(text: str) -> int:
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"a walk needs at least 2 steps, got {text}")
    return value
