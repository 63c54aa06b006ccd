"""Kill ``gan-zoo fit`` at random moments, resume with ``--ckpt_path last`` after each kill, and check that
the final generator and discriminator (and EMA, optimizers, LR schedulers, schedule state) are
bit-identical to an uninterrupted run's.

    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model dcgan --kills 8 --repeats 3
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model wgan-gp --kills 8 --repeats 3 --seed 1
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model dcgan --devices 2     # 2 processes, gloo
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model dcgan --signal TERM  # save-and-exit path
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model singan --max-delay 1
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model progan
    PYTHONPATH=$PWD python benchmarks/kill_resume.py --model dcgan -- --trainer.max_epochs 6 \
        --trainer.limit_train_batches 1.0 --data.batch_size 64     # extra arguments for every run

Each repetition is one run killed ``--kills`` times: every attempt is killed (SIGKILL to its whole process
group, as when a machine goes away) a random delay after its first checkpoint, so the kill lands
anywhere in training, mid-epoch or not, possibly during a save; the next attempt resumes with
``--ckpt_path last``. After the last kill the run is resumed to its end and compared with the
uninterrupted run. The script prints one line per repetition and a summary; it exits non-zero unless
every repetition is exact.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

#: What every run shares: seeded, deterministic, on the CPU, quiet, a checkpoint after every optimizer step.
RUN = [
    "--seed_everything", "0",
    "--trainer.accelerator", "cpu", "--trainer.deterministic", "true",
    "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    "--checkpoint.every_n_train_steps", "1",
]  # fmt: skip
#: A tiny DCGAN on 16×16 digits, with an EMA generator and a per-epoch LR scheduler.
DCGAN = [
    *RUN,
    "--model", "DCGAN", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4",
    "--model.ema_decay", "0.9",
    "--model.g_lr_scheduler", "torch.optim.lr_scheduler.StepLR", "--model.g_lr_scheduler.step_size", "1",
    "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "32",
    "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "12",
]  # fmt: skip
#: WGAN-GP: DCGAN with the Wasserstein objective, gradient penalty and five critic steps per G step.
WGAN_GP = [
    *DCGAN,
    "--model.loss",
    "wasserstein",
    "--model.regularizers",
    "[gradient_penalty]",
    "--model.n_critic",
    "5",
]
#: SinGAN, whose schedule state is the scale being trained: 2 scales (12² and 16²) of 3 iterations on
#: scikit-image's camera photo, 4 batches per epoch; it stops by itself after the finest scale.
SINGAN = [
    *RUN,
    "--model", "SinGAN", "--model.min_size", "12", "--model.width", "8",
    "--model.iterations_per_scale", "3", "--model.n_critic", "1", "--model.g_steps", "1",
    "--data", "SingleImage", "--data.image", "camera", "--data.max_size", "16", "--data.channels", "1",
    "--data.steps_per_epoch", "4", "--trainer.max_epochs", "-1",
]  # fmt: skip
#: ProGAN, whose schedule state is the stage and fade-in α: 64 images per phase, 4 batches of 16, so
#: the 18 batches run 4×4, the 8×8 fade-in, 8×8 stable, the 16×16 fade-in and half of 16×16 stable.
PROGAN = [
    *RUN,
    "--model", "ProGAN", "--model.latent_dim", "8", "--model.fmap_base", "32", "--model.fmap_max", "8",
    "--model.phase_images", "64", "--model.batch_sizes", "{4: 16, 8: 16, 16: 16}",
    "--model.ema_decay", "0.9",
    "--data", "Digits", "--data.image_size", "16", "--data.batch_size", "16",
    "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "6",
]  # fmt: skip
CONFIGS = {"dcgan": DCGAN, "wgan-gp": WGAN_GP, "singan": SINGAN, "progan": PROGAN}
#: Checkpoint sections holding schedule state, compared like the weights.
SCHEDULE_STATE = ("adversarial_schedule", "progressive_growing", "singan")
#: ``runs/<model>-<data>/version_N``: the CLI's run directories.
RUNS = Path("runs")


def command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "gan_zoo", "fit", *args]


def distributed(args: list[str], devices: int, strategy: str = "gan_ddp") -> list[str]:
    """``args`` for ``devices`` CPU processes (gloo)."""
    if devices == 1:
        return args
    return [*args, "--trainer.devices", str(devices), "--trainer.strategy", strategy]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}


def run(args: list[str], cwd: Path) -> None:
    result = subprocess.run(command(args), cwd=cwd, env=environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"gan-zoo fit failed:\n{result.stderr[-3000:]}")


def checkpoints(cwd: Path) -> list[Path]:
    return list((cwd / RUNS).glob("*/version_*/checkpoints/*.ckpt"))


def newest_write(cwd: Path) -> int:
    """The modification time (ns) of the newest checkpoint in ``cwd``'s runs, 0 if there is none."""
    times = []
    for path in checkpoints(cwd):
        with contextlib.suppress(FileNotFoundError):  # replaced while listing
            times.append(path.lstat().st_mtime_ns)
    return max(times, default=0)


def run_and_kill(args: list[str], cwd: Path, delay: float, sig: signal.Signals = signal.SIGKILL) -> bool:
    """Start a run and send ``sig`` to its process group ``delay`` seconds after its first checkpoint;
    False if the run finished first. With SIGTERM, wait for the run to save and exit by itself."""
    before = newest_write(cwd)
    process = subprocess.Popen(command(args), cwd=cwd, env=environment(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    while process.poll() is None and newest_write(cwd) <= before:
        time.sleep(0.01)
    time.sleep(delay)
    if process.poll() is not None:
        return False
    os.killpg(process.pid, sig)  # every process of the run: a second DDP process would wait forever
    process.wait()
    if sig != signal.SIGKILL and process.returncode != 128 + sig:
        raise RuntimeError(f"a run sent {sig.name} exited with status {process.returncode}")
    return True


def final_state(cwd: Path) -> dict[str, torch.Tensor]:
    """Weights (G, D, EMA, buffers), optimizer tensors and LR scheduler positions of the newest run's
    last checkpoint."""
    newest = max((cwd / RUNS).glob("*/version_*"), key=lambda p: int(p.name.split("_")[1]))
    checkpoint = torch.load(newest / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    state = {f"model.{k}": v for k, v in checkpoint["state_dict"].items()}
    for i, optimizer in enumerate(checkpoint["optimizer_states"]):
        for p, slots in optimizer["state"].items():
            state.update({f"opt{i}.{p}.{k}": v for k, v in slots.items() if torch.is_tensor(v)})
    for i, scheduler in enumerate(checkpoint["lr_schedulers"]):
        state[f"lr_scheduler{i}.last_epoch"] = torch.tensor(scheduler["last_epoch"])
        state[f"lr_scheduler{i}.lr"] = torch.tensor(scheduler["_last_lr"])
    for section in SCHEDULE_STATE:  # the n_critic phase, ProGAN's stage and α, SinGAN's scale
        for key, value in checkpoint.get(section, {}).items():
            state[f"{section}.{key}"] = torch.tensor(value)
    state["global_step"] = torch.tensor(checkpoint["global_step"])
    return state


def resume_point(cwd: Path) -> int:
    """The global step ``--ckpt_path last`` resumes the newest run in ``cwd`` from (0: from scratch)."""
    from gan_zoo.run_dir import newest_checkpoint

    newest = max((cwd / RUNS).glob("*/version_*"), key=lambda p: int(p.name.split("_")[1]))
    found, _ = newest_checkpoint(newest / "checkpoints")
    return torch.load(found, map_location="cpu", weights_only=True)["global_step"] if found else 0


def differences(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    if a.keys() != b.keys():
        return sorted(a.keys() ^ b.keys())
    return [k for k in a if not torch.equal(a[k], b[k])]


def reference(args: list[str], workdir: Path) -> dict[str, torch.Tensor]:
    cwd = workdir / "reference"
    cwd.mkdir()
    run(args, cwd)
    return final_state(cwd)


def trial(
    args: list[str],
    cwd: Path,
    delays: list[float],
    expected: dict[str, torch.Tensor],
    sig: signal.Signals = signal.SIGKILL,
) -> tuple[list[int], list[str]]:
    """Kill one run after each delay in turn (each attempt resuming the last), then resume it to the end:
    the global steps resumed from and the tensors that differ from ``expected``."""
    cwd.mkdir()
    resumed_from: list[int] = []
    for k, delay in enumerate(delays):
        if not run_and_kill([*args, "--ckpt_path", "last"] if k else args, cwd, delay, sig):
            break  # it finished before this kill
        resumed_from.append(resume_point(cwd))
    return resumed_from, resume(args, cwd, expected)


def resume(args: list[str], cwd: Path, expected: dict[str, torch.Tensor]) -> list[str]:
    """Resume the run in ``cwd`` with ``--ckpt_path last`` to its end: the tensors that differ from
    ``expected``."""
    run([*args, "--ckpt_path", "last"], cwd)
    return differences(expected, final_state(cwd))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), default="dcgan")
    parser.add_argument("--kills", type=int, default=8, help="kills in each repetition")
    parser.add_argument("--repeats", type=int, default=3, help="runs, each killed --kills times")
    parser.add_argument(
        "--max-delay", type=float, default=2.0, help="seconds after an attempt's first checkpoint"
    )
    parser.add_argument("--seed", type=int, default=0, help="of the delays")
    parser.add_argument("--devices", type=int, default=1, help="CPU processes (gloo) per run")
    parser.add_argument("--signal", choices=["KILL", "TERM"], default="KILL")
    parser.add_argument("extra", nargs="*", help="more gan-zoo fit arguments, after --")
    options = parser.parse_args()
    args = distributed([*CONFIGS[options.model], *options.extra], options.devices)
    rng, sig = random.Random(options.seed), signal.Signals[f"SIG{options.signal}"]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        expected = reference(args, workdir)
        steps = int(expected["global_step"])
        print(f"reference run: {time.perf_counter() - start:.1f} s, global_step {steps}", flush=True)
        exact = 0
        for r in range(options.repeats):
            delays = [rng.uniform(0.0, options.max_delay) for _ in range(options.kills)]
            resumed_from, diff = trial(args, workdir / f"repeat{r}", delays, expected, sig)
            exact += not diff
            verdict = "exact" if not diff else f"DIFFERS in {diff[:3]}"
            print(
                f"repeat {r + 1}: {len(resumed_from)} SIG{options.signal}s, resumed from global steps "
                f"{resumed_from}: {verdict}",
                flush=True,
            )
        print(
            f"{exact}/{options.repeats} runs bit-identical to the uninterrupted one ({options.model}, "
            f"{options.devices} process{'es' if options.devices > 1 else ''}, {options.kills} kills each)"
        )
    return 0 if exact == options.repeats else 1


if __name__ == "__main__":
    sys.exit(main())
