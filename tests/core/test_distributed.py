"""Data-parallel training: 2 CPU processes (gloo) reach the weights of 1 process on the same global batch.

How the comparison is made exact:

* randomness is sharded, not duplicated: each step draws the latents, fake labels and the gradient
  penalty's mixing weights of the *global* batch from a per-step seed, and each process keeps its
  slice (:class:`ShardedNoise`); the data module gives process r the r-th slice of every global batch;
* float64 (``precision="64-true"``) so that the only difference — the order in which per-process
  gradients are summed — stays at rounding level, and SGD so that a wrongly scaled gradient (a sum
  instead of a mean) would show (Adam would hide it: its update is invariant to the gradient's scale);
* batch norm normalizes each process's batch with that batch's statistics (no SyncBatchNorm on CPU),
  so the 1-process reference of a batch-norm model runs its networks on the two halves of the batch
  separately (:class:`Halves`, "ghost batch norm") — exactly what 2 processes compute. A model without
  batch statistics (CGAN, dropout off) is compared with the plain 1-process run.

Tolerance: 1e-9 absolute on every parameter after the steps, against parameter changes of order 1e-2;
the negative control shows a run that sees only one process's half of the batch misses by far more.
"""

from __future__ import annotations

import atexit
import copy
import functools
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.strategies import DDPStrategy, FSDPStrategy
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from gan_zoo.core import AdversarialDDPStrategy
from gan_zoo.core.distributed import prepare_for_distributed
from gan_zoo.data import Digits
from gan_zoo.losses import GradientPenalty
from gan_zoo.models import CGAN, DCGAN

GLOBAL_BATCH = 16
TOLERANCE = 1e-9


# ---------------------------------------------------------------- test doubles (module level: picklable)
class ShardedNoise:
    """Mixin: each training step's random draws are those of the global batch, sliced per process."""

    def training_step(self, batch, batch_idx):
        self.step_seed = 1000 + 10 * batch_idx
        return super().training_step(batch, batch_idx)

    def _global_slice(self, draw, n: int) -> Tensor:
        world, rank = self.trainer.world_size, self.global_rank
        return draw(n * world)[rank * n : (rank + 1) * n].to(self.device)

    def sample_latent(self, n, *, truncation=None, generator=None):
        seeded = torch.Generator().manual_seed(self.step_seed)
        return self._global_slice(lambda m: torch.randn(m, self.latent_dim, generator=seeded), n)

    def sample_labels(self, n, *, generator=None):
        if not self.conditional:
            return None
        seeded = torch.Generator().manual_seed(self.step_seed + 1)
        return self._global_slice(lambda m: torch.randint(self.num_classes, (m,), generator=seeded), n)


class ShardedGradientPenalty(GradientPenalty):
    """The library's gradient penalty, with ε of process r equal to the r-th slice of the global ε.

    ``torch.rand`` on the CPU fills values one after another (checked by
    :func:`test_cpu_rand_fills_sequentially`), so skipping the earlier processes' share reproduces it.
    """

    def penalty(self, module, step):
        n = step.real.shape[0]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(module.step_seed + 2)
            torch.rand(n * module.global_rank, dtype=step.real.dtype)
            return super().penalty(module, step)


class ShardedDCGAN(ShardedNoise, DCGAN):
    pass


class ShardedCGAN(ShardedNoise, CGAN):
    pass


class Halves(nn.Module):
    """Runs ``module`` on each half of the batch, as two processes with batch norm would."""

    def __init__(self, module: nn.Module, parts: int = 2) -> None:
        super().__init__()
        self.module, self.parts = module, parts

    def forward(self, *inputs: Tensor) -> Tensor:
        pieces = zip(*(x.chunk(self.parts) for x in inputs), strict=True)
        return torch.cat([self.module(*piece) for piece in pieces])


class ShardedBatches(pl.LightningDataModule):
    """Fixed global batches in order; process r gets rows [r·B, (r+1)·B) of each, B = global / world."""

    def __init__(self, images: Tensor, labels: Tensor, global_batch: int, world_size: int) -> None:
        super().__init__()
        self.images, self.labels = images, labels
        self.global_batch, self.world_size = global_batch, world_size

    def train_dataloader(self) -> DataLoader:
        rank = self.trainer.global_rank if self.trainer else 0
        per_process = self.global_batch // self.world_size
        rows = torch.arange(self.images.shape[0]).view(-1, self.global_batch)
        mine = rows[:, rank * per_process : (rank + 1) * per_process].reshape(-1)
        return DataLoader(TensorDataset(self.images[mine], self.labels[mine]), batch_size=per_process)


class SaveEveryProcessParameters(pl.Callback):
    """Writes the parameters of every process (gathered on rank 0) to ``path`` when training ends, and
    next to it each process's own mean D loss of the epoch with the one that was logged."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_end(self, trainer, pl_module):
        flat = torch.cat([p.detach().reshape(-1) for p in pl_module.parameters()])
        gathered = trainer.strategy.all_gather(flat)
        own_mean = trainer.strategy.all_gather(pl_module.training_log.means()["train/d_loss"])
        if trainer.is_global_zero:
            torch.save(gathered, self.path)
            logged = trainer.callback_metrics["train/d_loss_epoch"]
            torch.save({"per_process": own_mean, "logged": logged}, losses_path(self.path))


def losses_path(parameters_path: Path) -> Path:
    return parameters_path.with_suffix(".losses.pt")


class SaveFirstLatents(pl.Callback):
    """Writes the latents each process draws first (gathered on rank 0)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_start(self, trainer, pl_module):
        gathered = trainer.strategy.all_gather(pl_module.sample_latent(4))
        if trainer.is_global_zero:
            torch.save(gathered, self.path)


# ---------------------------------------------------------------- helpers
def real_batches(batches: int) -> tuple[Tensor, Tensor]:
    data = Digits(image_size=16).make_dataset("train")
    n = batches * GLOBAL_BATCH
    return data.images[:n].double().div(127.5).sub(1.0), data.labels[:n]


def fit(model, batches: int, *, devices=1, strategy="auto", save_to: Path | None = None, shards=None):
    """Train on ``batches`` global batches; ``shards=2`` with 1 device trains on rank 0's halves only."""
    images, labels = real_batches(batches)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy=strategy,
        precision="64-true",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        callbacks=[SaveEveryProcessParameters(save_to)] if save_to else [],
    )
    trainer.fit(model, datamodule=ShardedBatches(images, labels, GLOBAL_BATCH, shards or devices))
    return model


def flat(model: pl.LightningModule) -> Tensor:
    """G's and D's parameters in one vector (``Halves`` adds no parameters and keeps their order)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _sgd(lr: float = 0.05) -> dict:
    sgd = functools.partial(torch.optim.SGD, lr=lr)
    return {"g_optimizer": sgd, "d_optimizer": sgd}


def build(case: str) -> pl.LightningModule:
    torch.manual_seed(0)
    if case == "dcgan":
        return ShardedDCGAN(image_shape=(1, 16, 16), latent_dim=8, g_width=4, d_width=4, **_sgd())
    if case == "wgan_gp":
        return ShardedDCGAN(
            image_shape=(1, 16, 16),
            latent_dim=8,
            g_width=4,
            d_width=4,
            loss="wasserstein",
            regularizers=[ShardedGradientPenalty()],
            n_critic=5,
            **_sgd(lr=1e-3),  # the unbounded critic loss diverges at larger SGD steps
        )
    return ShardedCGAN(image_shape=(1, 16, 16), num_classes=10, latent_dim=8, dropout=0.0)


#: case -> (batches, whether its 1-process reference needs per-half batch statistics)
CASES = {"dcgan": (3, True), "wgan_gp": (6, True), "cgan": (3, False)}  # wgan_gp: 6 critic steps, 1 G step
JOBS = [("dcgan", "gan_ddp"), ("wgan_gp", "gan_ddp"), ("cgan", "gan_ddp"), ("wgan_gp", "ddp")]


def reference(model: pl.LightningModule, halves: bool) -> pl.LightningModule:
    model = copy.deepcopy(model)
    if halves:
        model.generator, model.discriminator = Halves(model.generator), Halves(model.discriminator)
    return model


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_worker(rank: int, world_size: int, port: int, out: Path) -> None:
    """One of the processes ``torchrun --nproc-per-node 2`` would start: Lightning reads its rank from
    the environment and launches nothing itself. Runs every job in the same 2-process group."""
    os.environ.update(
        TORCHELASTIC_RUN_ID="gan-zoo-test",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        GROUP_RANK="0",
    )
    torch.set_num_threads(1)
    for case, strategy in JOBS:
        fit(
            build(case),
            CASES[case][0],
            devices=world_size,
            strategy=strategy,
            save_to=out / f"{case}-{strategy}.pt",
        )
    # An ordinary model (no sharded noise): what does each process draw?
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=world_size,
        strategy="gan_ddp",
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[SaveFirstLatents(out / "latents.pt")],
    )
    model = DCGAN(image_shape=(1, 16, 16), latent_dim=8, g_width=4, d_width=4)
    trainer.fit(model, datamodule=Digits(image_size=16, batch_size=8))

    # A parameter with a gradient on rank 0 only, one with none anywhere.
    used_here, unused = nn.Parameter(torch.zeros(3)), nn.Parameter(torch.zeros(3))
    used_here.grad = torch.full((3,), 4.0) if rank == 0 else None
    trainer.strategy.find_unused_parameters = True
    trainer.strategy.average_gradients([used_here, unused])
    if rank == 0:
        torch.save({"used_here": used_here.grad, "unused": unused.grad}, out / "unused.pt")


@pytest.fixture(scope="module")
def two_process_runs(tmp_path_factory) -> Path:
    """Every job of ``JOBS`` trained by 2 CPU processes (gloo), spawned once for all of them."""
    out = tmp_path_factory.mktemp("ddp")
    torch.multiprocessing.spawn(_torchrun_worker, args=(2, _free_port(), out), nprocs=2)
    return out


def assert_matches_one_process(case: str, saved: Path) -> None:
    batches, halves = CASES[case]
    model = build(case)
    expected = flat(fit(reference(model, halves), batches))
    processes = torch.load(saved)  # [2, P]: each process's float64 parameters at the end
    moved = (expected - flat(model).double()).abs().max().item()
    assert moved > 1e-3, "the updates must be large enough for the comparison to mean something"
    assert (processes[0] - expected).abs().max().item() < TOLERANCE
    assert torch.equal(processes[1], processes[0]), "every process must hold the same weights"

    # Negative control: a process training alone on its half of each batch ends far away.
    alone = flat(fit(reference(model, halves=False), batches, shards=2))
    assert (alone - expected).abs().max().item() > 1e4 * TOLERANCE


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny float64 networks: intra-op threads only add waiting, badly so on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- tests
def test_cpu_rand_fills_sequentially():
    torch.manual_seed(5)
    whole = torch.rand(24, dtype=torch.float64)
    torch.manual_seed(5)
    torch.rand(16, dtype=torch.float64)
    assert torch.equal(torch.rand(8, dtype=torch.float64), whole[16:])


@pytest.mark.parametrize(("case", "strategy"), JOBS)
def test_two_processes_match_one_process(case, strategy, two_process_runs):
    # strategy "ddp" is Lightning's own DDPStrategy, which AdversarialModule switches to
    # find_unused_parameters=True; "gan_ddp" averages per optimizer step.
    assert_matches_one_process(case, two_process_runs / f"{case}-{strategy}.pt")


@pytest.mark.parametrize(("case", "strategy"), JOBS)
def test_epoch_means_are_averaged_over_the_processes(case, strategy, two_process_runs):
    losses = torch.load(losses_path(two_process_runs / f"{case}-{strategy}.pt"))
    first, second = losses["per_process"].tolist()
    assert first != second  # each process trained on its own half of every batch
    assert losses["logged"].item() == pytest.approx((first + second) / 2, rel=1e-12)


def test_each_process_draws_its_own_latents(two_process_runs):
    # Lightning seeds every process alike; without the per-rank offset both halves of the global
    # batch of fakes would be the same images.
    latents = torch.load(two_process_runs / "latents.pt")  # [2, 4, latent_dim]
    assert not torch.equal(latents[0], latents[1])


def test_find_unused_parameters_averages_with_zeros_and_keeps_none(two_process_runs):
    grads = torch.load(two_process_runs / "unused.pt")
    assert torch.equal(grads["used_here"], torch.full((3,), 2.0))  # (4 + 0) / 2
    assert grads["unused"] is None


def test_spawn_launched_by_lightning(tmp_path):
    """``strategy="gan_ddp_spawn"``: Lightning starts the two processes itself."""
    batches, _ = CASES["dcgan"]
    fit(build("dcgan"), batches, devices=2, strategy="gan_ddp_spawn", save_to=tmp_path / "dcgan.pt")
    assert_matches_one_process("dcgan", tmp_path / "dcgan.pt")


def test_strategy_is_registered_and_rejects_ddp_wrapper_options():
    from pytorch_lightning.strategies import StrategyRegistry

    assert StrategyRegistry["gan_ddp"]["strategy"] is AdversarialDDPStrategy
    assert StrategyRegistry["gan_ddp_spawn"]["init_params"] == {"start_method": "spawn"}
    with pytest.raises(ValueError, match="static_graph"):
        AdversarialDDPStrategy(static_graph=True)


def test_the_ddp_layer_trains_from_the_cli(tmp_path):
    """``experiments/_base/ddp.yaml`` as a user runs it (on CPU): Lightning starts the second process
    itself (``gan_ddp``), with sample grids, checkpoints, validation and the rich progress bar. A
    collective that one process skips (``trainer.log_dir`` on rank 0 only) hangs here."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    tiny = ["--model", "DCGAN", "--model.latent_dim", "8", "--model.g_width", "4", "--model.d_width", "4"]
    data = [
        "--data",
        "Digits",
        "--data.image_size",
        "16",
        "--data.batch_size",
        "16",
        "--data.val_split",
        "0.1",
    ]
    trainer = ["--trainer.accelerator", "cpu", "--trainer.devices", "2", "--trainer.max_epochs", "2"]
    trainer += ["--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "2"]
    layer = str(Path(__file__).resolve().parents[2] / "experiments" / "_base" / "ddp.yaml")
    command = [sys.executable, "-m", "gan_zoo", "fit", "--config", layer, *tiny, *data, *trainer]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    run = tmp_path / "runs" / "dcgan-digits" / "version_0"
    assert (run / "samples" / "epoch=0000.png").is_file() and (run / "samples" / "epoch=0001.png").is_file()
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert checkpoint["adversarial_schedule"] == {"d_steps": 6, "g_steps": 6}
    (events,) = run.glob("events.out.tfevents.*")
    scalars = EventAccumulator(str(events)).Reload().Tags()["scalars"]
    assert {"val/d_loss", "val/g_loss", "train/d_loss_epoch"} <= set(scalars)


def fake_trainer(strategy, world_size: int = 2, rank: int = 1):
    return SimpleNamespace(strategy=strategy, world_size=world_size, global_rank=rank)


def test_plain_ddp_is_made_gan_safe_and_processes_are_reseeded():
    strategy = DDPStrategy()
    torch.manual_seed(41)
    prepare_for_distributed(fake_trainer(strategy, rank=1))
    assert strategy._ddp_kwargs["find_unused_parameters"] is True
    assert torch.initial_seed() == 42


def test_a_multi_process_run_destroys_its_process_group_at_exit(monkeypatch):
    """Lightning does this for NCCL only; a gloo group left to interpreter teardown can abort the process."""
    from gan_zoo.core import distributed

    registered: list = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", lambda f: registered.remove(f) if f in registered else None)
    with torch.random.fork_rng():
        for _ in range(2):  # a process that runs two fits registers the handler once
            prepare_for_distributed(fake_trainer(AdversarialDDPStrategy()))
    assert registered == [distributed._destroy_process_group]

    torch.distributed.init_process_group("gloo", store=torch.distributed.HashStore(), rank=0, world_size=1)
    distributed._destroy_process_group()
    assert not torch.distributed.is_initialized()
    distributed._destroy_process_group()  # and does nothing when there is no group


def test_single_process_is_left_alone():
    torch.manual_seed(41)
    prepare_for_distributed(fake_trainer(DDPStrategy(), world_size=1, rank=0))
    assert torch.initial_seed() == 41


def test_fsdp_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"do not support FSDP.*gan_ddp"):
        prepare_for_distributed(fake_trainer(FSDPStrategy()))


def test_gradient_buckets_respect_size_and_dtype():
    from gan_zoo.core.distributed import _buckets

    tensors = [torch.zeros(10), torch.zeros(10), torch.zeros(30), torch.zeros(5, dtype=torch.float64)]
    buckets = _buckets(tensors, max_bytes=80)
    assert [[t.numel() for t in b] for b in buckets] == [[10, 10], [30], [5]]
