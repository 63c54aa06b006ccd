"""Loading a model from its checkpoint alone, and only with ``weights_only=True``."""

from __future__ import annotations

import pytest
import torch
from conftest import build_tiny

from gan_zoo import DCGAN, load_model
from gan_zoo.checkpoints import MODEL_CLASS_KEY
from gan_zoo.errors import CheckpointError
from gan_zoo.losses import GradientPenalty, LeastSquares


class NotAllowed:
    """A class a checkpoint must not be able to make ``torch.load`` build."""


@pytest.fixture
def saved(digits, trainer_factory, tmp_path):
    def save(model, name="model.ckpt"):
        trainer = trainer_factory(limit_train_batches=1)
        trainer.fit(model, datamodule=digits)
        path = tmp_path / name
        trainer.save_checkpoint(path)
        return path

    return save


def test_the_class_is_recorded_and_found(saved):
    model = build_tiny("CGAN", ema_decay=0.9)
    path = saved(model)
    assert torch.load(path, weights_only=True)[MODEL_CLASS_KEY] == "gan_zoo.models.cgan.CGAN"
    restored = load_model(path)
    assert type(restored).__name__ == "CGAN" and not restored.training
    z = model.sample_latent(3)
    assert torch.equal(restored.sample(z=z, y=1), model.sample(z=z, y=1))  # EMA weights included


def test_losses_given_as_instances_load_with_weights_only(saved):
    model = build_tiny(
        "DCGAN", loss=LeastSquares(a=-1.0, b=1.0, c=0.0), regularizers=[GradientPenalty(weight=5.0)]
    )
    path = saved(model)
    for restored in (load_model(path), DCGAN.load_from_checkpoint(path, weights_only=True)):
        assert (restored.loss.a, restored.loss.c) == (-1.0, 0.0)
        assert restored.regularizers[0].weight == 5.0


def test_foreign_objects_are_refused_not_executed(saved, tmp_path):
    path = saved(build_tiny("DCGAN"))
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["hyper_parameters"]["surprise"] = NotAllowed()
    torch.save(checkpoint, tmp_path / "tampered.ckpt")
    with pytest.raises(CheckpointError, match=r"\(test_checkpoint\.NotAllowed\) and needs full unpickling"):
        load_model(tmp_path / "tampered.ckpt")


def test_unknown_or_missing_class_is_a_clear_error(saved, tmp_path):
    checkpoint = torch.load(saved(build_tiny("DCGAN")), weights_only=True)
    checkpoint[MODEL_CLASS_KEY] = "somewhere.else.Model"
    torch.save(checkpoint, tmp_path / "foreign.ckpt")
    with pytest.raises(
        CheckpointError, match=r"somewhere\.else\.Model, which is not an imported gan_zoo model"
    ):
        load_model(tmp_path / "foreign.ckpt")
    del checkpoint[MODEL_CLASS_KEY]
    torch.save(checkpoint, tmp_path / "anonymous.ckpt")
    with pytest.raises(CheckpointError, match="does not record which model wrote it"):
        load_model(tmp_path / "anonymous.ckpt")
    assert type(load_model(tmp_path / "anonymous.ckpt", model=DCGAN)) is DCGAN
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "missing.ckpt")


def test_a_checkpoint_whose_regularizers_are_in_their_config_form_loads(tmp_path, digits, trainer_factory):
    """``gan-zoo fit`` runs with ``regularizers: [{class_path: ..., init_args: ...}]`` in YAML kept that
    form in their hyperparameters; load_model rebuilds the regularizer from it."""
    model = build_tiny("WGANGP")
    trainer = trainer_factory(limit_train_batches=1)
    trainer.fit(model, datamodule=digits)
    trainer.save_checkpoint(tmp_path / "cli.ckpt")
    checkpoint = torch.load(tmp_path / "cli.ckpt", weights_only=False)
    spec = {"class_path": "gan_zoo.losses.GradientPenalty", "init_args": {"weight": 3.0}}
    checkpoint["hyper_parameters"]["regularizers"] = [spec]
    torch.save(checkpoint, tmp_path / "cli.ckpt")
    (regularizer,) = load_model(tmp_path / "cli.ckpt").regularizers
    assert isinstance(regularizer, GradientPenalty) and regularizer.weight == 3.0
