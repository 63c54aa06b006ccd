"""Logger setup for the ``gan-zoo`` command: W&B runs in their own directories, the resolved config as
W&B hyperparameters, and no secrets in configs.

TensorBoard stays the default (``gan_zoo.cli``); ``experiments/_base/wandb.yaml`` selects W&B.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pytorch_lightning import LightningModule, Trainer
from pytorch_lightning.cli import SaveConfigCallback
from pytorch_lightning.loggers import WandbLogger

#: Config keys whose string values must never be written to a config file or a logger.
_SECRET_KEY = re.compile(
    r"(^|_)(api_?key|access_?token|auth_?token|secret(_?key)?|password|passwd)$", re.IGNORECASE
)


def next_version_dir(root: Path) -> Path:
    """``root/version_N`` for the first N not yet taken (TensorBoard's numbering)."""
    taken = {int(p.name[8:]) for p in root.glob("version_*") if p.is_dir() and p.name[8:].isdigit()}
    return root / f"version_{max(taken, default=-1) + 1}"


def is_wandb(logger_config: Any) -> bool:
    class_path = getattr(logger_config, "class_path", None) or ""
    return class_path.rsplit(".", 1)[-1] == "WandbLogger"


def prepare_wandb_run(logger_config: Any, checkpoint_config: Any, runs_dir: str, name: str) -> None:
    """Give a W&B run the layout of a TensorBoard run: ``runs/<model>-<data>/version_N`` holding
    ``config.yaml``, ``samples/``, ``checkpoints/`` and the ``wandb/`` run files.

    ``WandbLogger``'s default ``save_dir`` ("."), which Lightning also uses as the run's log
    directory, would put every run's config, samples and checkpoints in one place.
    """
    init_args = logger_config.init_args
    if init_args.save_dir in (None, "."):
        run_dir = next_version_dir(Path(runs_dir) / name)
        init_args.save_dir = str(run_dir)
        if init_args.name is None:
            init_args.name = f"{name}-{run_dir.name}"
    if checkpoint_config.dirpath is None:
        checkpoint_config.dirpath = str(Path(init_args.save_dir) / "checkpoints")


def secret_keys(config: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the config entries that hold a credential-like string (``api_key``,
    ``access_token``, ``password``, …); ordinary names such as a tokenizer's ``pad_token`` pass."""
    items = vars(config).items() if hasattr(config, "__dict__") else (config or {}).items()
    for key, value in items:
        path = f"{prefix}{key}"
        if isinstance(value, str) and value and _SECRET_KEY.search(str(key)):
            yield path
        elif isinstance(value, Mapping) or hasattr(value, "__dict__"):
            yield from secret_keys(value, f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping) or hasattr(item, "__dict__"):
                    yield from secret_keys(item, f"{path}.{i}.")


def check_no_secrets(config: Any) -> None:
    """Refuse a config that carries credentials: it is saved as ``config.yaml`` and sent to the logger."""
    found = sorted(secret_keys(config))
    if found:
        raise ValueError(
            f"The config holds credentials ({', '.join(found)}); they would be saved with the run. "
            "Give W&B its key through `wandb login` or the WANDB_API_KEY environment variable instead."
        )


class SaveConfigAndLogToWandb(SaveConfigCallback):
    """LightningCLI's ``config.yaml`` writer that also sends the resolved config to W&B as the run's
    hyperparameters (next to the model's own, which Lightning logs by itself)."""

    def save_config(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        loggers = [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]
        if not loggers:
            return
        resolved = self.parser.dump(self.config, skip_none=False, format="yaml")
        config = _yaml_to_dict(resolved)
        config.pop("config", None)  # the list of --config files: paths, not settings
        for logger in loggers:
            logger.log_hyperparams(config)


def _yaml_to_dict(text: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(text) or {}
