"""``gan-zoo sample``: grids, single images and latent walks, checked pixel by pixel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import build_tiny, make_trainer
from PIL import Image
from torchvision.utils import make_grid

from gan_zoo import Digits, interpolate, load_model
from gan_zoo.cli import main

SIDE = 16 + 2  # image plus make_grid's padding


def read_image(path: str) -> torch.Tensor:
    """A PNG as uint8 ``[C, H, W]``."""
    array = np.asarray(Image.open(path))
    return torch.from_numpy(array.copy()).reshape(array.shape[0], array.shape[1], -1).permute(2, 0, 1)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """A DCGAN with an EMA generator, a conditional GAN and a BigGAN, each after a few updates."""
    root = tmp_path_factory.mktemp("ckpt")
    paths = {}
    models = {
        "DCGAN": build_tiny("DCGAN", ema_decay=0.5),
        "CGAN": build_tiny("CGAN"),
        "BigGAN": build_tiny("BigGAN"),
    }
    for name, model in models.items():
        trainer = make_trainer(root, limit_train_batches=3)
        trainer.fit(model, datamodule=Digits(image_size=16, batch_size=16))
        paths[name] = root / f"{name}.ckpt"
        trainer.save_checkpoint(paths[name])
    return paths


def pixels(images: torch.Tensor) -> torch.Tensor:
    """[N, C, H, W] in [-1, 1] → uint8 as ``save_image`` writes them."""
    return images.add(1).div(2).mul(255).add(0.5).clamp(0, 255).to(torch.uint8)


def cell(grid: torch.Tensor, row: int, column: int) -> torch.Tensor:
    top, left = 2 + row * SIDE, 2 + column * SIDE
    return grid[:1, top : top + 16, left : left + 16]  # gray images are written as 3 equal channels


def sample(*args: str) -> None:
    main(["sample", *args])


def test_grid_is_the_ema_generators_samples_for_the_seed(checkpoints, tmp_path):
    out = tmp_path / "grid.png"
    sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "6", "--seed", "3", "--out", str(out))
    grid = read_image(str(out))
    assert grid.shape == (3, 2 + 3 * SIDE, 2 + 2 * SIDE)  # 6 images, round(√6) = 2 per row

    model = load_model(checkpoints["DCGAN"])
    z = model.sample_latent(6, generator=torch.Generator().manual_seed(3))
    expected = pixels(model.sample(z=z))
    for i in range(6):
        assert torch.equal(cell(grid, i // 2, i % 2), expected[i])
    assert not torch.equal(pixels(model.generator.eval()(z)), expected), "the EMA generator differs from G"


def test_a_directory_gets_the_grid_and_every_image(checkpoints, tmp_path):
    sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "4", "--out", str(tmp_path / "out"))
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["0000.png", "0001.png", "0002.png", "0003.png", "grid.png"]
    model = load_model(checkpoints["DCGAN"])
    expected = pixels(model.sample(z=model.sample_latent(4, generator=torch.Generator().manual_seed(0))))
    assert torch.equal(read_image(str(tmp_path / "out" / "0002.png"))[:1], expected[2])


def test_interpolation_strips_walk_from_one_latent_to_another(checkpoints, tmp_path):
    out = tmp_path / "walk.png"
    sample("--ckpt_path", str(checkpoints["DCGAN"]), "--interpolate", "5", "--num", "2", "--out", str(out))
    grid = read_image(str(out))
    assert grid.shape == (3, 2 + 2 * SIDE, 2 + 5 * SIDE)  # 2 walks of 5 steps

    model = load_model(checkpoints["DCGAN"])
    seed = torch.Generator().manual_seed(0)
    start, end = model.sample_latent(2, generator=seed), model.sample_latent(2, generator=seed)
    path = interpolate(start, end, 5)  # [5, 2, d]
    for walk in range(2):
        for step in range(5):
            expected = pixels(model.sample(z=path[step, walk : walk + 1]))[0]
            assert torch.equal(cell(grid, walk, step), expected)
    assert not torch.equal(cell(grid, 0, 0), cell(grid, 0, 4))


def test_conditional_class_and_truncation(checkpoints, tmp_path, capsys):
    out = tmp_path / "sevens.png"
    args = [
        "--ckpt_path",
        str(checkpoints["CGAN"]),
        "--num",
        "4",
        "--class",
        "7",
        "--out",
        str(out),
        "--nrow",
        "4",
    ]
    sample(*args)
    model = load_model(checkpoints["CGAN"])
    z = model.sample_latent(4, generator=torch.Generator().manual_seed(0))
    expected = pixels(model.sample(z=z, y=7))
    assert torch.equal(read_image(str(out))[:1], make_grid(expected, nrow=4, pad_value=255)[:1])

    # CGAN's prior is uniform: the truncation trick needs a normal prior, reported as a usage error
    with pytest.raises(SystemExit) as exit_:
        sample(*args[:-4], "--truncation", "0.5", "--out", str(tmp_path / "t.png"))
    assert exit_.value.code == 2 and "needs a normal prior" in capsys.readouterr().err


def test_biggan_truncation_trick_from_the_command_line(checkpoints, tmp_path):
    """``--truncation ψ`` draws z from N(0, I) truncated at ψ (BigGAN §3.1) and samples the EMA generator."""
    out = tmp_path / "truncated.png"
    sample("--ckpt_path", str(checkpoints["BigGAN"]), "--num", "4", "--class", "2", "--truncation", "0.5",
           "--seed", "0", "--nrow", "4", "--out", str(out))  # fmt: skip
    model = load_model(checkpoints["BigGAN"])
    z = model.sample_latent(4, truncation=0.5, generator=torch.Generator().manual_seed(0))
    assert z.abs().max() <= 0.5
    expected = make_grid(pixels(model.sample(z=z, y=2)), nrow=4, pad_value=255)
    assert torch.equal(read_image(str(out)), expected)


def test_without_class_a_conditional_grid_has_one_class_per_column(checkpoints, tmp_path):
    out = tmp_path / "classes.png"
    sample("--ckpt_path", str(checkpoints["CGAN"]), "--num", "20", "--out", str(out))
    model = load_model(checkpoints["CGAN"])
    z = model.sample_latent(20, generator=torch.Generator().manual_seed(0))
    expected = pixels(model.sample(z=z, y=torch.arange(20) % 10))
    grid = read_image(str(out))
    assert grid.shape[-1] == 2 + 10 * SIDE
    assert torch.equal(cell(grid, 1, 3), expected[13])  # row 1, column 3: class 3


def test_existing_files_are_never_overwritten(checkpoints, tmp_path, capsys):
    out = tmp_path / "grid.png"
    sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "4", "--out", str(out))
    before = out.read_bytes()
    with pytest.raises(SystemExit) as exit_:
        sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "4", "--seed", "1", "--out", str(out))
    assert exit_.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == before
    sample(
        "--ckpt_path",
        str(checkpoints["DCGAN"]),
        "--num",
        "4",
        "--seed",
        "1",
        "--out",
        str(out),
        "--overwrite",
    )
    assert out.read_bytes() != before


def test_a_partial_directory_conflict_writes_nothing(checkpoints, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "0001.png").write_bytes(b"mine")
    with pytest.raises(SystemExit):
        sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "3", "--out", str(tmp_path / "out"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0001.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--class", "3"], "unconditional; --class does not apply"),
        (["--ckpt_path", "missing.ckpt"], "checkpoint missing.ckpt does not exist"),
        (["--interpolate", "1"], "at least 2 steps"),
    ],
)
def test_usage_errors(args, message, checkpoints, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        sample("--ckpt_path", str(checkpoints["DCGAN"]), *args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png"))


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_:
        sample("--help")
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: gan-zoo sample")
    for option in ("--ckpt_path", "--num", "--out", "--seed", "--class", "--truncation", "--interpolate"):
        assert option in text


@pytest.mark.parametrize("spelling", ["--ckpt", "--ckpt-path"])
def test_the_old_checkpoint_spellings_are_aliases(spelling, checkpoints, tmp_path):
    sample("--ckpt_path", str(checkpoints["DCGAN"]), "--num", "4", "--out", str(tmp_path / "new.png"))
    sample(spelling, str(checkpoints["DCGAN"]), "--num", "4", "--out", str(tmp_path / "old.png"))
    assert (tmp_path / "old.png").read_bytes() == (tmp_path / "new.png").read_bytes()
