"""``gan-zoo singan``: every application writes PNG files of the right size and never overwrites."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_trainer
from PIL import Image

from gan_zoo.cli import main
from gan_zoo.data import SingleImage
from gan_zoo.models import SinGAN


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A SinGAN on a 16×24 photo, both scales touched by one update each."""
    root = tmp_path_factory.mktemp("singan")
    data = SingleImage(image="rocket", max_size=24, steps_per_epoch=2)
    model = SinGAN(
        image_shape=data.image_shape, min_size=12, width=8, iterations_per_scale=1, n_critic=1, g_steps=1
    )
    trainer = make_trainer(root, limit_train_batches=2)
    trainer.fit(model, datamodule=data)
    assert model.scale == 1
    path = root / "singan.ckpt"
    trainer.save_checkpoint(path)
    return path


def size_of(path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.height, image.width


def test_sample_writes_pngs_of_any_size(checkpoint, tmp_path):
    main(
        [
            "singan",
            "sample",
            "--ckpt_path",
            str(checkpoint),
            "--out",
            str(tmp_path / "s"),
            "-n",
            "3",
            "--size",
            "16",
            "40",
        ]
    )
    written = sorted((tmp_path / "s").glob("*.png"))
    assert [p.name for p in written] == ["sample_000.png", "sample_001.png", "sample_002.png"]
    assert {size_of(p) for p in written} == {(16, 40)}


def test_existing_files_are_never_overwritten(checkpoint, tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "sample_000.png").write_bytes(b"mine")
    with pytest.raises(SystemExit, match="will not overwrite"):
        main(["singan", "sample", "--ckpt_path", str(checkpoint), "--out", str(tmp_path / "s"), "-n", "2"])
    assert (tmp_path / "s" / "sample_000.png").read_bytes() == b"mine"


@pytest.mark.parametrize("command", ["harmonize", "edit", "paint"])
def test_injection_commands(command, checkpoint, tmp_path):
    Image.fromarray(np.full((32, 48, 3), 90, dtype=np.uint8)).save(tmp_path / "input.png")
    mask = np.zeros((32, 48), dtype=np.uint8)
    mask[8:20, 10:30] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    args = [
        "singan",
        command,
        "--ckpt_path",
        str(checkpoint),
        "--image",
        str(tmp_path / "input.png"),
        "--scale",
        "1",
    ]
    args += ["--mask", str(tmp_path / "mask.png")] if command != "paint" else []
    main([*args, "--out", str(tmp_path / "out.png")])
    assert size_of(tmp_path / "out.png") == (16, 24)  # the model's size
    if command != "paint":  # outside the (dilated, blurred) mask the input is kept
        out = np.asarray(Image.open(tmp_path / "out.png"))
        assert np.abs(out[0, 0].astype(int) - 90).max() <= 1


def test_super_resolve_enlarges_by_the_factor(checkpoint, tmp_path):
    main(
        [
            "singan",
            "super-resolve",
            "--ckpt_path",
            str(checkpoint),
            "--factor",
            "2",
            "--out",
            str(tmp_path / "big.png"),
        ]
    )
    assert size_of(tmp_path / "big.png") == (32, 48)


def test_bad_requests_fail_with_a_message(checkpoint, tmp_path):
    with pytest.raises(SystemExit, match="no checkpoint at"):
        main(["singan", "sample", str(tmp_path / "missing.ckpt"), "--out", str(tmp_path)])
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "paint.png")
    with pytest.raises(SystemExit, match=r"scale must be in \[1, 1\]"):
        main(["singan", "paint", "--ckpt_path", str(checkpoint), "--image", str(tmp_path / "paint.png"),
              "--scale", "3", "--out", str(tmp_path / "o.png")])  # fmt: skip


@pytest.mark.parametrize("spelling", [[], ["--checkpoint"], ["--ckpt"]])
def test_the_old_checkpoint_spellings_still_work(spelling, checkpoint, tmp_path):
    """``gan-zoo singan sample CKPT`` (positional) and ``--checkpoint``: the same as ``--ckpt_path``."""
    main(["singan", "sample", "--ckpt_path", str(checkpoint), "--out", str(tmp_path / "new"), "-n", "1"])
    main(["singan", "sample", *spelling, str(checkpoint), "--out", str(tmp_path / "old"), "-n", "1"])
    assert (tmp_path / "old" / "sample_000.png").read_bytes() == (
        tmp_path / "new" / "sample_000.png"
    ).read_bytes()
