"""What every registered model declares: only its own arguments, its paper's defaults in one place, and
no reach into the base class's privates. Parametrized over MODELS, so a new model is checked as well."""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from pathlib import Path

import pytest
from conftest import TINY, tiny_data_args

import gan_zoo.models
from gan_zoo.cli import build_cli
from gan_zoo.core import AdversarialModule
from gan_zoo.models import MODELS

BASE_ARGUMENTS = inspect.signature(AdversarialModule).parameters
LINKED = {"image_shape", "num_classes"}  # set from the data module by the CLI


def as_argument(value: object) -> str:
    """A value as typed on a command line: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def non_default(name: str, argument: str) -> tuple[object, object]:
    """(value given on the command line, value expected in the model's hparams)."""
    declared = inspect.signature(MODELS.get(name)).parameters[argument].default
    prior = "normal" if declared != "normal" else "uniform"
    latents = "reuse" if declared == "fresh" else "fresh"
    values = {
        "latent_dim": 12,
        "latent_prior": prior,
        "loss": "hinge" if declared != "hinge" else "least_squares",
        "regularizers": ["drift"],
        "n_critic": 3,
        "g_steps": 2,
        "g_latents": latents,
        "ema_decay": 0.5,
        "ema_start": 7,
        "ema_warmup": False,
        "ema_bn_batches": 3,
        "ema_bn_batch_size": 5,
        "g_grad_clip": 1.5,
        "d_grad_clip": 2.5,
        "grid_columns": 3,
    }
    if name == "SemiSupervisedGAN" and argument == "loss":
        return declared, declared  # its objective is fixed by the paper (and refused otherwise)
    return values[argument], values[argument]


FACTORIES = ("g_optimizer", "d_optimizer", "g_lr_scheduler", "d_lr_scheduler")


@pytest.mark.parametrize("name", MODELS.names())
def test_every_base_argument_is_settable_from_the_cli(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny = [f"--model.{key}={as_argument(value)}" for key, value in TINY[name].items()]
    expected = {}
    given = []
    for argument in BASE_ARGUMENTS:
        if argument in LINKED or argument in FACTORIES:
            continue
        value, expected[argument] = non_default(name, argument)
        given.append(f"--model.{argument}={as_argument(value)}")
    factories = [
        "--model.g_optimizer=SGD", "--model.g_optimizer.lr=0.01",
        "--model.d_optimizer=SGD", "--model.d_optimizer.lr=0.02",
        "--model.g_lr_scheduler=StepLR", "--model.g_lr_scheduler.step_size=3",
        "--model.d_lr_scheduler=StepLR", "--model.d_lr_scheduler.step_size=4",
    ]  # fmt: skip
    args = ["--model", name, *tiny, *given, *factories, *tiny_data_args(name), "--trainer.logger=false"]
    model = build_cli(args, run=False).model
    for argument, value in expected.items():
        saved = model.hparams[argument]
        assert saved == value or (isinstance(saved, tuple | list) and list(saved) == value), argument
    optimizers, schedulers = model.configure_optimizers()
    assert [type(o).__name__ for o in optimizers] == ["SGD", "SGD"]
    assert [o.defaults["lr"] for o in optimizers] == [0.01, 0.02]
    assert [s.step_size for s in schedulers] == [3, 4]


@pytest.mark.parametrize("name", MODELS.names())
def test_paper_defaults_are_declared_once_in_the_signature(name):
    """A model's defaults are visible in its signature (what --help and --print_config show) and are
    what an instance gets; no constructor hides another default."""
    cls = MODELS.get(name)
    signature = inspect.signature(cls)
    for argument, value in getattr(cls, "defaults", {}).items():
        assert signature.parameters[argument].default == value
    shared_redeclared = set(own_arguments(cls)) & set(BASE_ARGUMENTS)
    assert not shared_redeclared, f"{name} re-declares base arguments {shared_redeclared}: use defaults"


def own_arguments(cls: type) -> list[str]:
    """The arguments written in the class's own ``__init__`` (its source, not the published signature)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    for node in tree.body[0].body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            arguments = node.args
            return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs][1:]]
    return []


def models_source() -> list[Path]:
    return sorted(Path(gan_zoo.models.__file__).parent.glob("*.py"))


@pytest.mark.parametrize("path", models_source(), ids=lambda p: p.name)
def test_models_touch_no_private_member_they_do_not_define(path):
    """A model uses the base class's public API only: every ``self._x`` it reads is defined in its own
    file (its own helpers), never a private of AdversarialModule or Lightning."""
    tree = ast.parse(path.read_text())
    used, defined = set(), set()
    for node in ast.walk(tree):
        on_self = (
            isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
        )
        if on_self and node.attr.startswith("_") and not node.attr.startswith("__"):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.attr)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("_"):
            defined.add(node.name)
    assert not used - defined, (
        f"{path.name} uses private members it does not define: {sorted(used - defined)}"
    )
