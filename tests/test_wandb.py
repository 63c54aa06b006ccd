"""Weights & Biases through ``experiments/_base/wandb.yaml``, offline, read back from the run's files."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_cli import REPO, TINY_FIT

from gan_zoo import load_model
from gan_zoo.data import Digits
from gan_zoo.loggers import check_no_secrets, next_version_dir
from gan_zoo.metrics import build_feature_extractor, evaluate_model, fid

WANDB_LAYER = REPO / "experiments" / "_base" / "wandb.yaml"
FID_OPTIONS = (
    "num_samples=100",
    "batch_size=50",
    "num_real_samples=300",
    "use_cache=false",
    "progress_bar=false",
)
FAKE_KEY = "0123456789abcdef0123456789abcdef" + "fedcba98"  # 40 characters, the shape of a real key


def wandb_records(path: Path) -> Iterator:
    """The protobuf records of an offline run file (``run-<id>.wandb``).

    The file is ":W&B" + magic + version (7 bytes), then LevelDB-log framing: 32 KiB blocks of
    chunks, each with a 7-byte header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last).
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    block, position, pending = 32 * 1024, 7, b""
    while position + 7 <= len(data):
        if block - position % block < 7:  # the rest of a block too short for a header is padding
            position += block - position % block
            continue
        _crc, length, kind = struct.unpack("<IHB", data[position : position + 7])
        pending += data[position + 7 : position + 7 + length]
        position += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory) -> Path:
    """Two epochs of a tiny DCGAN with an average of G, logged offline to W&B with checkpoints as
    artifacts and the FID of both generators at the end."""
    root = tmp_path_factory.mktemp("wandb")
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_API_KEY": FAKE_KEY,
        "WANDB_DATA_DIR": str(root / "wandb-data"),  # artifact staging
        "WANDB_CACHE_DIR": str(root / "wandb-cache"),
        "WANDB_CONFIG_DIR": str(root / "wandb-config"),
        "PYTHONWARNINGS": "ignore",
        "OMP_NUM_THREADS": "1",  # tiny networks: threads only add waiting
    }
    args = [*TINY_FIT, "--trainer.max_epochs", "2", "--trainer.log_every_n_steps", "1"]
    command = [sys.executable, "-m", "gan_zoo", "fit", "--config", str(WANDB_LAYER), *args]
    command += ["--trainer.logger.init_args.log_model", "true", "--model.ema_decay", "0.9"]
    command += ["--trainer.callbacks+=FID", "--trainer.callbacks.feature_extractor=digits"]
    command += [f"--trainer.callbacks.{option}" for option in FID_OPTIONS]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def run_file(root: Path) -> Path:
    (path,) = (root / "runs" / "dcgan-digits" / "version_0" / "wandb").glob("offline-run-*/run-*.wandb")
    return path


def test_run_directory_layout(offline_run):
    run = offline_run / "runs" / "dcgan-digits" / "version_0"
    assert (run / "config.yaml").is_file()
    assert (run / "samples" / "epoch=0001.png").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert not list(run.rglob("events.out.tfevents.*")), "W&B replaces TensorBoard when selected"


def test_sample_grids_are_wandb_images(offline_run):
    media = list(run_file(offline_run).parent.glob("files/media/images/samples_*.png"))
    assert len(media) == 2  # one per epoch
    uploaded = {
        f.path for r in wandb_records(run_file(offline_run)) if r.HasField("files") for f in r.files.files
    }
    assert {f"media/images/{m.name}" for m in media} <= uploaded


def logged_history(root: Path) -> dict[str, list[float]]:
    logged: dict[str, list[float]] = {}
    for record in wandb_records(run_file(root)):
        if record.HasField("history"):
            for item in record.history.item:
                logged.setdefault(item.key or ".".join(item.nested_key), []).append(
                    json.loads(item.value_json)
                )
    return logged


def test_metrics_are_logged(offline_run):
    logged = logged_history(offline_run)
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert len(logged[f"train/{name}_step"]) == 4  # 2 batches × 2 epochs, log_every_n_steps 1
        assert len(logged[f"train/{name}_epoch"]) == 2
    assert all(0.0 <= p <= 1.0 for p in logged["train/d_real_step"])  # D's probability on real images


def test_both_generators_fid_is_logged(offline_run):
    logged = logged_history(offline_run)
    # Once, at the end; the values the final checkpoint's generators give.
    model = load_model(offline_run / "runs" / "dcgan-digits" / "version_0" / "checkpoints" / "last.ckpt")
    extractor = build_feature_extractor("digits")
    for weights, name in (("ema", "fid"), ("raw", "fid_raw")):
        with model.sampling_from(weights):
            expected = evaluate_model(
                model,
                Digits(image_size=16),
                [fid(extractor)],
                extractor,
                num_samples=100,
                batch_size=50,
                num_real=300,
            )["fid"]
        assert logged[f"eval/digits/{name}"] == [pytest.approx(expected, rel=1e-5)], name
    assert logged["eval/digits/fid"] != logged["eval/digits/fid_raw"]


def test_resolved_config_is_the_run_config(offline_run):
    config = {}
    for record in wandb_records(run_file(offline_run)):
        if record.HasField("config"):
            config.update({u.key: json.loads(u.value_json) for u in record.config.update})
    assert config["latent_dim"] == 8  # the model's hyperparameters, logged by Lightning
    assert config["model"]["class_path"].endswith("DCGAN")  # the resolved CLI config, logged by gan_zoo
    assert config["data"]["init_args"]["image_size"] == 16
    assert config["trainer"]["max_epochs"] == 2
    assert config["trainer"]["logger"]["class_path"].endswith("WandbLogger")


def test_checkpoints_are_artifacts_when_asked(offline_run):
    artifacts = [r.artifact for r in wandb_records(run_file(offline_run)) if r.HasField("artifact")]
    assert artifacts and all(a.type == "model" for a in artifacts)
    assert {entry.path for a in artifacts for entry in a.manifest.contents} == {"model.ckpt"}


def test_no_secret_is_written(offline_run):
    leaks = [p for p in offline_run.rglob("*") if p.is_file() and FAKE_KEY.encode() in p.read_bytes()]
    assert not leaks


def test_second_run_gets_its_own_directory(tmp_path):
    first = next_version_dir(tmp_path / "dcgan-digits")
    first.mkdir(parents=True)
    (tmp_path / "dcgan-digits" / "version_7x").mkdir()  # not a version directory
    assert next_version_dir(tmp_path / "dcgan-digits").name == "version_1"


def test_credentials_in_a_config_are_refused():
    config = SimpleNamespace(trainer=SimpleNamespace(logger={"init_args": {"settings": {"api_key": "abc"}}}))
    with pytest.raises(ValueError, match=r"trainer\.logger\.init_args\.settings\.api_key.*WANDB_API_KEY"):
        check_no_secrets(config)
    with pytest.raises(ValueError, match=r"model\.password"):
        check_no_secrets(SimpleNamespace(model={"password": "hunter2"}))
    check_no_secrets(SimpleNamespace(model={"pad_token": "<pad>", "num_tokens": 16, "api_key": None}))
