"""Reading checkpoints safely: loadable or a clear error, the right model class, the newest good file.

Checkpoints are read with ``torch.load(weights_only=True)``, which unpickles only tensors and plain
containers: opening a file cannot run code. A checkpoint whose hyperparameters hold Python objects
(e.g. a loss given as ``class_path`` in YAML) needs full unpickling; :func:`read_checkpoint` then says
so and loads it only with ``trust=True``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gan_zoo.errors import CheckpointError

#: Where gan_zoo records which class wrote a checkpoint.
MODEL_CLASS_KEY = "gan_zoo_model_class"


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


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
        checkpoint = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as error:
        if "Unsupported global" not in str(error):  # garbage, not a file with Python objects
            raise CheckpointError(f"{path} is not a checkpoint (not a file written by torch.save)") from None
        raise CheckpointError(
            f"{path} holds Python objects beyond tensors and needs full unpickling, which can run code "
            "from the file; load it with trust=True (CLI: --weights_only false) only if you made it"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"{path} is not a checkpoint or is truncated ({_first_line(error)})") from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise CheckpointError(f"{path} is not a Lightning checkpoint (no state_dict in it)")
    return checkpoint


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def saved_model_class(checkpoint: dict[str, Any]) -> type | None:
    """The class that wrote ``checkpoint`` (recorded by gan_zoo or by LightningCLI), if known."""
    path = checkpoint.get(MODEL_CLASS_KEY) or checkpoint.get("hyper_parameters", {}).get("_class_path")
    if not path or "." not in path:
        return None
    module, name = path.rsplit(".", 1)
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise CheckpointError(f"the checkpoint was written by {path}, which cannot be imported") from None


def check_model_class(expected: type, checkpoint: dict[str, Any]) -> None:
    """Raise :class:`CheckpointError` when ``checkpoint`` was written by a class other than ``expected``."""
    saved = saved_model_class(checkpoint)
    if saved is not None and saved is not expected:
        raise CheckpointError(f"the checkpoint was written by {saved.__name__}, not {expected.__name__}")


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


def load_model(path: str | os.PathLike, *, trust: bool = False, map_location: str = "cpu") -> nn.Module:
    """The model saved in a checkpoint, for sampling or evaluation, read with ``weights_only=True``.

    The class comes from the checkpoint (recorded by gan_zoo or LightningCLI), its arguments from the
    saved hyperparameters; the data module is not needed.

    Raises:
        CheckpointError: see :func:`read_checkpoint`; also when the class is not recorded.
    """
    checkpoint = read_checkpoint(path, trust=trust)
    cls = saved_model_class(checkpoint)
    if cls is None:
        raise CheckpointError(
            f"{path} does not record which model wrote it; use <Model>.load_from_checkpoint"
        )
    # The saved hyperparameters include the base class's arguments; pass only those this class takes.
    accepted = inspect.signature(cls).parameters
    saved = checkpoint.get("hyper_parameters", {})
    model = cls(**{k: v for k, v in saved.items() if k in accepted})
    model.on_load_checkpoint(checkpoint)
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(map_location).eval()


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
