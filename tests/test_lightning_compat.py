"""gan_zoo under both Lightning packages, and the Lightning internals it relies on.

Every model, data module and callback must work with ``pytorch_lightning.Trainer`` and with the
unified package's ``lightning.pytorch.Trainer`` (see :mod:`gan_zoo.lightning_compat`). The tests of
the internals fail when Lightning changes what gan_zoo relies on.
"""

from __future__ import annotations

import pytest
import pytorch_lightning as pl
import torch
from conftest import build_tiny, tiny_data

import gan_zoo
from gan_zoo import lightning_compat as compat
from gan_zoo.callbacks import AtomicModelCheckpoint, DivergenceGuard, RandomState, SampleGrid
from gan_zoo.models import MODELS

L = pytest.importorskip("lightning.pytorch")

TRAINERS = {"pytorch_lightning": pl.Trainer, "lightning.pytorch": L.Trainer}


def quiet_trainer(package: str, tmp_path, **overrides) -> object:
    options = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(tmp_path),
        **overrides,
    }
    return TRAINERS[package](**options)


@pytest.mark.parametrize("package", TRAINERS)
@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_fits_two_steps_under_both_packages(name, package, tmp_path):
    model, data = build_tiny(name), tiny_data(name)
    before = {key: value.clone() for key, value in model.state_dict().items()}
    trainer = quiet_trainer(package, tmp_path, max_steps=2)
    trainer.fit(model, datamodule=data)
    assert trainer.global_step == 2
    assert model.updates["discriminator"] >= 1 and model.updates["generator"] >= 1
    for network in ("generator", "discriminator"):
        prefix = f"{network}."
        assert any(
            not torch.equal(value, before[key])
            for key, value in model.state_dict().items()
            if key.startswith(prefix)
        ), f"{name}: no {network} weight changed under {package}"


@pytest.mark.parametrize("package", TRAINERS)
def test_callbacks_and_checkpoints_under_both_packages(package, tmp_path, digits):
    checkpoints = AtomicModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True)
    grid = SampleGrid()
    trainer = quiet_trainer(
        package,
        tmp_path,
        max_epochs=1,
        limit_train_batches=3,
        enable_checkpointing=True,
        callbacks=[checkpoints, grid, RandomState(), DivergenceGuard()],
    )
    model = build_tiny("DCGAN")
    trainer.fit(model, datamodule=digits)
    last = tmp_path / "checkpoints" / "last.ckpt"
    assert last.is_file() and grid.last_path is not None and grid.last_path.is_file()
    for loaded in (gan_zoo.load_model(last), type(model).load_from_checkpoint(last, weights_only=True)):
        state = loaded.state_dict()
        assert all(torch.equal(state[key], value) for key, value in model.state_dict().items())


@pytest.mark.parametrize("package", TRAINERS)
def test_resume_under_both_packages(package, tmp_path, digits):
    checkpoints = AtomicModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True)
    first = quiet_trainer(
        package,
        tmp_path,
        max_epochs=1,
        limit_train_batches=2,
        enable_checkpointing=True,
        callbacks=[checkpoints],
    )
    first.fit(build_tiny("WGANGP", n_critic=2), datamodule=digits)
    resumed_model = build_tiny("WGANGP", n_critic=2)
    second = quiet_trainer(package, tmp_path, max_epochs=2, limit_train_batches=2)
    second.fit(resumed_model, datamodule=digits, ckpt_path=str(tmp_path / "checkpoints" / "last.ckpt"))
    assert resumed_model.updates == {"discriminator": 4, "generator": 2}


def test_each_trainer_sees_its_own_defaults_as_not_overridden(digits, tmp_path):
    """Lightning asks 'is this hook overridden?' by comparing code with its own package's default;
    the bases answer each package with that package's method."""
    from lightning.pytorch.utilities.model_helpers import is_overridden as unified_is_overridden
    from pytorch_lightning.utilities.model_helpers import is_overridden

    for package, check in (
        ("lightning.pytorch", unified_is_overridden),
        ("pytorch_lightning", is_overridden),
    ):
        model = build_tiny("DCGAN")
        quiet_trainer(package, tmp_path, max_steps=1).fit(model, datamodule=digits)
        assert check("training_step", model) and check("validation_step", model)
        assert not check("configure_sharded_model", model) and not check("on_fit_start", model)
        assert not check("predict_dataloader", digits)


def test_gan_strategy_is_registered_in_both_packages():
    assert isinstance(pl.strategies.StrategyRegistry.get("gan_ddp"), pl.strategies.DDPStrategy)
    assert isinstance(L.strategies.StrategyRegistry.get("gan_ddp"), L.strategies.DDPStrategy)


# ---------------------------------------------------------------------------------------------- internals
def test_saved_hyperparameters_are_the_resolved_arguments():
    model = MODELS.get("WGANGP")(image_shape=(1, 16, 16), g_width=8)
    assert model.hparams["g_width"] == 8 and model.hparams["n_critic"] == 5
    assert model.hparams["regularizers"] == ["gradient_penalty"] and model.hparams["d_norm"] == "layer"
    assert "g_optimizer" not in model.hparams  # callables are not hyperparameters


def test_step_logs_are_written_every_log_every_n_steps_batches(digits, tmp_path):
    """should_write_step_logs reads Lightning's private logger connector: with log_every_n_steps=3 it
    must be true after batches 3 and 6 of 7, as Lightning documents."""
    written: list[int] = []

    class Probe(compat.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if compat.should_write_step_logs(trainer):
                written.append(batch_idx)

    trainer = pl.Trainer(
        accelerator="cpu", max_epochs=1, limit_train_batches=7, log_every_n_steps=3,
        logger=pl.loggers.CSVLogger(tmp_path), enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, callbacks=[Probe()],
    )  # fmt: skip
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    assert written == [2, 5]


def test_find_unused_parameters_is_switched_on_for_plain_ddp():
    strategy = pl.strategies.DDPStrategy()
    assert compat.enable_find_unused_parameters(strategy)
    assert compat.ddp_options(strategy)["find_unused_parameters"] is True
    assert not compat.enable_find_unused_parameters(strategy)  # already on
