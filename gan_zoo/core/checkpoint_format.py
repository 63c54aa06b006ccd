"""What a gan_zoo model writes into its checkpoints, and the checks it makes when reading one back.

Reading checkpoints from disk, finding the class that wrote one and loading a model from it live
above the models, in :mod:`gan_zoo.checkpoints`; this module only knows the format, so that the core
depends on nothing above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from gan_zoo.errors import CheckpointError

#: Where gan_zoo records which class wrote a checkpoint.
MODEL_CLASS_KEY = "gan_zoo_model_class"
#: Where the adversarial schedule keeps its update counts.
SCHEDULE_KEY = "adversarial_schedule"


def class_path(cls: type) -> str:
    """``module.QualifiedName`` of a class, as recorded in checkpoints and configs."""
    return f"{cls.__module__}.{cls.__qualname__}"


def recorded_class_path(checkpoint: dict[str, Any]) -> str | None:
    """The class path a checkpoint records: gan_zoo's own key, else LightningCLI's ``_class_path``."""
    return checkpoint.get(MODEL_CLASS_KEY) or (checkpoint.get("hyper_parameters") or {}).get("_class_path")


def checkpoint_safe_globals() -> list[type]:
    """The classes a zoo checkpoint may hold besides tensors and builtins: the registered objectives and
    regularizers (hyperparameters given as instances). They are plain attribute holders, so letting
    ``torch.load(weights_only=True)`` rebuild them runs no code from the file."""
    from gan_zoo.losses import LOSSES, REGULARIZERS

    return [LOSSES.get(name) for name in LOSSES] + [REGULARIZERS.get(name) for name in REGULARIZERS]


@contextlib.contextmanager
def allow_zoo_objects() -> Iterator[None]:
    """``torch.load(weights_only=True)`` accepting :func:`checkpoint_safe_globals` within the block."""
    with torch.serialization.safe_globals(checkpoint_safe_globals()):
        yield


def check_model_class(expected: type, checkpoint: dict[str, Any]) -> None:
    """Raise :class:`CheckpointError` when ``checkpoint`` records a class other than ``expected``."""
    recorded = recorded_class_path(checkpoint)
    if recorded is not None and recorded != class_path(expected):
        written_by = recorded.rpartition(".")[2]
        raise CheckpointError(f"the checkpoint was written by {written_by}, not {expected.__name__}")


def check_compatible(module: nn.Module, checkpoint: dict[str, Any]) -> None:
    """Raise :class:`CheckpointError` unless ``checkpoint`` was written by ``module``'s class and shapes.

    Checkpoints from before the class was recorded are judged by their tensor names and shapes alone.
    """
    check_model_class(type(module), checkpoint)
    expected = {name: tuple(t.shape) for name, t in module.state_dict().items()}
    saved = {name: tuple(t.shape) for name, t in checkpoint.get("state_dict", {}).items()}
    missing, unexpected = sorted(expected.keys() - saved.keys()), sorted(saved.keys() - expected.keys())
    resized = sorted(n for n in expected.keys() & saved.keys() if expected[n] != saved[n])
    if missing or unexpected or resized:
        details = [
            f"{len(missing)} tensors missing (e.g. {missing[0]})" if missing else "",
            f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
            f"{len(resized)} of another shape (e.g. {resized[0]}: {saved[resized[0]]} in the file, "
            f"{expected[resized[0]]} in the model)"
            if resized
            else "",
        ]
        raise CheckpointError(
            f"the checkpoint does not fit {type(module).__name__} as configured: "
            + ", ".join(d for d in details if d)
        )
