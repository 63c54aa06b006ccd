"""Loading any zoo model from its checkpoint alone, without executing code from the file."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from gan_zoo.checkpoints import MODEL_CLASS_KEY

if TYPE_CHECKING:
    from gan_zoo.core.adversarial import AdversarialModule

#: Checkpoint key under which :class:`AdversarialModule` records its class (``module.QualName``).
CLASS_PATH_KEY = MODEL_CLASS_KEY


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


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> AdversarialModule:
    """Any gan_zoo model from its checkpoint: the class is read from the file, the weights (EMA
    included) are restored, and the model is returned in eval mode.

    The file is read with ``torch.load(weights_only=True)``. The class must be a zoo model or an
    :class:`~gan_zoo.core.AdversarialModule` subclass whose module is already imported.

    Example:
        >>> model = load_model("runs/dcgan-digits/version_0/checkpoints/last.ckpt")  # doctest: +SKIP
        >>> images = model.sample(16)  # [16, C, H, W] in [-1, 1]  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}")
    with allow_zoo_objects():
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        cls = model_class(checkpoint, source=str(path))
        model = cls.load_from_checkpoint(path, map_location=map_location, weights_only=True)
    return model.eval()


def model_class(checkpoint: dict[str, Any], source: str = "the checkpoint") -> type[AdversarialModule]:
    """The model class a checkpoint was written by.

    The ``gan-zoo`` CLI stores it as ``hyper_parameters["_class_path"]``; every
    :class:`~gan_zoo.core.AdversarialModule` also stores it under :data:`CLASS_PATH_KEY`.
    """
    from gan_zoo.core.adversarial import AdversarialModule

    hparams = checkpoint.get("hyper_parameters") or {}
    class_path = hparams.get("_class_path") or checkpoint.get(CLASS_PATH_KEY)
    if not class_path:
        raise ValueError(
            f"{source} does not say which model wrote it (no '_class_path' hyperparameter and no "
            f"'{CLASS_PATH_KEY}'); load it with YourModel.load_from_checkpoint(path)."
        )
    cls = _resolve(class_path)
    if not (isinstance(cls, type) and issubclass(cls, AdversarialModule)):
        raise ValueError(
            f"{source} was written by {class_path!r}, which is not an imported gan_zoo model "
            "(an AdversarialModule subclass); import the module that defines it first."
        )
    return cls


def _resolve(class_path: str) -> Any:
    """``a.b.Name`` → the object, importing ``a.b`` only when it belongs to gan_zoo itself."""
    import gan_zoo.models  # noqa: F401  (registers every zoo model)

    module_name, _, name = class_path.rpartition(".")
    module = sys.modules.get(module_name)
    if module is None and module_name.split(".")[0] == "gan_zoo":
        with contextlib.suppress(ImportError):
            module = importlib.import_module(module_name)
    return getattr(module, name, None) if module is not None else None
