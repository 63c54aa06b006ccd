"""Reading checkpoints safely: loadable or a clear error, the right model class, the newest good file.

Checkpoints are read with ``torch.load(weights_only=True)``, which unpickles only tensors, plain
containers and the zoo's registered objectives and regularizers (plain attribute holders): opening a
file cannot run code. A checkpoint whose hyperparameters hold other Python objects (e.g. your own loss
class given as ``class_path`` in YAML) needs full unpickling; :func:`read_checkpoint` and
:func:`load_model` then say so and load it only with ``trust=True``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import torch

from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.checkpoint_format import (
    MODEL_CLASS_KEY,
    allow_zoo_objects,
    check_compatible,
    check_model_class,
    class_path,
    recorded_class_path,
)
from gan_zoo.errors import CheckpointError
from gan_zoo.models import MODELS

__all__ = [
    "MODEL_CLASS_KEY",
    "check_compatible",
    "check_model_class",
    "class_path",
    "is_loadable",
    "load_model",
    "newest_loadable",
    "read_checkpoint",
    "saved_model_class",
]


def read_checkpoint(path: str | os.PathLike, *, trust: bool = False) -> dict[str, Any]:
    """The checkpoint at ``path`` on the CPU.

    Args:
        path: a ``.ckpt`` written by Lightning.
        trust: allow full unpickling (runs code from the file: only for files you made yourself).

    Raises:
        CheckpointError: missing, truncated, not a checkpoint, or needing ``trust=True``.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with allow_zoo_objects():
            checkpoint = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as error:
        if "Unsupported global" not in str(error):  # garbage, not a file with Python objects
            raise CheckpointError(f"{path} is not a checkpoint (not a file written by torch.save)") from None
        raise CheckpointError(
            f"{path} holds Python objects beyond tensors ({_unsupported(error)}) and needs full "
            "unpickling, which can run code from the file; load it with trust=True (gan-zoo fit: "
            "--weights_only false) only if you made it"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is not a checkpoint or is truncated ({_first_line(error)})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict in it)")
    return checkpoint


def _unsupported(error: pickle.UnpicklingError) -> str:
    """The class named in torch's "Unsupported global: GLOBAL module.Name was not an allowed global"."""
    words = str(error).split("GLOBAL ", 1)[-1].split()
    return words[0] if words else "unknown"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def saved_model_class(checkpoint: dict[str, Any]) -> type[AdversarialModule] | None:
    """The model class that wrote ``checkpoint``, ``None`` when the file does not say.

    :class:`~gan_zoo.core.AdversarialModule` records its class under :data:`MODEL_CLASS_KEY`;
    ``gan-zoo fit`` (LightningCLI) also stores ``hyper_parameters["_class_path"]``. Only gan_zoo's own
    modules are imported to find it (a file must not make us import whatever it names); a class from
    elsewhere must be imported first.

    Raises:
        CheckpointError: the recorded class is not an imported gan_zoo model.
    """
    path = recorded_class_path(checkpoint)
    if not path:
        return None
    cls = _resolve(path)
    if not (isinstance(cls, type) and issubclass(cls, AdversarialModule)):
        raise CheckpointError(
            f"the checkpoint was written by {path}, which is not an imported gan_zoo model (an "
            "AdversarialModule subclass); import the module that defines it first"
        )
    return cls


def _resolve(path: str) -> Any:
    """``a.b.Name`` → the object, importing ``a.b`` only when it belongs to gan_zoo itself."""
    module_name, _, name = path.rpartition(".")
    module = sys.modules.get(module_name)
    if module is None and module_name.split(".")[0] == "gan_zoo":
        with contextlib.suppress(ImportError):
            module = importlib.import_module(module_name)
    return getattr(module, name, None) if module is not None else None


def load_model(
    path: str | os.PathLike,
    *,
    model: type[AdversarialModule] | None = None,
    map_location: str | torch.device = "cpu",
    trust: bool = False,
) -> AdversarialModule:
    """Any gan_zoo model from its checkpoint alone, in eval mode, for sampling or evaluation.

    The class is read from the file (see :func:`saved_model_class`) unless ``model`` names it; its
    arguments come from the saved hyperparameters and the weights (EMA included) from the state dict;
    the data module is not needed. The file is read with ``torch.load(weights_only=True)``.

    Args:
        path: a ``.ckpt`` written by ``gan-zoo fit`` or a ``Trainer``.
        model: the class, for a checkpoint that does not record it.
        map_location: device of the returned model.
        trust: allow full unpickling (runs code from the file: only for files you made yourself).

    Raises:
        CheckpointError: see :func:`read_checkpoint`; also when the class is unknown or not recorded.

    Example:
        >>> model = load_model("runs/dcgan-digits/version_0/checkpoints/last.ckpt")  # doctest: +SKIP
        >>> images = model.sample(16)  # [16, C, H, W] in [-1, 1]  # doctest: +SKIP
    """
    checkpoint = read_checkpoint(path, trust=trust)  # one clear line for a bad file
    cls = model or saved_model_class(checkpoint)
    if cls is None:
        raise CheckpointError(
            f"{path} does not record which model wrote it; name its class: load_model(path, model=DCGAN) "
            f"or gan-zoo evaluate --model NAME, one of: {', '.join(MODELS.names())}"
        )
    # The saved hyperparameters may hold LightningCLI's _class_path and arguments of older versions;
    # pass only those this class takes.
    accepted = inspect.signature(cls).parameters
    saved = checkpoint.get("hyper_parameters") or {}
    restored = cls(**{k: v for k, v in saved.items() if k in accepted})
    restored.on_load_checkpoint(checkpoint)  # refuses another class's file; restores schedule state
    restored.load_state_dict(checkpoint["state_dict"])
    return restored.to(map_location).eval()


def is_loadable(path: str | os.PathLike) -> bool:
    try:
        read_checkpoint(path, trust=True)
    except CheckpointError:
        return False
    return True


def newest_loadable(directory: str | os.PathLike) -> Path | None:
    """The most recently written ``*.ckpt`` in ``directory`` that loads, ``None`` if there is none.

    A file cut short (by a crash on a filesystem without atomic rename, or a full disk) is skipped in
    favour of the next newest.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return None
    candidates = sorted(directory.glob("*.ckpt"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return next((path for path in candidates if is_loadable(path)), None)
