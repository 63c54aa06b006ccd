"""The Lightning behaviours gan_zoo works around for an exact resume from step and time checkpoints.

Each ``test_lightning_*`` test pins the upstream behaviour with Lightning's own ``ModelCheckpoint``; it
fails once Lightning changes it, to say that the workaround in ``gan_zoo/lightning_compat.py`` it names
may go. The other tests check the workaround through :class:`~gan_zoo.callbacks.AtomicModelCheckpoint`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytorch_lightning as pl
import torch
from conftest import LOADER_COUNTERS, build_tiny, make_trainer
from pytorch_lightning.callbacks import ModelCheckpoint

from gan_zoo.callbacks import AtomicModelCheckpoint, RandomState
from gan_zoo.data import Digits

BATCHES = 3  # per epoch; DCGAN makes 2 optimizer steps per batch, so an epoch's last batch ends at step 6


def fit(directory: Path, checkpoint: ModelCheckpoint, ckpt_path: Path | None = None) -> pl.Trainer:
    """Tiny DCGAN, 3 epochs of 3 batches, deterministic."""
    pl.seed_everything(0, verbose=False)
    trainer = make_trainer(
        directory,
        max_epochs=3,
        limit_train_batches=BATCHES,
        deterministic=True,
        callbacks=[checkpoint, RandomState()],
        enable_checkpointing=True,
    )
    trainer.fit(build_tiny("DCGAN"), datamodule=Digits(image_size=16, batch_size=16), ckpt_path=ckpt_path)
    return trainer


def every_step(cls: type[ModelCheckpoint], directory: Path, **options) -> ModelCheckpoint:
    return cls(directory, "{step}", save_top_k=-1, **({"every_n_train_steps": 1} | options))


def fit_loop_state(path: Path) -> dict:
    """The fit loop's state without the data loader's counters of batches since its iterator was
    created (a resumed run creates its own; the sampler's position is kept and compared)."""
    state = torch.load(path, weights_only=True)["loops"]["fit_loop"]
    for loader in state["state_dict"].get("combined_loader", []):
        for counter in LOADER_COUNTERS:
            loader.pop(counter, None)
            loader.get("_sampler_iter_state", {}).pop(counter, None)
    return state


def test_lightning_saves_a_batch_end_checkpoint_with_its_batch_unfinished(tmp_path):
    """Lightning issue 19815: ``completed`` is counted after ``on_train_batch_end``, where step
    checkpoints are written, so the file says the batch it was written after has not completed."""
    fit(tmp_path, every_step(ModelCheckpoint, tmp_path))
    batches = fit_loop_state(tmp_path / "step=2.ckpt")["epoch_loop.batch_progress"]["total"]
    assert (batches["processed"], batches["completed"]) == (1, 0)


def test_lightning_skips_the_next_epoch_start_after_resuming_from_an_epochs_last_batch(tmp_path):
    """What ``start_epoch_after_resume_from_last_batch`` repairs: resumed from the checkpoint after
    epoch 0's last batch, Lightning alone never counts epoch 1 as ready and started, so the epoch
    progress of epoch 1's checkpoints reads as a finished epoch (ready == processed == 1); resumed
    again from epoch 1's last batch, it trains epoch 1 a second time."""
    fit(tmp_path / "reference", every_step(ModelCheckpoint, tmp_path / "reference"))
    last_batch = tmp_path / "reference" / f"step={2 * BATCHES}.ckpt"
    assert fit_loop_state(last_batch)["epoch_loop.batch_progress"]["is_last_batch"]
    fit(tmp_path / "resumed", every_step(ModelCheckpoint, tmp_path / "resumed"), ckpt_path=last_batch)
    step = f"step={2 * BATCHES + 2}.ckpt"  # epoch 1, batch 0
    expected = fit_loop_state(tmp_path / "reference" / step)["epoch_progress"]["total"]
    drifted = fit_loop_state(tmp_path / "resumed" / step)["epoch_progress"]["total"]
    assert (expected["ready"], expected["processed"]) == (2, 1)
    assert (drifted["ready"], drifted["processed"]) == (1, 1)
    second = tmp_path / "resumed" / f"step={4 * BATCHES}.ckpt"
    again = fit(tmp_path / "again", every_step(ModelCheckpoint, tmp_path / "again"), ckpt_path=second)
    assert again.global_step == 6 * BATCHES + 2 * BATCHES


def test_resumed_from_an_epochs_last_batch_the_loops_go_on_as_uninterrupted(tmp_path):
    """With AtomicModelCheckpoint every later checkpoint holds the uninterrupted run's loop state, and
    a second resume, from epoch 1's last batch of the resumed run, does not train an epoch twice."""
    reference = fit(tmp_path / "reference", every_step(AtomicModelCheckpoint, tmp_path / "reference"))
    first = tmp_path / "reference" / f"step={2 * BATCHES}.ckpt"
    fit(tmp_path / "resumed", every_step(AtomicModelCheckpoint, tmp_path / "resumed"), ckpt_path=first)
    for step in range(2 * BATCHES + 2, 6 * BATCHES + 1, 2):
        name = f"step={step}.ckpt"
        assert fit_loop_state(tmp_path / "resumed" / name) == fit_loop_state(tmp_path / "reference" / name)
    second = tmp_path / "resumed" / f"step={4 * BATCHES}.ckpt"
    again = fit(tmp_path / "again", every_step(AtomicModelCheckpoint, tmp_path / "again"), ckpt_path=second)
    assert again.global_step == reference.global_step == 6 * BATCHES
    weights = reference.lightning_module.state_dict(), again.lightning_module.state_dict()
    assert [name for name in weights[0] if not torch.equal(weights[0][name], weights[1][name])] == []


def test_lightning_writes_no_time_interval_checkpoint_under_manual_optimization(tmp_path):
    """Pull request 21699: the manual-optimization branch of ``ModelCheckpoint.on_train_batch_end``
    ignores ``train_time_interval``, so a GAN gets no checkpoint while it trains."""
    fit(
        tmp_path,
        every_step(ModelCheckpoint, tmp_path, every_n_train_steps=None, train_time_interval=timedelta(0)),
    )
    assert sorted(p.name for p in tmp_path.glob("*.ckpt")) == []


def test_time_interval_checkpoints_are_written_for_a_gan(tmp_path):
    """``as_automatic_optimization``: with an interval of 0 s a checkpoint follows every batch."""
    options = {"every_n_train_steps": None, "train_time_interval": timedelta(0)}
    fit(tmp_path, every_step(AtomicModelCheckpoint, tmp_path, **options))
    written = sorted(int(p.stem.split("=")[1]) for p in tmp_path.glob("step=*.ckpt"))
    assert written == list(range(2, 6 * BATCHES + 1, 2))
