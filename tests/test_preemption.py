"""Fault injection: ``gan-zoo fit`` killed with SIGKILL at seeded random moments, resumed after each kill
with ``--ckpt_path last``, ends with the uninterrupted run's tensors, bit for bit.

The moments are drawn from a seeded generator, so a failure names a reproducible sequence: global steps
and where in the step the kill lands (:data:`kill_at_step.PHASES`: before a batch, inside a training
step before an optimizer step, half-way through writing a checkpoint file, half-way through writing
``last.ckpt``). Every run writes a checkpoint after every optimizer step, so each resume starts from a
checkpoint written in ``on_train_batch_end``, including after an epoch's last batch (the case Lightning
issue 19815 is about). ``benchmarks/kill_resume.py`` kills at random wall-clock moments instead.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from kill_at_step import GROUP_ENV, PHASES

from gan_zoo import run_dir
from gan_zoo.cli import main

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
import kill_resume as bench  # noqa: E402  (a script, not a package)

#: Tiny WGAN-GP (n_critic 5: one D step per batch, a G step on every fifth) with an EMA generator and a
#: per-epoch LR schedule; 3 epochs of 4 batches: 12 D steps and 2 G steps, global step 14.
WGAN_GP = [
    *bench.RUN,
    "--model", "WGANGP", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4",
    "--model.n_critic", "5", "--model.ema_decay", "0.9",
    "--model.g_lr_scheduler", "torch.optim.lr_scheduler.StepLR", "--model.g_lr_scheduler.step_size", "1",
    "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "16",
    "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "4",
]  # fmt: skip
#: Tiny DCGAN on 2 processes (gloo): 2 epochs of 3 batches of 8 per process, 2 optimizer steps each. The
#: processes are forked (``gan_ddp_fork``), which spares each run a second start-up of Python, torch and
#: Lightning; ``benchmarks/kill_resume.py --devices 2`` kills runs launched as users do (``gan_ddp``).
DCGAN_DDP = bench.distributed(
    [
        *bench.RUN,
        "--model", "DCGAN", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4",
        "--model.ema_decay", "0.9",
        "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "8",
        "--trainer.max_epochs", "2", "--trainer.limit_train_batches", "3",
    ],
    devices=2,
    strategy="gan_ddp_fork",
)  # fmt: skip


def kill_moments(seed: int, kills: int, last_step: int, sigterms: int = 0) -> list[tuple[int, str]]:
    """``kills + sigterms`` increasing global steps in ``[1, last_step)``, each with a phase: a SIGKILL
    phase of :data:`kill_at_step.PHASES`, all different as far as they go and one of them in a checkpoint
    write, or ``"sigterm"``."""
    rng = random.Random(seed)
    steps = sorted(rng.sample(range(1, last_step), kills + sigterms))
    write = rng.choice(PHASES[2:])
    others = [phase for phase in PHASES if phase != write]
    phases = [write, *rng.sample(others, min(kills - 1, len(others)))]
    phases += [rng.choice(PHASES) for _ in range(kills - len(phases))] + ["sigterm"] * sigterms
    rng.shuffle(phases)
    return list(zip(steps, phases, strict=True))


def environment() -> dict[str, str]:
    """This checkout's gan_zoo and the kill callbacks importable; the run's process group killable."""
    path = os.pathsep.join([str(REPO), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")])
    return {**bench.environment(), "PYTHONPATH": path, GROUP_ENV: "1"}


def killed_run(args: list[str], cwd: Path, step: int, phase: str) -> subprocess.CompletedProcess:
    """A run of ``args`` resuming the one in ``cwd``, with a :class:`kill_at_step.KillAt` callback."""
    kill = {"class_path": "kill_at_step.KillAt", "init_args": {"step": step, "phase": phase}}
    command = bench.command([*args, "--ckpt_path", "last", f"--trainer.callbacks+={json.dumps(kill)}"])
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        start_new_session=True,
        timeout=600,
    )


def kill_and_resume(
    args: list[str], cwd: Path, moments: list[tuple[int, str]], sigterm_args: list[str] | None = None
) -> dict[str, torch.Tensor]:
    """Kill the run in ``cwd`` at each moment in turn, each attempt resuming the last, then resume it to
    the end; the final state (see ``bench.final_state``). ``sigterm_args`` replace ``args`` for the
    attempts that get SIGTERM."""
    resumed_to = 0
    for step, phase in moments:
        result = killed_run(sigterm_args if phase == "sigterm" and sigterm_args else args, cwd, step, phase)
        previous, resumed_to = resumed_to, resume_point(cwd)
        if phase == "sigterm":  # saved after the batch it came in, exited with 128 + SIGTERM
            assert result.returncode == 128 + signal.SIGTERM, result.stderr[-3000:]
            assert f"SIGTERM received: saved {run_directory(cwd)}/checkpoints/last.ckpt" in result.stderr
            # the batch it came in began at global step `step` or `step + 1` and took 1 or 2 steps
            assert step < resumed_to <= step + 3, (step, resumed_to)
            continue
        assert result.returncode == -signal.SIGKILL, f"not killed at {step}/{phase}:\n{result.stderr[-3000:]}"
        # The kill comes at the first chance once global step `step` is reached (a batch may take two);
        # one in a write loses that step's file, one elsewhere nothing.
        assert previous <= resumed_to <= step + 1, (step, phase, resumed_to)
    result = subprocess.run(
        bench.command([*args, "--ckpt_path", "last"]),
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "gan-zoo: resuming from" in result.stderr
    return bench.final_state(cwd)


def run_directory(cwd: Path) -> Path | None:
    """``runs/<model>-<data>/version_N`` of the newest run in ``cwd``, relative to it."""
    runs = list(Path(cwd).glob("runs/*/version_*"))
    newest = max(runs, key=lambda p: int(p.name.split("_")[1]), default=None)
    return newest.relative_to(cwd) if newest else None


def resume_point(cwd: Path) -> int:
    """The global step of the checkpoint ``--ckpt_path last`` would resume from, 0 if none."""
    run = run_directory(cwd)
    found = run_dir.newest_checkpoint(cwd / run / "checkpoints")[0] if run else None
    return torch.load(found, weights_only=True)["global_step"] if found else 0


def uninterrupted_in_process(args: list[str], cwd: Path, monkeypatch) -> dict[str, torch.Tensor]:
    """The reference run, in this process with one thread (the subprocesses' OMP_NUM_THREADS=1)."""
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        main(["fit", *args])
    finally:
        torch.set_num_threads(threads)
    return bench.final_state(cwd)


@pytest.mark.slow
def test_wgan_gp_killed_at_random_moments_resumes_bit_for_bit(tmp_path, monkeypatch):
    expected = uninterrupted_in_process(WGAN_GP, tmp_path / "uninterrupted", monkeypatch)
    assert int(expected["global_step"]) == 14
    moments = kill_moments(seed=0, kills=3, last_step=14)
    (tmp_path / "killed").mkdir()
    resumed = kill_and_resume(WGAN_GP, tmp_path / "killed", moments)
    assert bench.differences(expected, resumed) == [], moments


@pytest.mark.slow
def test_two_processes_killed_at_random_moments_resume_bit_for_bit(tmp_path):
    """Two SIGKILLs and a SIGTERM; the SIGTERM reaches the first process only (the processes agree to
    stop) of a run launched as users launch it, ``gan_ddp``: the first process runs the CLI."""
    (tmp_path / "uninterrupted").mkdir()
    bench.run(DCGAN_DDP, tmp_path / "uninterrupted")
    expected = bench.final_state(tmp_path / "uninterrupted")
    assert int(expected["global_step"]) == 12
    moments = kill_moments(seed=1, kills=2, last_step=11, sigterms=1)
    (tmp_path / "killed").mkdir()
    launched = [arg.replace("gan_ddp_fork", "gan_ddp") for arg in DCGAN_DDP]
    resumed = kill_and_resume(DCGAN_DDP, tmp_path / "killed", moments, sigterm_args=launched)
    assert bench.differences(expected, resumed) == [], moments
