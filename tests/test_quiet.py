"""What a user sees from ``gan-zoo``, run as typed (subprocesses): the losses on the progress bar, no
warning or notice that leaves nothing to act on, and one line for a command that cannot run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pytorch_lightning import Trainer
from torch.utils.data import DataLoader

from gan_zoo.cli import DESCRIPTIONS
from gan_zoo.data import Digits

REPO = Path(__file__).resolve().parents[1]
OFFLINE = REPO / "tests" / "data" / "offline_gan_zoo.py"

#: The quick start, 3 batches an epoch, a checkpoint every 2 optimizer steps (Lightning's manual-
#: optimization warning), a validation split (validate has something to do).
QUICKSTART = [
    "--config", str(REPO / "experiments" / "quickstart.yaml"),
    "--trainer.limit_train_batches", "3",
    "--data.val_split", "0.1",
    "--checkpoint.every_n_train_steps", "2",
]  # fmt: skip
RUN = Path("runs") / "dcgan-digits" / "version_0"

#: Lines that once appeared on a plain run, as regular expressions.
NOISE = {
    "litlogger/litmodels advertisement": r"💡|Tip: For seamless",
    "torch's LeafSpec deprecation": r"LeafSpec",
    "the model summary's FLOPs": r"FLOPs|Total Flops",
    "ModelCheckpoint's dirpath on validate/test": r"The dirpath has changed",
    "ModelCheckpoint's directory on resume": r"exists and is not empty",
    "ModelCheckpoint under manual optimization": r"manual optimization",
    "an epoch shorter than log_every_n_steps": r"smaller than the logging interval",
    "torch.load's pickle protocol": r"Detected pickle protocol",
    "the data loader's workers": r"does not have many workers",
    "callbacks of the checkpoint on validate/test": r"callbacks used to create the checkpoint",
    "absent accelerators": r"(GPU|TPU) available: False",
    "the seed": r"Seed set to",
    "the summary callback's replacement": r"already configured with model summary",
    "the float run version on the bar": r"v_num",
}
#: A warning of any kind: Python's ``file:line: Category: message`` format, or Lightning's own.
ANY_WARNING = re.compile(r"warn|Warning|deprecat", re.IGNORECASE)


def gan_zoo(*args: str, cwd: Path, offline: bool = False, **env: str) -> subprocess.CompletedProcess:
    """``gan-zoo ARGS`` in ``cwd`` with this checkout's gan_zoo; stdout and stderr as text."""
    command = [sys.executable, str(OFFLINE)] if offline else [sys.executable, "-m", "gan_zoo"]
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200", **env},
    )


def files(root: Path) -> dict[str, int | None]:
    """Every file (with its modification time) and directory under ``root``: what a command wrote."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns if p.is_file() else None for p in root.rglob("*")}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict:
    """fit, a resume with --ckpt_path last, validate and test from the checkpoint: their outputs."""
    root = tmp_path_factory.mktemp("quiet")
    outputs = {"fit": gan_zoo("fit", *QUICKSTART, "--trainer.max_epochs", "1", cwd=root)}
    outputs["resume"] = gan_zoo(
        "fit", *QUICKSTART, "--trainer.max_epochs", "2", "--ckpt_path", "last", cwd=root
    )
    checkpoint = str(RUN / "checkpoints" / "last.ckpt")
    for subcommand in ("validate", "test"):
        outputs[subcommand] = gan_zoo(subcommand, *QUICKSTART, "--ckpt_path", checkpoint, cwd=root)
    return {"root": root, "outputs": outputs}


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fit", "resume", "validate", "test"])
def test_no_noise(session, command):
    result = session["outputs"][command]
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    for what, pattern in NOISE.items():
        assert not re.search(pattern, text), f"{command}: {what}: {re.search(pattern, text).group(0)!r}"
    warnings = [line for line in text.splitlines() if ANY_WARNING.search(line)]
    assert warnings == [], f"{command} printed warnings"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fit", "resume"])
def test_the_losses_are_on_the_progress_bar(session, command):
    """The bar's last state: the epoch's mean losses, although the epoch (3 batches) is shorter than
    log_every_n_steps (10)."""
    bar = session["outputs"][command].stdout.replace("\r", "\n").splitlines()
    last = [line for line in bar if line.startswith("Epoch ")][-1]
    epoch = 0 if command == "fit" else 1
    assert re.search(
        rf"^Epoch {epoch}/{epoch} .* 3/3 .*train/d_loss: \d+\.\d+ .*train/g_loss: \d+\.\d+", last
    )


@pytest.mark.slow
def test_the_resume_names_its_checkpoint_and_evaluations_print_their_losses(session):
    outputs = session["outputs"]
    assert f"gan-zoo: resuming from {RUN / 'checkpoints' / 'last.ckpt'} (epoch 0" in outputs["resume"].stderr
    assert "val/d_loss" in outputs["validate"].stdout and "test/g_loss" in outputs["test"].stdout
    assert "Name " in outputs["fit"].stdout and "Total params" in outputs["fit"].stdout  # the summary stays


def one_line_refusal(result: subprocess.CompletedProcess, before: dict, root: Path) -> str:
    """The single stderr line of a refused command, after checking its exit code and that it wrote
    nothing."""
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gan-zoo: error: "), result.stderr
    assert files(root) == before, "a refused command wrote files"
    return lines[0]


@pytest.mark.slow
def test_a_mismatched_resume_is_one_line_and_writes_nothing(session):
    root = session["root"]
    before = files(root)
    result = gan_zoo(
        "fit",
        *QUICKSTART,
        "--data.image_size",
        "32",
        "--trainer.max_epochs",
        "3",
        "--ckpt_path",
        "last",
        cwd=root,
    )
    line = one_line_refusal(result, before, root)
    assert f"--ckpt_path last found {RUN / 'checkpoints' / 'last.ckpt'}" in line
    assert "data.image_size 16 there, 32 here" in line


@pytest.mark.slow
def test_offline_without_inception_weights_evaluate_is_one_line_and_writes_nothing(session, tmp_path):
    root = session["root"]
    torch_home = tmp_path / "torch"  # an empty torch.hub cache
    before = files(root)
    result = gan_zoo(
        "evaluate", "--ckpt_path", str(RUN / "checkpoints" / "last.ckpt"), "--data", "Digits",
        "--metrics", "fid", "--num_samples", "100",
        cwd=root, offline=True, TORCH_HOME=str(torch_home), GAN_ZOO_INCEPTION_WEIGHTS="",
    )  # fmt: skip
    line = one_line_refusal(result, before, root)
    assert "Inception-v3 weights are not on this machine" in line and "--inception_weights" in line
    assert not torch_home.exists() or not any(torch_home.rglob("*"))


@pytest.mark.slow
def test_validate_without_a_validation_split_is_one_line(session):
    root = session["root"]
    before = files(root)
    plain = [arg for arg in QUICKSTART if arg not in ("--data.val_split", "0.1")]
    result = gan_zoo("validate", *plain, "--ckpt_path", str(RUN / "checkpoints" / "last.ckpt"), cwd=root)
    assert "--data.val_split 0.1" in one_line_refusal(result, before, root)


def test_predict_is_not_offered_and_points_to_sample(tmp_path):
    result = gan_zoo("predict", "--config", str(REPO / "experiments" / "quickstart.yaml"), cwd=tmp_path)
    line = one_line_refusal(result, {}, tmp_path)
    assert "gan-zoo sample --ckpt_path" in line
    help_text = gan_zoo("--help", cwd=tmp_path).stdout
    assert "predict" not in help_text


def test_every_command_has_one_line_in_the_help(tmp_path):
    result = gan_zoo("--help", cwd=tmp_path, COLUMNS="80")
    assert result.returncode == 0 and result.stderr == ""
    listed = dict(re.findall(r"^    (\w+) +(.+)$", result.stdout, re.MULTILINE))
    assert listed == DESCRIPTIONS  # each on its own line, whole, at 80 columns
    assert set(listed) == {"fit", "validate", "test", "sample", "evaluate", "analyze", "singan"}
    assert all(line.endswith(".") for line in listed.values())


def test_in_memory_data_get_no_worker_advice_on_a_machine_with_many_cores(monkeypatch):
    """Lightning advises more workers for a loader with fewer than 2 on a machine with 4+ cores (this one
    has 2); a batch of Digits is one gather from memory, which workers would not speed up."""
    from pytorch_lightning.trainer.connectors import data_connector

    monkeypatch.setattr(data_connector, "suggested_max_num_workers", lambda devices: 7)  # 8 cores
    trainer = Trainer(accelerator="cpu", logger=False, enable_checkpointing=False)
    with pytest.warns(UserWarning, match="does not have many workers"):  # a loader of anything else
        data_connector._worker_check(trainer, DataLoader(range(4)), "train_dataloader")
    data = Digits(image_size=16, batch_size=32)
    data.setup("fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        data_connector._worker_check(trainer, data.train_dataloader(), "train_dataloader")
    assert not [w for w in caught if "workers" in str(w.message)]
