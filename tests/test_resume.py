"""Exact resume: data order, RNG streams, atomic checkpoints, and SIGKILL-and-resume through the CLI."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from conftest import build_tiny, make_trainer

from gan_zoo.callbacks import AtomicModelCheckpoint, random_state
from gan_zoo.callbacks.atomic_checkpoint import partial_path
from gan_zoo.checkpoints import newest_loadable
from gan_zoo.data import Digits
from gan_zoo.data.sampler import ResumableRandomSampler

REPO = Path(__file__).resolve().parents[1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("kill_resume", REPO / "benchmarks" / "kill_resume.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def batches(indices: Iterator[int], n: int, batch_size: int = 4) -> list[list[int]]:
    """The next ``n`` batches of an iteration over a sampler."""
    return [[next(indices) for _ in range(batch_size)] for _ in range(n)]


def test_order_depends_only_on_seed_and_epoch():
    a, b = ResumableRandomSampler(20, 4, seed=3), ResumableRandomSampler(20, 4, seed=3)
    torch.rand(100)  # the global RNG plays no part
    assert list(a) == list(b) == ResumableRandomSampler(20, 4, seed=3).permutation(0).tolist()
    a.set_epoch(1)
    assert list(a) != list(b) and sorted(a) == list(range(20))
    assert list(ResumableRandomSampler(20, 4, seed=4)) != list(b)


def test_sampler_resumes_mid_epoch_at_the_next_batch():
    uninterrupted = ResumableRandomSampler(20, 4, seed=1)
    uninterrupted.set_epoch(2)
    expected = batches(iter(uninterrupted), 5)
    interrupted = ResumableRandomSampler(20, 4, seed=1)
    interrupted.set_epoch(2)
    batches(iter(interrupted), 2)
    state = interrupted.state_dict()
    assert state == {"epoch": 2, "yielded": 8}
    resumed = ResumableRandomSampler(20, 4, seed=1)
    resumed.load_state_dict(state)
    indices = iter(resumed)  # Lightning creates the iterator, then sets the epoch: the same one here
    resumed.set_epoch(2)
    assert batches(indices, 3) == expected[2:]
    assert resumed.state_dict() == {"epoch": 3, "yielded": 0}  # the epoch is over


@pytest.mark.parametrize("epoch_length", [3, 5])
def test_a_position_saved_at_an_epochs_end_starts_the_next_epoch(epoch_length):
    finished = ResumableRandomSampler(20, 4, seed=1, epoch_length=lambda: epoch_length)
    batches(iter(finished), epoch_length)  # 3: limit_train_batches left 8 indices unused
    assert finished.state_dict() == {"epoch": 1, "yielded": 0}
    resumed = ResumableRandomSampler(20, 4, seed=1)
    resumed.load_state_dict(finished.state_dict())
    # Worker processes start fetching before Lightning sets the epoch: the order is epoch 1's anyway.
    assert list(resumed) == finished.permutation(1).tolist()


def test_random_state_round_trip():
    state = random_state.capture()
    expected = (torch.rand(3), random.random())
    torch.rand(10), random.random()
    random_state.restore(state)
    assert torch.equal(torch.rand(3), expected[0]) and random.random() == expected[1]


def test_failed_save_leaves_the_previous_checkpoint(tmp_path, digits, monkeypatch):
    callback = AtomicModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, save_top_k=0)
    trainer = make_trainer(tmp_path, callbacks=[callback], enable_checkpointing=True)
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    last = tmp_path / "ckpt" / "last.ckpt"
    before = last.read_bytes()

    def dies_half_way(checkpoint, path, storage_options=None):  # a kill or a full disk
        Path(path).write_bytes(before[: len(before) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(trainer.strategy.checkpoint_io, "save_checkpoint", dies_half_way)
    with pytest.raises(OSError, match="No space left"):
        callback._save_checkpoint(trainer, str(last))
    assert last.read_bytes() == before
    assert partial_path(last).exists()  # the half file never took last.ckpt's name
    assert newest_loadable(last.parent) == last


def test_resume_skips_a_damaged_newer_checkpoint(tmp_path, digits):
    callback = AtomicModelCheckpoint(dirpath=tmp_path, save_last=True)
    trainer = make_trainer(tmp_path, callbacks=[callback], enable_checkpointing=True)
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    newer = tmp_path / "epoch=9.ckpt"
    newer.write_bytes((tmp_path / "last.ckpt").read_bytes()[:1000])
    assert newest_loadable(tmp_path) != newer
    assert newest_loadable(tmp_path).name in {"last.ckpt", "epoch=0-step=4.ckpt"}


def fit_two_epochs(directory: Path, ckpt_path: Path | None = None) -> pl.Trainer:
    """DCGAN with a per-epoch StepLR on G, 2 batches per epoch, a checkpoint after every batch."""
    pl.seed_everything(0)
    model = build_tiny("DCGAN", g_lr_scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1))
    every_batch = AtomicModelCheckpoint(directory, "{step}", every_n_train_steps=1, save_top_k=-1)
    trainer = make_trainer(
        directory,
        max_epochs=2,
        deterministic=True,
        callbacks=[every_batch, random_state.RandomState()],
        enable_checkpointing=True,
    )
    trainer.fit(model, datamodule=Digits(image_size=16, batch_size=16), ckpt_path=ckpt_path)
    return trainer


def test_resume_after_an_epochs_last_batch_takes_that_epochs_scheduler_step(tmp_path):
    """The checkpoint written after epoch 0's last batch predates epoch 0's on_train_epoch_end, which
    Lightning does not run on resume; the scheduler step must still happen once, before epoch 1."""
    expected = fit_two_epochs(tmp_path / "uninterrupted")
    last_batch_of_epoch_0 = tmp_path / "uninterrupted" / "step=4.ckpt"  # 2 optimizer steps per batch
    assert torch.load(last_batch_of_epoch_0, weights_only=True)["lr_schedulers"][0]["last_epoch"] == 0
    resumed = fit_two_epochs(tmp_path / "resumed", ckpt_path=last_batch_of_epoch_0)
    for a, b in zip(expected.optimizers, resumed.optimizers, strict=True):
        assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"]
        assert all(
            torch.equal(a.state[p]["exp_avg"], b.state[q]["exp_avg"])
            for p, q in zip(*params(a, b), strict=True)
        )
    schedulers = [c.scheduler.state_dict() for t in (expected, resumed) for c in t.lr_scheduler_configs]
    assert schedulers[0] == schedulers[1] and schedulers[0]["last_epoch"] == 2
    weights = expected.lightning_module.state_dict(), resumed.lightning_module.state_dict()
    assert [k for k in weights[0] if not torch.equal(weights[0][k], weights[1][k])] == []


def params(*optimizers: torch.optim.Optimizer) -> list[list[torch.Tensor]]:
    return [[p for group in optimizer.param_groups for p in group["params"]] for optimizer in optimizers]


#: 6 batches per epoch, 2 epochs. Optimizer steps per batch: DCGAN 2 (12 per epoch); WGAN-GP with
#: n_critic = 5 one D step per batch and a G step on every fifth batch (7 per epoch).
KILL_RUN = ["--trainer.max_epochs", "2", "--trainer.limit_train_batches", "6"]
KILL_POINTS = [  # (config, global step of the kill, schedule state the killed run's checkpoint holds)
    pytest.param("dcgan", 18, {}, id="dcgan-mid-epoch"),  # after batch 3 of epoch 1
    pytest.param("dcgan", 12, {}, id="dcgan-epoch-end"),  # after the last batch of epoch 0
    pytest.param(  # after batch 3 of epoch 1: 9 D steps and 1 G step, the next batch a G batch
        "wgan-gp",
        10,
        {"adversarial_schedule.d_steps": 9, "adversarial_schedule.g_steps": 1},
        id="wgan-gp-mid-epoch",
    ),
    pytest.param("wgan-gp", 7, {}, id="wgan-gp-epoch-end"),  # after the last batch of epoch 0
    pytest.param(  # after 5 batches of 16: the 8×8 fade-in, 16 of its 64 images in
        "progan",
        10,
        {"progressive_growing.resolution": 8, "progressive_growing.alpha": 0.25},
        id="progan-mid-fade-in",
    ),
]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The final state of each benchmark config run without a kill (computed once per module)."""
    bench, states = load_benchmark(), {}

    def state_of(config: str) -> dict[str, torch.Tensor]:
        if config not in states:
            workdir = tmp_path_factory.mktemp(config)
            states[config] = bench.reference([*bench.CONFIGS[config], *KILL_RUN], workdir)
        return states[config]

    return state_of


@pytest.mark.slow
@pytest.mark.parametrize(("config", "kill_step", "schedule"), KILL_POINTS)
def test_sigkill_then_resume_is_bit_identical(
    config, kill_step, schedule, uninterrupted, tmp_path, monkeypatch
):
    """A CLI run SIGKILLed by its own callback once global step ``kill_step`` is checkpointed, then
    resumed with ``--ckpt_path last``, ends with exactly the weights, optimizer and LR scheduler state
    of an uninterrupted run — mid-epoch, and right after an epoch's last batch."""
    bench = load_benchmark()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]))
    args = [*bench.CONFIGS[config], *KILL_RUN]
    kill = {"class_path": "kill_at_step.KillAtStep", "init_args": {"step": kill_step}}
    killed = subprocess.run(
        bench.command([*args, f"--trainer.callbacks+={json.dumps(kill)}"]),
        cwd=tmp_path,
        env=bench.environment(),
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    killed_state = bench.final_state(tmp_path)
    assert int(killed_state["global_step"]) == kill_step
    assert {key: killed_state[key].item() for key in schedule} == schedule
    assert bench.resume(args, tmp_path, uninterrupted(config)) == []
