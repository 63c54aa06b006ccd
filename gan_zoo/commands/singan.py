"""``gan-zoo singan``: a trained SinGAN's applications from the command line (Shaham et al. 2019, §3–4).

    gan-zoo singan sample --ckpt_path CKPT --out samples/ -n 8 [--size H W] [--start_scale K]
    gan-zoo singan harmonize --ckpt_path CKPT --image composite.png --mask mask.png --scale K --out out.png
    gan-zoo singan edit --ckpt_path CKPT --image edited.png --mask mask.png --scale K --out out.png
    gan-zoo singan paint --ckpt_path CKPT --image painting.png --scale K --out out.png
    gan-zoo singan super-resolve --ckpt_path CKPT [--image small.png] --factor 4 --out big.png

Images are read in any format Pillow knows and written as PNG; an existing file is never overwritten.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import save_image

from gan_zoo.commands.options import add_ckpt_path
from gan_zoo.data import load_image, normalize
from gan_zoo.models import SinGAN


def _image(model: SinGAN, path: str) -> Tensor:
    """An image file as ``[1, C, H, W]`` in [-1, 1] with the model's channels."""
    return normalize(load_image(path, model.image_shape[0]))[None].to(model.device)


def _mask(model: SinGAN, path: str) -> Tensor:
    """A mask file as ``[1, 1, H, W]`` in [0, 1] (white: the region to generate)."""
    return (load_image(path, 1).float() / 255.0)[None].to(model.device)


def _write(images: Tensor, paths: list[Path]) -> None:
    for image, path in zip(images, paths, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        save_image(image.cpu(), path, normalize=True, value_range=(-1.0, 1.0))
        print(path)


def _fresh(paths: list[Path]) -> list[Path]:
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise SystemExit(f"error: will not overwrite {', '.join(existing)}; choose another --out")
    return paths


def _sample(model: SinGAN, args: argparse.Namespace, generator: torch.Generator) -> None:
    paths = _fresh([Path(args.out) / f"sample_{i:03d}.png" for i in range(args.n)])
    size = tuple(args.size) if args.size else None
    images = model.sample(args.n, generator=generator, size=size, start_scale=args.start_scale)
    _write(images, paths)


def _inject(method: str) -> Callable[[SinGAN, argparse.Namespace, torch.Generator], None]:
    def run(model: SinGAN, args: argparse.Namespace, generator: torch.Generator) -> None:
        paths = _fresh([Path(args.out)] if args.n == 1 else [_numbered(args.out, i) for i in range(args.n)])
        image = _image(model, args.image)
        masked = {"mask": _mask(model, args.mask)} if method in ("harmonize", "edit") else {}
        _write(
            getattr(model, method)(image, scale=args.scale, n=args.n, generator=generator, **masked), paths
        )

    return run


def _numbered(out: str, i: int) -> Path:
    path = Path(out)
    return path.with_name(f"{path.stem}_{i:03d}{path.suffix or '.png'}")


def _super_resolve(model: SinGAN, args: argparse.Namespace, generator: torch.Generator) -> None:
    paths = _fresh([Path(args.out)])
    image = _image(model, args.image) if args.image else None
    _write(model.super_resolve(image, args.factor, generator=generator), paths)


def build_parser() -> argparse.ArgumentParser:
    description = (
        "A trained SinGAN's applications (Shaham et al. 2019): random samples, harmonization, editing, "
        "paint-to-image and super-resolution."
    )
    parser = argparse.ArgumentParser(prog="gan-zoo singan", description=description)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_: str, run: Callable) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        where = "a SinGAN checkpoint (runs/singan-singleimage/version_N/checkpoints/last.ckpt)"
        add_ckpt_path(sub, help=where, required=False, aliases=("--checkpoint",))
        sub.add_argument("checkpoint", nargs="?", help=f"{where}, the same as --ckpt_path")
        sub.add_argument("--seed", type=int, default=0, help="seed of the noise maps (default 0)")
        sub.add_argument("--device", default="cpu", help="torch device (default cpu)")
        sub.set_defaults(run=run)
        return sub

    sample = command("sample", "random samples, of any size and aspect ratio", _sample)
    sample.add_argument("--out", required=True, help="directory for sample_NNN.png")
    sample.add_argument("-n", type=int, default=8, help="how many samples (default 8)")
    sample.add_argument(
        "--size", type=int, nargs=2, metavar=("H", "W"), help="output size (default: the image's)"
    )
    sample.add_argument(
        "--start_scale", "--start-scale", type=int, default=0, help="keep the image's scales below this one"
    )

    for name, help_ in (
        ("harmonize", "blend a pasted object (white in --mask) into the image's look"),
        ("edit", "blend an edited region (white in --mask) in seamlessly"),
        ("paint", "turn a clipart painting into an image in the training image's style"),
    ):
        sub = command(name, help_, _inject("paint_to_image" if name == "paint" else name))
        sub.add_argument("--image", required=True, help="the composite / edited image / painting")
        if name != "paint":
            sub.add_argument("--mask", required=True, help="the region to generate, white on black")
        sub.add_argument("--scale", type=int, required=True, help="the scale to inject at (1 … finest)")
        sub.add_argument("--out", required=True, help="the PNG to write (numbered when -n > 1)")
        sub.add_argument("-n", type=int, default=1, help="how many results (default 1)")

    sr = command("super-resolve", "enlarge an image with the finest generator", _super_resolve)
    sr.add_argument("--image", help="the image to enlarge (default: the training image)")
    sr.add_argument("--factor", type=float, default=4.0, help="enlargement factor (default 4)")
    sr.add_argument("--out", required=True, help="the PNG to write")
    return parser


def main(argv: list[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.checkpoint = args.ckpt or args.checkpoint
    if args.checkpoint is None:
        parser.error(
            "name the checkpoint: --ckpt_path runs/singan-singleimage/version_N/checkpoints/last.ckpt"
        )
    if not Path(args.checkpoint).is_file():
        raise SystemExit(f"error: no checkpoint at {args.checkpoint}")
    model = SinGAN.load_from_checkpoint(args.checkpoint, map_location=args.device)
    generator = torch.Generator(device=args.device).manual_seed(args.seed)
    try:
        args.run(model, args, generator)
    except ValueError as error:  # a scale or size the model cannot use: say so without a traceback
        raise SystemExit(f"error: {error}") from None
