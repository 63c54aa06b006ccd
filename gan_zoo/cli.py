"""The ``gan-zoo`` command: LightningCLI over every model and data module in the zoo.

    gan-zoo fit --config experiments/dcgan/fashion_mnist.yaml
    gan-zoo fit --model DCGAN --data Digits --data.image_size 16 --trainer.max_epochs 5
    gan-zoo test --config experiments/dcgan/fashion_mnist.yaml --ckpt_path runs/.../last.ckpt

Every run writes to its own directory ``runs/<model>-<data>/version_N`` (config, TensorBoard events,
checkpoints, sample grids); an existing run directory is never written into.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from pytorch_lightning.callbacks import ModelCheckpoint
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI

import gan_zoo.data
import gan_zoo.models  # noqa: F401  (registers the models for short names: --model DCGAN)
from gan_zoo.callbacks import SampleGrid
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule

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
        if config.trainer.logger in (None, True):
            config.trainer.logger = _default_logger(config)


def _short_name(class_path: str) -> str:
    return class_path.rsplit(".", 1)[-1].lower()


def _default_logger(config: Any) -> dict[str, Any]:
    """TensorBoard in ``runs/<model>-<data>/version_N``: a fresh version directory for every run."""
    name = f"{_short_name(config.model.class_path)}-{_short_name(config.data.class_path)}"
    return {
        "class_path": "pytorch_lightning.loggers.TensorBoardLogger",
        "init_args": {"save_dir": RUNS_DIR, "name": name},
    }


def build_cli(args: list[str] | None = None, run: bool = True) -> GanZooCLI:
    return GanZooCLI(
        AdversarialModule,
        ImageDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        auto_configure_optimizers=False,
        save_config_kwargs={"overwrite": False},
        trainer_defaults={"default_root_dir": RUNS_DIR},
        args=args,
        run=run,
    )


#: Commands beyond LightningCLI's, as ``name -> "module:function"``; each function takes the
#: remaining arguments. Imported lazily so ``gan-zoo fit`` never pays for them.
COMMANDS: dict[str, str] = {"evaluate": "gan_zoo.commands.evaluate:main"}


def main(args: list[str] | None = None) -> None:
    argv = sys.argv[1:] if args is None else args
    if argv and argv[0] in COMMANDS:
        module_name, function = COMMANDS[argv[0]].split(":")
        getattr(importlib.import_module(module_name), function)(argv[1:])
        return
    build_cli(args)


if __name__ == "__main__":
    main()
