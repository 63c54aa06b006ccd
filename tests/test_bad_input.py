"""Bad input: one clear error line, exit code 2, no traceback, nothing written — CLI and Python API."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import torch
from conftest import build_tiny

from gan_zoo import load_model
from gan_zoo.checkpoints import MODEL_CLASS_KEY, read_checkpoint
from gan_zoo.cli import main
from gan_zoo.data import Digits
from gan_zoo.errors import DEBUG_ENV, CheckpointError, InvalidDataError, describe
from gan_zoo.losses import Hinge
from gan_zoo.models import CGAN, DCGAN, MODELS
from gan_zoo.registry import UnknownNameError

BASE = [
    "--model", "DCGAN", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4",
    "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "32",
    "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
    "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
]  # fmt: skip


class UnlabelledDigits(Digits):
    """Digits without their labels."""

    classes: ClassVar[tuple[str, ...]] = ()


class OutOfRangeDigits(Digits):
    """Digits whose label file holds a 12 and a -1."""

    def load_split(self, split):
        images, labels = super().load_split(split)
        labels[0], labels[1] = 12, -1
        return images, labels


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DEBUG_ENV, raising=False)
    return tmp_path


def fails(args: list[str], capsys) -> str:
    """Run ``gan-zoo fit`` in-process; assert the one-line failure and return the message."""
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gan-zoo: error: ")]
    assert len(errors) == 1, err
    assert "usage:" not in err
    return errors[0].removeprefix("gan-zoo: error: ")


def assert_nothing_written(root: Path) -> None:
    assert not (root / "runs").exists()


def test_unknown_model_lists_valid_names(in_tmp, capsys):
    message = fails([*BASE, "--model", "DCGANN"], capsys)
    assert message == f"Unknown model 'DCGANN'. Valid names: {', '.join(MODELS.names())}."
    assert_nothing_written(in_tmp)
    with pytest.raises(UnknownNameError, match=r"Valid names: .*CGAN, DCGAN, GAN"):
        MODELS.get("DCGANN")


def test_unknown_data_module_lists_valid_names(in_tmp, capsys):
    message = fails([*BASE, "--data", "Digitz"], capsys)
    assert message.startswith("Unknown data 'Digitz'. Valid names: CIFAR10, ")
    assert "Digits, " in message and "FashionMNIST, " in message and "DataModule" not in message
    assert_nothing_written(in_tmp)


def test_unknown_loss_lists_valid_names(in_tmp, capsys):
    message = fails([*BASE, "--model.loss", "hingee"], capsys)
    assert message.startswith("Unknown loss 'hingee'. Valid names: hinge, least_squares")
    assert_nothing_written(in_tmp)
    with pytest.raises(UnknownNameError, match="Unknown loss 'hingee'"):
        build_tiny("DCGAN", loss="hingee")


def test_unknown_regularizer_lists_valid_names(in_tmp, capsys):
    message = fails([*BASE, "--model.regularizers", "[gradient_penalti]"], capsys)
    assert message.startswith("Unknown regularizer 'gradient_penalti'. Valid names:")
    assert "gradient_penalty" in message
    assert_nothing_written(in_tmp)
    with pytest.raises(UnknownNameError, match="gradient_penalty"):
        build_tiny("DCGAN", regularizers=["gradient_penalti"])


def test_impossible_image_size(in_tmp, capsys):
    message = fails([*BASE, "--data.image_size", "12"], capsys)
    assert "DCGAN needs square images whose side is a power of two" in message
    assert "(1, 12, 12)" in message
    assert_nothing_written(in_tmp)
    with pytest.raises(ValueError, match="power of two"):
        DCGAN(image_shape=(1, 12, 12))


@pytest.mark.parametrize("size", ["0", "-4"])
def test_batch_size_not_positive(size, in_tmp, capsys):
    assert fails([*BASE, "--data.batch_size", size], capsys) == f"batch_size must be >= 1, got {size}"
    assert_nothing_written(in_tmp)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Digits(batch_size=int(size))


def test_conditional_model_on_unlabelled_data(in_tmp, capsys):
    message = fails([*BASE, "--model", "CGAN", "--data", f"{__name__}.UnlabelledDigits"], capsys)
    assert "CGAN is class-conditional and needs labelled data" in message
    assert_nothing_written(in_tmp)
    with pytest.raises(ValueError, match="class-conditional"):
        CGAN(image_shape=(1, 16, 16), num_classes=None)


def test_labels_outside_the_class_range(in_tmp, capsys):
    message = fails([*BASE, "--model", "CGAN", "--data", f"{__name__}.OutOfRangeDigits"], capsys)
    assert message == "OutOfRangeDigits (train): labels must lie in [0, 10), found values from -1 to 12"
    assert_nothing_written(in_tmp)
    with pytest.raises(InvalidDataError, match=r"labels must lie in \[0, 10\)"):
        OutOfRangeDigits(image_size=16).setup("fit")


def write_checkpoint(path: Path, model: torch.nn.Module) -> Path:
    checkpoint = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    model.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


def test_checkpoint_of_another_model_class(in_tmp, capsys):
    ckpt = write_checkpoint(in_tmp / "gan.ckpt", build_tiny("GAN"))
    assert fails([*BASE, "--ckpt_path", str(ckpt)], capsys) == "the checkpoint was written by GAN, not DCGAN"
    assert not (in_tmp / "runs").exists()
    checkpoint = read_checkpoint(ckpt)
    with pytest.raises(CheckpointError, match="written by GAN, not DCGAN"):
        build_tiny("DCGAN").on_load_checkpoint(checkpoint)
    # Without the recorded class (an older file), tensor names and shapes still tell.
    del checkpoint[MODEL_CLASS_KEY]
    with pytest.raises(CheckpointError, match=r"does not fit DCGAN as configured: .* tensors missing"):
        build_tiny("DCGAN").on_load_checkpoint(checkpoint)


def test_truncated_checkpoint(in_tmp, capsys):
    whole = write_checkpoint(in_tmp / "whole.ckpt", build_tiny("DCGAN")).read_bytes()
    ckpt = in_tmp / "cut.ckpt"
    ckpt.write_bytes(whole[: len(whole) // 2])
    message = fails([*BASE, "--ckpt_path", str(ckpt)], capsys)
    assert message.startswith(f"{ckpt} is not a checkpoint or is truncated")
    assert_nothing_written(in_tmp)
    assert ckpt.read_bytes() == whole[: len(whole) // 2]


@pytest.mark.parametrize("content", [b"model: DCGAN\n", b"\x80\x04K\x01."], ids=["yaml", "pickled-int"])
def test_non_checkpoint_file(content, in_tmp, capsys):
    ckpt = in_tmp / "notes.ckpt"
    ckpt.write_bytes(content)
    assert "is not a" in fails([*BASE, "--ckpt_path", str(ckpt)], capsys)
    assert_nothing_written(in_tmp)
    with pytest.raises(CheckpointError, match="not a"):
        read_checkpoint(ckpt)


@pytest.mark.parametrize("damage", ["truncated", "not-a-checkpoint"])
@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_damaged_file_given_as_ckpt(command, damage, in_tmp, capsys):
    """``gan-zoo sample --ckpt_path`` / ``gan-zoo evaluate --ckpt_path``: the same one line as ``fit``."""
    whole = write_checkpoint(in_tmp / "whole.ckpt", build_tiny("DCGAN")).read_bytes()
    ckpt = in_tmp / "bad.ckpt"
    ckpt.write_bytes(whole[: len(whole) // 2] if damage == "truncated" else b"model: DCGAN\n")
    with pytest.raises(SystemExit) as exit_:
        main([command, "--ckpt_path", str(ckpt), *(["--data", "Digits"] if command == "evaluate" else [])])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"error: {ckpt} is not a checkpoint" in err
    assert sorted(p.name for p in in_tmp.iterdir()) == ["bad.ckpt", "whole.ckpt"]  # nothing written


def test_missing_checkpoint_file(in_tmp, capsys):
    assert fails([*BASE, "--ckpt_path", "nowhere.ckpt"], capsys) == "checkpoint nowhere.ckpt does not exist"


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_missing_or_empty_data_directory(state, in_tmp, capsys):
    data_dir = in_tmp / "mnist"
    if state == "empty":
        data_dir.mkdir()
    args = [*BASE, "--data", "MNIST", "--data.data_dir", str(data_dir), "--data.image_size", "16"]
    message = fails(args, capsys)
    assert message.startswith("MNIST not found (looked in:") and "download=True" in message
    assert_nothing_written(in_tmp)


def test_run_directory_with_results(in_tmp, capsys):
    main(["fit", *BASE])
    run = in_tmp / "runs" / "dcgan-digits" / "version_0"
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    message = fails(
        [
            *BASE,
            "--trainer.logger",
            "TensorBoardLogger",
            "--trainer.logger.save_dir",
            "runs",
            "--trainer.logger.name",
            "dcgan-digits",
            "--trainer.logger.version",
            "0",
        ],
        capsys,
    )
    assert message.startswith(f"run directory {Path('runs/dcgan-digits/version_0')} already holds results")
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("model:\n  class_path: DCGAN\n  init_args:\n    g_widht: 4\n", "model: unknown key 'g_widht'"),
        ("trainer:\n  max_epoch: 1\n", "unknown key 'trainer.max_epoch'"),
        ("optimiser: adam\n", "unknown key 'optimiser'"),
    ],
    ids=["model-key", "trainer-key", "top-level-key"],
)
def test_yaml_with_an_unknown_key(yaml, expected, in_tmp, capsys):
    config = in_tmp / "config.yaml"
    config.write_text(yaml)
    assert expected in fails([*BASE, "--config", str(config)], capsys)
    assert config.read_text() == yaml
    assert_nothing_written(in_tmp)


def test_debug_variable_shows_the_traceback(in_tmp, monkeypatch):
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(ValueError, match="Unknown loss 'hingee'"):  # the exception itself, not SystemExit
        main(["fit", *BASE, "--model.loss", "hingee"])


def test_a_bug_is_not_reported_as_bad_input():
    assert describe(RuntimeError("index out of range")) is None
    assert describe(ZeroDivisionError()) is None


def test_unknown_model_from_a_subprocess_exits_with_code_2(in_tmp):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "gan_zoo", "fit", "--model", "DCGANN", "--data", "Digits"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[
        -1
    ] == "gan-zoo: error: Unknown model 'DCGANN'. Valid names: " + (", ".join(MODELS.names()) + ".")
    assert "Traceback" not in result.stderr


class OwnLoss(Hinge):
    """A user's own objective: not registered, so not among the classes weights_only may rebuild."""


def test_load_model_reads_weights_only_and_refuses_pickled_objects(in_tmp):
    model = build_tiny("DCGAN")
    restored = load_model(write_checkpoint(in_tmp / "plain.ckpt", model))
    assert type(restored) is DCGAN and not restored.training
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), restored.state_dict().values(), strict=True)
    )
    # A registered loss given as an object is rebuilt with weights_only=True (a plain attribute holder);
    # any other object in the hyperparameters could run code when unpickled.
    assert isinstance(
        load_model(write_checkpoint(in_tmp / "zoo.ckpt", build_tiny("DCGAN", loss=Hinge()))).loss, Hinge
    )
    with_object = write_checkpoint(in_tmp / "object.ckpt", build_tiny("DCGAN", loss=OwnLoss()))
    with pytest.raises(
        CheckpointError, match=r"\(test_bad_input\.OwnLoss\) and needs full unpickling.*trust=True"
    ):
        load_model(with_object)
    assert isinstance(load_model(with_object, trust=True).loss, OwnLoss)
