"""The ``gan-zoo`` command: LightningCLI over every model and data module in the zoo.

    gan-zoo fit --config experiments/dcgan/fashion_mnist.yaml
    gan-zoo fit --model DCGAN --data Digits --data.image_size 16 --trainer.max_epochs 5
    gan-zoo fit --model DCGAN --help            # the model's arguments
    gan-zoo test --config experiments/dcgan/fashion_mnist.yaml --ckpt_path runs/.../last.ckpt
    gan-zoo sample --ckpt runs/.../last.ckpt --num 64 --out grid.png

Every run writes to its own directory ``runs/<model>-<data>/version_N`` (config, TensorBoard events,
checkpoints, sample grids); an existing run directory is never written into.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from pytorch_lightning import Callback, Trainer
from pytorch_lightning.callbacks import ModelCheckpoint, ProgressBar, RichProgressBar
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI

import gan_zoo.data
import gan_zoo.models  # noqa: F401  (registers the models for short names: --model DCGAN)
from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule
from gan_zoo.loggers import SaveConfigAndLogToWandb, check_no_secrets, is_wandb, prepare_wandb_run

RUNS_DIR = "runs"


class GanZooCLI(LightningCLI):
    """LightningCLI with the data's image shape and class count linked into the model.

    Two callbacks are always present and configurable at the top level of the config:
    ``sample_grid`` (:class:`~gan_zoo.callbacks.SampleGrid`) and ``checkpoint`` (Lightning's
    ``ModelCheckpoint``, keeping ``last.ckpt``).
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(SampleGrid, "sample_grid")
        parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
        parser.set_defaults({"checkpoint.save_last": True})
        parser.link_arguments("data.image_shape", "model.init_args.image_shape", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        check_no_secrets(config)
        if config.trainer.logger in (None, True):
            config.trainer.logger = _default_logger(config)
        loggers = (
            config.trainer.logger if isinstance(config.trainer.logger, list) else [config.trainer.logger]
        )
        for logger in filter(is_wandb, loggers):
            prepare_wandb_run(logger, config.checkpoint, RUNS_DIR, _run_name(config))

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        # A rich progress bar unless the config turns the bar off or brings its own.
        given = config.get("callbacks") or []
        given = given if isinstance(given, list) else [given]
        has_bar = any(isinstance(c, ProgressBar) for c in [*given, *callbacks])
        if config.get("enable_progress_bar", True) is not False and not has_bar:
            callbacks = [*callbacks, RichProgressBar()]
        return super()._instantiate_trainer(config, callbacks)


def _short_name(class_path: str) -> str:
    return class_path.rsplit(".", 1)[-1].lower()


def _run_name(config: Any) -> str:
    return f"{_short_name(config.model.class_path)}-{_short_name(config.data.class_path)}"


def _default_logger(config: Any) -> dict[str, Any]:
    """TensorBoard in ``runs/<model>-<data>/version_N``: a fresh version directory for every run."""
    return {
        "class_path": "pytorch_lightning.loggers.TensorBoardLogger",
        "init_args": {"save_dir": RUNS_DIR, "name": _run_name(config)},
    }


def build_cli(args: list[str] | None = None, run: bool = True) -> GanZooCLI:
    return GanZooCLI(
        AdversarialModule,
        ImageDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        auto_configure_optimizers=False,
        save_config_callback=SaveConfigAndLogToWandb,
        save_config_kwargs={"overwrite": False},
        trainer_defaults={"default_root_dir": RUNS_DIR},
        parser_kwargs={"prog": "gan-zoo", "description": _DESCRIPTION, "epilog": _epilog()},
        args=args,
        run=run,
    )


_DESCRIPTION = (
    "Train and evaluate the GANs of gan_zoo. Start from an experiment file: "
    "gan-zoo fit --config experiments/quickstart.yaml (the README lists them all)."
)


def _epilog() -> str:
    extra = ", ".join(f"gan-zoo {name} --help" for name in sorted(COMMANDS))
    return (
        f"More commands: {extra}. "
        "Model and data arguments: gan-zoo fit --model DCGAN --help, gan-zoo fit --data Digits --help."
    )


#: Commands beyond LightningCLI's, as ``name -> "module:function"``; each function takes the
#: remaining arguments. Imported lazily so ``gan-zoo fit`` never pays for them.
COMMANDS: dict[str, str] = {
    "singan": "gan_zoo.commands.singan:main",
    "sample": "gan_zoo.commands.sample:main",
}


def main(args: list[str] | None = None) -> None:
    argv = sys.argv[1:] if args is None else args
    if argv and argv[0] in COMMANDS:
        module_name, function = COMMANDS[argv[0]].split(":")
        getattr(importlib.import_module(module_name), function)(argv[1:])
        return
    focused = _focused_help(argv)
    if args is None and focused != argv:
        sys.argv[1:] = focused  # as if typed: LightningCLI reads sys.argv when args is None
    build_cli(args if args is None else focused)


def _focused_help(argv: list[str]) -> list[str]:
    """``fit --model DCGAN --help`` shows DCGAN's arguments (jsonargparse's ``--model.help DCGAN``)
    instead of the 600-line help of every trainer option; the same for ``--data``."""
    if "--help" not in argv and "-h" not in argv:
        return argv
    for key in ("--model", "--data"):
        for i, arg in enumerate(argv):
            if arg == key and i + 1 < len(argv):
                return [*argv[:i], f"{key}.help", argv[i + 1]]
            if arg.startswith(f"{key}="):
                return [*argv[:i], f"{key}.help", arg.split("=", 1)[1]]
    return argv


if __name__ == "__main__":
    main()
