"""Shared fixtures: tiny model configs, a tiny trainer, and the offline Digits data."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import pytest
import pytorch_lightning as pl
import torch

import gan_zoo.data
from gan_zoo.data import Digits
from gan_zoo.models import MODELS

os.environ.setdefault("WANDB_MODE", "offline")
# Under pytest-xdist each worker has one core of its own: more threads would only contend.
torch.set_num_threads(1 if "PYTEST_XDIST_WORKER" in os.environ else min(2, torch.get_num_threads()))

IMAGE_SHAPE = (1, 16, 16)
NUM_CLASSES = 10

#: Per-model arguments that make each registered model small enough for a CPU test in a second.
#: A model registered without an entry here fails ``test_every_model_has_a_tiny_config``.
TINY: dict[str, dict[str, Any]] = {
    "GAN": {"g_hidden": 32, "d_hidden": 16},
    "CGAN": {},
    "DCGAN": {"g_width": 8, "d_width": 8},
    "LSGAN": {"g_width": 4, "d_width": 4},
    "ACGAN": {"g_width": 8, "d_width": 4},
    # n_critic = 1 so a two-batch fit updates G too (the paper's 5 is tested in test_wgan.py)
    "WGAN": {"g_width": 8, "d_width": 8, "n_critic": 1},
    "WGANGP": {"g_width": 8, "d_width": 8, "n_critic": 1},
    "SemiSupervisedGAN": {"g_hidden": 16, "d_hidden": (16, 8)},
    "SAGAN": {"g_width": 2, "d_width": 2, "attention_resolutions": (8,)},
    "BigGAN": {"g_width": 2, "d_width": 2, "shared_dim": 4, "n_critic": 1, "ema_start": 0},
    "ProGAN": {"fmap_base": 32, "fmap_max": 8, "phase_images": 16, "batch_sizes": {4: 8, 8: 8, 16: 8}},
    "SinGAN": {"min_size": 12, "width": 8, "iterations_per_scale": 1, "g_steps": 1, "n_critic": 1},
    "TextToImageGAN": {
        "g_width": 8,
        "d_width": 8,
        "projected_dim": 8,
        "text_encoder_options": {"embedding_dim": 16, "width": 16, "char_dim": 8},
        "grid_captions": ["a small dark one", "a large light two"],
    },
}

#: Data for models that do not train on Digits' labelled images: name -> (data module, arguments). It
#: must give images of IMAGE_SHAPE. Models not listed get TINY_DATA_DEFAULT.
TINY_DATA_DEFAULT: tuple[str, dict[str, Any]] = ("Digits", {"image_size": 16, "batch_size": 16})
TINY_DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "SinGAN": ("SingleImage", {"image": "camera", "max_size": 16, "channels": 1, "steps_per_epoch": 4}),
    "TextToImageGAN": ("DigitsCaptions", {"image_size": 16, "batch_size": 16}),
}

#: Models whose generator is not G(z [N, latent_dim]) (, class labels): SinGAN draws noise maps at every
#: scale, the text-to-image GAN is conditioned on captions. The tests of that interface skip them; the
#: models' own test files cover the equivalent.
OWN_INTERFACE: set[str] = {"SinGAN", "TextToImageGAN"}


class CountSteps(pl.Callback):
    """Counts the optimizer steps of each network."""

    def __init__(self) -> None:
        self.steps = {"generator": 0, "discriminator": 0}

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        self.steps[pl_module.network_of(optimizer)] += 1


def build_tiny(name: str, **overrides: Any) -> pl.LightningModule:
    """A registered model at tiny size on 16×16 gray images with 10 classes."""
    model = MODELS.get(name)
    shared = {"image_shape": IMAGE_SHAPE, "num_classes": NUM_CLASSES, "latent_dim": 8}
    accepted = inspect.signature(model).parameters
    kwargs = {key: value for key, value in shared.items() if key in accepted}
    return model(**{**kwargs, **TINY[name], **overrides})


def module_around(generator: torch.nn.Module, discriminator: torch.nn.Module, **arguments: Any) -> Any:
    """An AdversarialModule whose networks are the given ones (for tests of the shared machinery)."""
    from gan_zoo.core import AdversarialModule

    return AdversarialModule.from_networks(generator, discriminator, **arguments)


def tiny_data(name: str) -> pl.LightningDataModule:
    """The data module a registered model trains on in the tests."""
    data_class, arguments = TINY_DATA.get(name, TINY_DATA_DEFAULT)
    return getattr(gan_zoo.data, data_class)(**arguments)


def tiny_data_args(name: str) -> list[str]:
    """The same data as command-line arguments of ``gan-zoo fit``."""
    data_class, arguments = TINY_DATA.get(name, TINY_DATA_DEFAULT)
    return [
        "--data",
        data_class,
        *(x for key, value in arguments.items() for x in (f"--data.{key}", str(value))),
    ]


@pytest.fixture
def tiny_model() -> Callable[..., pl.LightningModule]:
    return build_tiny


@pytest.fixture
def digits() -> Digits:
    return Digits(image_size=16, batch_size=16)


#: What a torchdata StatefulDataLoader counts since its iterator was created; a resumed run creates its
#: own iterator, so these differ from an uninterrupted run's while the sampler's position agrees.
LOADER_COUNTERS = ("samples_yielded", "_sampler_iter_yielded", "_num_yielded")


def make_trainer(tmp_path, **overrides: Any) -> pl.Trainer:
    """A quiet CPU trainer that writes only under ``tmp_path``."""
    kwargs = {
        "accelerator": "cpu",
        "devices": 1,
        "max_epochs": 1,
        "limit_train_batches": 2,
        "limit_val_batches": 2,
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": str(tmp_path),
        **overrides,
    }
    return pl.Trainer(**kwargs)


@pytest.fixture
def trainer_factory(tmp_path) -> Callable[..., pl.Trainer]:
    return lambda **overrides: make_trainer(tmp_path, **overrides)


@pytest.fixture(scope="session")
def preloaded(tmp_path_factory):
    """One interpreter with gan_zoo imported, forked for each command of the manual's pages
    (tests/preloaded.py): quiet and on one thread, as those tests run their commands."""
    from markdown_blocks import environment
    from preloaded import Preloaded

    quiet = environment({"PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"})
    with Preloaded(tmp_path_factory.mktemp("preloaded"), quiet) as server:
        yield server
