"""DivergenceGuard: non-finite updates are skipped and counted; persistent ones stop training clearly."""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from conftest import make_trainer

from gan_zoo.callbacks import AtomicModelCheckpoint, DivergenceError, DivergenceGuard
from gan_zoo.checkpoints import read_checkpoint
from gan_zoo.models import DCGAN

NAN_STEPS: set[int] = set()


class PoisonedDCGAN(DCGAN):
    """DCGAN whose D loss is NaN on the D updates listed in ``poisoned``."""

    def __init__(self, poisoned: tuple[int, ...] = ()) -> None:
        super().__init__(image_shape=(1, 16, 16), num_classes=10, latent_dim=8, g_width=8, d_width=8)
        self.poisoned = set(poisoned)

    def discriminator_step(self, step):
        terms = super().discriminator_step(step)
        if self.updates["discriminator"] in self.poisoned:
            terms["loss"] = terms["loss"] * float("nan")
        return terms


class Snapshots(pl.Callback):
    """D's weights and Adam moments after every batch."""

    def __init__(self) -> None:
        self.weights: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        d_opt = trainer.optimizers[1]
        moments = [s["exp_avg"].clone() for s in d_opt.state.values()]
        self.weights.append({"params": [p.detach().clone() for p in pl_module.discriminator.parameters()],
                             "moments": moments})  # fmt: skip


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_nan_update_is_skipped_and_counted(tmp_path, digits):
    guard, snapshots = DivergenceGuard(max_consecutive=3), Snapshots()
    model = PoisonedDCGAN(poisoned=(1,))  # the second D update
    make_trainer(tmp_path, callbacks=[guard, snapshots], limit_train_batches=3).fit(model, datamodule=digits)
    before, poisoned, after = snapshots.weights
    assert same(before["params"], poisoned["params"]) and same(before["moments"], poisoned["moments"])
    assert not same(poisoned["params"], after["params"])  # training went on
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert guard.skipped == {"generator": 0, "discriminator": 1}
    assert guard.consecutive == {"generator": 0, "discriminator": 0}


def test_persistent_nans_stop_training_and_keep_the_last_good_checkpoint(tmp_path, digits):
    checkpoint = AtomicModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True, every_n_train_steps=1)
    model = PoisonedDCGAN(poisoned=tuple(range(2, 100)))
    trainer = make_trainer(
        tmp_path,
        callbacks=[DivergenceGuard(max_consecutive=3), checkpoint],
        enable_checkpointing=True,
        limit_train_batches=10,
    )
    with pytest.raises(DivergenceError, match=r"3 consecutive discriminator updates .* global step \d+"):
        trainer.fit(model, datamodule=digits)
    saved = read_checkpoint(tmp_path / "ckpt" / "last.ckpt")
    assert all(torch.isfinite(t).all() for t in saved["state_dict"].values() if t.is_floating_point())
    assert saved["callbacks"]["DivergenceGuard"]["skipped"]["discriminator"] >= 1


def test_disabled_guard_lets_nan_through(tmp_path, digits):
    model = PoisonedDCGAN(poisoned=(0,))
    make_trainer(tmp_path, callbacks=[DivergenceGuard(enabled=False)], limit_train_batches=1).fit(
        model, datamodule=digits
    )
    assert not all(torch.isfinite(p).all() for p in model.discriminator.parameters())
