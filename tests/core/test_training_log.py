"""``TrainingLog``: running means on the device, and loggers that receive what ``self.log`` would send."""

from __future__ import annotations

import types

import pytest
import torch
from conftest import build_tiny, tiny_data
from pytorch_lightning.loggers import Logger

from gan_zoo.core.training_log import TrainingLog
from gan_zoo.models import MODELS

# Values some models report per step as they are (not averaged).
STEP_VALUES = {"ProGAN": {"train/resolution", "train/alpha"}, "SinGAN": {"train/scale"}}


def test_means_are_weighted_by_batch_size():
    log = TrainingLog()
    log.update({"a": torch.tensor(1.0), "b": torch.tensor(2.0)}, batch_size=2)
    log.update({"a": torch.tensor(4.0)}, batch_size=1)
    assert log.means()["a"].item() == pytest.approx(2.0)  # (1·2 + 4·1) / 3
    assert log.means()["b"].item() == 2.0
    assert log.latest["a"].item() == 4.0 and log.latest["b"].item() == 2.0


def test_update_detaches_and_leaves_the_logged_tensor_alone():
    first = torch.tensor(3.0, requires_grad=True) * 1.0
    log = TrainingLog()
    log.update({"a": first}, batch_size=1)
    log.update({"a": torch.tensor(1.0)}, batch_size=1)  # accumulates in place, into its own tensor
    assert first.item() == 3.0
    assert log.means()["a"].item() == 2.0 and not log.means()["a"].requires_grad


def test_set_values_are_reported_as_they_are_and_reset_forgets_everything():
    log = TrainingLog()
    log.update({"a": torch.tensor(1.0)}, batch_size=4)
    log.set({"resolution": 8.0})
    assert log.averaged("a") and not log.averaged("resolution")
    assert log.latest["resolution"] == 8.0 and "resolution" not in log.means()
    log.reset()
    assert log.latest == {} and log.means() == {}


class RecordingLogger(Logger):
    """Keeps every ``log_metrics`` call as ``(step, {name: float})``."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[int, dict[str, float]]] = []

    name, version = "recording", 0

    def log_hyperparams(self, params, *args, **kwargs) -> None:
        pass

    def log_metrics(self, metrics, step=None) -> None:
        self.rows.append((step, {name: float(value) for name, value in metrics.items() if name != "epoch"}))


def log_every_batch(self, network, terms, batch_size, stage="train"):
    """What the training log stands in for: Lightning's own logging, called on every batch."""
    metrics = {f"{stage}/{network}_{key}": value.detach() for key, value in terms.items()}
    self.log_dict(metrics, on_step=True, on_epoch=True, batch_size=batch_size)


@pytest.mark.parametrize("log_every_n_steps", [1, 3])
def test_loggers_receive_what_logging_every_batch_would_write(digits, trainer_factory, log_every_n_steps):
    rows, callback_metrics = [], []
    for per_batch in (False, True):
        torch.manual_seed(0)
        model = build_tiny("DCGAN", n_critic=2)  # G logs on every other batch only
        if per_batch:
            model.log_terms = types.MethodType(log_every_batch, model)
        logger = RecordingLogger()
        trainer = trainer_factory(
            limit_train_batches=5, max_epochs=2, logger=logger, log_every_n_steps=log_every_n_steps
        )
        trainer.fit(model, datamodule=digits)
        rows.append(logger.rows)
        callback_metrics.append({name: float(value) for name, value in trainer.callback_metrics.items()})
    ours, lightnings = rows
    assert [step for step, _ in ours] == [step for step, _ in lightnings]
    assert any("train/d_loss_epoch" in row for _, row in ours)
    for (_, mine), (_, reference) in zip(ours, lightnings, strict=True):
        assert mine == pytest.approx(reference, rel=1e-6)
    # Callbacks see the same epoch means; step values as of the last batch the loggers wrote.
    mine, reference = callback_metrics
    assert mine.keys() == reference.keys()
    written_last_batch = log_every_n_steps == 1
    for name in (n for n in mine if written_last_batch or not n.endswith("_step")):
        assert mine[name] == pytest.approx(reference[name], rel=1e-6), name


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_reports_its_losses_per_step_and_per_epoch(name, trainer_factory):
    logger = RecordingLogger()
    trainer = trainer_factory(logger=logger, log_every_n_steps=1)
    trainer.fit(build_tiny(name), datamodule=tiny_data(name))
    step_rows = [row for _, row in logger.rows if "train/d_loss_step" in row]
    assert len(step_rows) == trainer.num_training_batches
    assert all(STEP_VALUES.get(name, set()) <= set(row) for row in step_rows)
    epoch_rows = [row for _, row in logger.rows if "train/d_loss_epoch" in row]
    assert len(epoch_rows) == 1
    assert all(torch.isfinite(torch.tensor(list(row.values()))).all() for row in step_rows + epoch_rows)
