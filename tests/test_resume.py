"""Exact resume: data order, RNG streams, atomic checkpoints, resuming from every kind of checkpoint,
SIGTERM, choosing the checkpoint for ``--ckpt_path last``, and SIGKILL-and-resume through the CLI
(random moments, two processes: ``test_preemption.py``)."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from conftest import LOADER_COUNTERS, build_tiny, make_trainer
from torch.utils.data import DistributedSampler

from gan_zoo import run_dir
from gan_zoo.callbacks import AtomicModelCheckpoint, Preempted, PreemptionCheckpoint, random_state
from gan_zoo.callbacks.atomic_checkpoint import partial_path
from gan_zoo.checkpoints import newest_loadable
from gan_zoo.cli import main
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


class Sized:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


@pytest.mark.parametrize(("size", "processes"), [(20, 2), (21, 2), (10, 3), (2, 3)])
def test_processes_split_the_permutation_as_distributed_sampler_does(size, processes):
    """Process r takes what torch's DistributedSampler (no shuffle, padded) gives it of the epoch's
    permutation, so the processes share the epoch without overlap and equally."""
    permutation = ResumableRandomSampler(size, 2, seed=5).permutation(3)
    for rank in range(processes):
        sampler = ResumableRandomSampler(size, 2, seed=5, num_replicas=processes, rank=rank)
        sampler.set_epoch(3)
        reference = DistributedSampler(Sized(size), num_replicas=processes, rank=rank, shuffle=False)
        assert list(sampler) == [permutation[i].item() for i in reference]
        assert len(sampler) == len(reference)


def test_each_process_resumes_mid_epoch_at_its_next_batch():
    for rank in range(2):
        uninterrupted = ResumableRandomSampler(20, 2, seed=1, num_replicas=2, rank=rank)
        expected = batches(iter(uninterrupted), 5, batch_size=2)
        interrupted = ResumableRandomSampler(20, 2, seed=1, num_replicas=2, rank=rank)
        batches(iter(interrupted), 3, batch_size=2)
        resumed = ResumableRandomSampler(20, 2, seed=1, num_replicas=2, rank=rank)
        resumed.load_state_dict(interrupted.state_dict())
        assert batches(iter(resumed), 2, batch_size=2) == expected[3:]


def test_validation_leaves_the_training_streams_alone():
    """Validation draws latents; a run that validates after a checkpoint and one resumed from it (which
    does not repeat that validation) must then train on the same streams."""
    callback = random_state.RandomState()
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    callback.on_validation_start(None, None)
    torch.randn(100)  # the validation's latents
    callback.on_validation_end(None, None)
    assert torch.equal(torch.rand(4), expected)


def test_each_process_takes_back_its_own_streams():
    states = []
    for seed in (10, 11):
        torch.manual_seed(seed)
        states.append(random_state.capture())
    expected = []
    for seed in (10, 11):
        torch.manual_seed(seed)
        expected.append(torch.rand(3))
    saved = {**states[0], "ranks": states}
    for rank in (0, 1):
        callback = random_state.RandomState()
        callback.load_state_dict(saved)
        torch.manual_seed(99)
        callback.on_train_batch_start(SimpleNamespace(world_size=2, global_rank=rank), None, None, 0)
        assert torch.equal(torch.rand(3), expected[rank])
    # A run with another number of processes keeps its own streams.
    callback = random_state.RandomState()
    callback.load_state_dict(saved)
    torch.manual_seed(99)
    own = torch.rand(3)
    torch.manual_seed(99)
    callback.on_train_batch_start(SimpleNamespace(world_size=1, global_rank=0), None, None, 0)
    assert torch.equal(torch.rand(3), own)


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


def test_the_newest_readable_checkpoint_is_chosen_and_the_unreadable_newer_ones_named(tmp_path):
    """A file cut short (a kill on a filesystem without atomic rename, a full disk) and a ``last.ckpt``
    link whose target was removed are both passed over, newest first."""
    torch.save({"state_dict": {}, "global_step": 4}, tmp_path / "step=4.ckpt")
    whole = (tmp_path / "step=4.ckpt").read_bytes()
    (tmp_path / "step=6.ckpt").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "last.ckpt").symlink_to("step=8.ckpt")  # step=8.ckpt was removed
    times = {"step=4.ckpt": 1, "step=6.ckpt": 2}
    for name, t in times.items():
        os.utime(tmp_path / name, ns=(t * 10**9, t * 10**9))
    found, unreadable = run_dir.newest_checkpoint(tmp_path)
    assert found == tmp_path / "step=4.ckpt"
    assert unreadable == [tmp_path / "last.ckpt", tmp_path / "step=6.ckpt"]
    assert run_dir.newest_checkpoint(tmp_path / "missing") == (None, [])


#: A tiny DCGAN run of the CLI: 2 epochs of 2 batches, a checkpoint after every batch.
CLI_RUN = [
    "fit", "--model", "DCGAN", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4",
    "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "16",
    "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "2",
    "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    "--checkpoint.every_n_train_steps", "1",
]  # fmt: skip
CHECKPOINTS = Path("runs") / "dcgan-digits" / "version_0" / "checkpoints"


def test_ckpt_path_last_says_which_file_it_resumes_from(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(CLI_RUN)
    capsys.readouterr()
    main([*CLI_RUN, "--trainer.max_epochs", "3", "--ckpt_path", "last"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-zoo:")]
    assert lines == [f"gan-zoo: resuming from {CHECKPOINTS / 'last.ckpt'} (epoch 1, global step 8)"]
    assert torch.load(CHECKPOINTS / "last.ckpt", weights_only=True)["global_step"] == 12


def test_ckpt_path_last_falls_back_from_a_cut_short_last_ckpt_and_names_both(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(CLI_RUN)
    last = CHECKPOINTS / "last.ckpt"
    last.write_bytes(last.read_bytes()[:5000])  # as a non-atomic writer killed mid-save leaves it
    capsys.readouterr()
    main([*CLI_RUN, "--trainer.max_epochs", "3", "--ckpt_path", "last"])
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-zoo:")]
    older = CHECKPOINTS / "epoch=1-step=8.ckpt"
    assert lines == [
        f"gan-zoo: {last} cannot be read (cut short, or a link to a removed file); resuming from {older}"
    ]


def test_ckpt_path_last_refuses_a_run_configured_otherwise(tmp_path, monkeypatch, capsys):
    """A 16×16 run must not pick up the 32×32 run of the same model and data: one line naming the file
    and the setting."""
    monkeypatch.chdir(tmp_path)
    main([*CLI_RUN, "--data.image_size", "32", "--trainer.max_epochs", "1"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([*CLI_RUN, "--ckpt_path", "last"])
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"gan-zoo: error: --ckpt_path last found {CHECKPOINTS / 'last.ckpt'}")
    assert "data.image_size 32 there, 16 here" in line


def fit_exactly(
    directory: Path, checkpointing: dict, ckpt_path: Path | None = None, callbacks: tuple = ()
) -> pl.Trainer:
    """Tiny DCGAN with an EMA generator, a per-epoch StepLR on G and validation (which draws latents):
    3 epochs of 3 batches, 2 optimizer steps each; checkpoints named by global step."""
    pl.seed_everything(0, verbose=False)
    scheduler = partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    model = build_tiny("DCGAN", ema_decay=0.9, g_lr_scheduler=scheduler)
    checkpoint = AtomicModelCheckpoint(directory, "{step}", save_top_k=-1, **checkpointing)
    trainer = make_trainer(
        directory,
        max_epochs=3,
        limit_train_batches=3,
        limit_val_batches=1,
        deterministic=True,
        callbacks=[checkpoint, random_state.RandomState(), *callbacks],
        enable_checkpointing=True,
    )
    data = Digits(image_size=16, batch_size=16, val_split=0.1)
    trainer.fit(model, datamodule=data, ckpt_path=ckpt_path)
    return trainer


NOT_COMPARED = ("ModelCheckpoint", "val_loop", "hyper_parameters", *LOADER_COUNTERS)


def contents(path: Path) -> dict[str, object]:
    """A checkpoint flattened to ``{key path: value}``, without what names files, the validation
    loop's counters and the data loader's: the validation that followed the saved batch is not run
    again on a resume (Lightning's choice), the loader counts batches since its iterator was created
    (a resumed run creates its own), and nothing of training depends on either. The sampler's
    position, which decides the batches, is compared."""
    flat: dict[str, object] = {}

    def walk(value: object, key: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{key}/{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{key}/{i}")
        elif not any(part in key for part in NOT_COMPARED):
            flat[key] = value

    walk(torch.load(path, weights_only=False), "")
    return flat


def same(a: dict[str, object], b: dict[str, object]) -> list[str]:
    """The keys whose values differ (tensors bit for bit)."""
    if a.keys() != b.keys():
        return sorted(a.keys() ^ b.keys())
    equal = (torch.equal(a[k], b[k]) if torch.is_tensor(a[k]) else a[k] == b[k] for k in a)
    return [k for k, eq in zip(a, equal, strict=True) if not eq]


EVERY_STEP = {"every_n_train_steps": 1}
KINDS = [  # how checkpoints are written, and where the resumes start (global steps; 6 per epoch)
    pytest.param(EVERY_STEP, [2, 6, 8, 12, 16], id="every_n_train_steps"),
    pytest.param({"train_time_interval": timedelta(0)}, [4, 12], id="train_time_interval"),
    pytest.param({"every_n_epochs": 1}, [6, 12], id="epoch_end"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("checkpointing", "resume_steps"), KINDS)
def test_every_checkpoint_resumes_to_the_uninterrupted_runs_checkpoints(
    checkpointing, resume_steps, tmp_path
):
    """Resumed from any checkpoint the library writes (after a batch mid-epoch, after an epoch's last
    batch, at an epoch's end after validation), a run writes the uninterrupted run's checkpoints from
    then on: weights, EMA, optimizers, LR schedulers, n_critic phase, loop counters, sampler position
    and RNG streams, bit for bit."""
    fit_exactly(tmp_path / "uninterrupted", checkpointing)
    expected = {p.name: contents(p) for p in (tmp_path / "uninterrupted").glob("step=*.ckpt")}
    assert len(expected) == (9 if checkpointing is not KINDS[2].values[0] else 3)
    for step in resume_steps:
        directory = tmp_path / f"from_{step}"
        fit_exactly(directory, checkpointing, ckpt_path=tmp_path / "uninterrupted" / f"step={step}.ckpt")
        written = sorted(directory.glob("step=*.ckpt"), key=lambda p: int(p.stem.split("=")[1]))
        assert [p.name for p in written] == sorted(
            (n for n in expected if int(n[5:-5]) > step), key=lambda n: int(n[5:-5])
        )
        for path in written:
            assert same(contents(path), expected[path.name]) == [], (step, path.name)


@pytest.mark.slow
def test_a_resumed_run_resumes_again_exactly(tmp_path):
    """The chain of the issue: resumed after epoch 0's last batch, then again after epoch 1's."""
    fit_exactly(tmp_path / "uninterrupted", EVERY_STEP)
    fit_exactly(tmp_path / "first", EVERY_STEP, ckpt_path=tmp_path / "uninterrupted" / "step=6.ckpt")
    fit_exactly(tmp_path / "second", EVERY_STEP, ckpt_path=tmp_path / "first" / "step=12.ckpt")
    for name in ("step=14.ckpt", "step=18.ckpt"):
        assert same(contents(tmp_path / "second" / name), contents(tmp_path / "uninterrupted" / name)) == []


class TenMinutesAfterTheFirstBatch(pl.Callback):
    """A clock for ModelCheckpoint that reads 0 s until the first batch ends and 601 s from then on."""

    def __init__(self) -> None:
        self.now = 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.now = 601.0  # before ModelCheckpoint's own on_train_batch_end (Lightning runs it last)


def test_a_time_interval_run_saves_its_final_state(tmp_path, monkeypatch):
    """Lightning saves last.ckpt at the end only when nothing was saved before: with a 10-minute
    interval, the weights after the last interval were lost. One interval passes at the first batch
    here; last.ckpt must still hold the final state."""
    import pytorch_lightning.callbacks.model_checkpoint as model_checkpoint

    clock = TenMinutesAfterTheFirstBatch()
    monkeypatch.setattr(model_checkpoint.time, "monotonic", lambda: clock.now)
    options = {"train_time_interval": timedelta(minutes=10), "save_last": True}
    trainer = fit_exactly(tmp_path, options, callbacks=(clock,))
    assert sorted(p.name for p in tmp_path.glob("step=*.ckpt")) == ["step=2.ckpt"]
    assert torch.load(tmp_path / "last.ckpt", weights_only=True)["global_step"] == trainer.global_step == 18


class SigtermAt(pl.Callback):
    """Sends this process SIGTERM at the start of the first batch at or after global step ``step``."""

    def __init__(self, step: int) -> None:
        self.step, self.sent = step, False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step >= self.step and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.slow
def test_sigterm_saves_after_the_batch_exits_143_and_resumes_exactly(tmp_path, capsys):
    handler = signal.getsignal(signal.SIGTERM)
    fit_exactly(tmp_path / "uninterrupted", EVERY_STEP)
    with pytest.raises(Preempted) as stop:
        fit_exactly(tmp_path / "stopped", {}, callbacks=(PreemptionCheckpoint(), SigtermAt(7)))
    assert stop.value.code == 128 + signal.SIGTERM
    last = tmp_path / "stopped" / "last.ckpt"
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"SIGTERM received: saved {last} at epoch 1, global step 10; resume with --ckpt_path last "
        "(or ckpt_path=that file)"
    )  # the signal came at the start of batch 5 (step 8), the checkpoint after it
    assert signal.getsignal(signal.SIGTERM) is handler  # put back
    fit_exactly(tmp_path / "resumed", EVERY_STEP, ckpt_path=last)
    for name in ("step=12.ckpt", "step=18.ckpt"):
        assert same(contents(tmp_path / "resumed" / name), contents(tmp_path / "uninterrupted" / name)) == []


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


#: 6 batches per epoch, 2 epochs. DCGAN and WGAN-GP are killed at random moments in test_preemption.py;
#: ProGAN's schedule state (stage and fade-in α, from the images seen) is checked here.
KILL_RUN = ["--trainer.max_epochs", "2", "--trainer.limit_train_batches", "6"]
KILL_POINTS = [  # (config, global step of the kill, schedule state the killed run's checkpoint holds)
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
