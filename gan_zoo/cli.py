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
from pathlib import Path
from typing import Any

from pytorch_lightning import Callback, LightningDataModule, Trainer
from pytorch_lightning.callbacks import ProgressBar, RichProgressBar
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from pytorch_lightning.utilities import rank_zero_warn

import gan_zoo.data
from gan_zoo import run_dir
from gan_zoo.callbacks import AtomicModelCheckpoint, DivergenceGuard, RandomState, SampleGrid
from gan_zoo.checkpoints import check_compatible, check_model_class, newest_loadable, read_checkpoint
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule
from gan_zoo.errors import reported
from gan_zoo.loggers import SaveConfigAndLogToWandb, check_no_secrets, is_wandb, prepare_wandb_run
from gan_zoo.models import MODELS  # registers the models for short names: --model DCGAN

RUNS_DIR = "runs"


class GanZooCLI(LightningCLI):
    """LightningCLI with the data's image shape and class count linked into the model.

    Two callbacks are always present and configurable at the top level of the config:
    ``sample_grid`` (:class:`~gan_zoo.callbacks.SampleGrid`) and ``checkpoint`` (Lightning's
    ``ModelCheckpoint`` writing atomically, :class:`~gan_zoo.callbacks.AtomicModelCheckpoint`, keeping
    ``last.ckpt``).
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(SampleGrid, "sample_grid")
        parser.add_lightning_class_args(AtomicModelCheckpoint, "checkpoint")
        parser.add_lightning_class_args(RandomState, "random_state")  # exact resume of the RNG streams
        parser.add_lightning_class_args(DivergenceGuard, "divergence_guard")
        parser.set_defaults({"checkpoint.save_last": True})
        parser.link_arguments("data.image_shape", "model.init_args.image_shape", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        check_no_secrets(config)
        if config.trainer.logger in (None, True):
            config.trainer.logger = _default_logger(config)
            if self.subcommand == "fit" and config.get("ckpt_path") == "last":
                # Resume in place: the newest version of this model-data pair with a good checkpoint.
                root = Path(RUNS_DIR) / config.trainer.logger["init_args"]["name"]
                config.trainer.logger["init_args"]["version"] = run_dir.latest_resumable_version(root)

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

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the checkpoint's hyperparameters into the config here, with a bare
        # torch.load; check the file first so a wrong path gets one clear line.
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path not in (None, "last", "best", "hpc", "registry"):
            checkpoint = read_checkpoint(
                ckpt_path, trust=self.config[subcommand].get("weights_only") is False
            )
            # LightningCLI would silently swap in the checkpoint's class: refuse a mismatch instead.
            model = self.config[subcommand].get("model")
            if model is not None and model.get("class_path"):
                check_model_class(_import(model.class_path), checkpoint)
        super()._parse_ckpt_path()

    def before_fit(self) -> None:
        """Check the run directory, the data and the checkpoint before anything is written."""
        config = self.config_init["fit"]
        ckpt_path = config.get("ckpt_path")
        log_dir = self.trainer.log_dir
        if ckpt_path == "last":
            ckpt_path = self._newest_checkpoint()
            config["ckpt_path"] = ckpt_path
        if ckpt_path is None and log_dir:
            run_dir.ensure_fresh(log_dir)
        elif log_dir:  # a resume adds its config beside the first one instead of overwriting it
            for callback in self.trainer.callbacks:
                if isinstance(callback, SaveConfigCallback):
                    callback.config_filename = run_dir.resume_config_name(log_dir)
        if not getattr(self.datamodule, "download", False):
            self.datamodule.setup("fit")  # a missing dataset or bad labels fail here, before any output
        if ckpt_path is not None:
            trust = config.get("weights_only") is False
            check_compatible(self.model, read_checkpoint(ckpt_path, trust=trust))

    def _newest_checkpoint(self) -> str | None:
        callback = self.trainer.checkpoint_callback
        directory = getattr(callback, "dirpath", None) or Path(self.trainer.log_dir or ".") / "checkpoints"
        found = newest_loadable(directory)
        if found is None:
            rank_zero_warn(f"--ckpt_path last: no loadable checkpoint in {directory}; training from scratch")
        return str(found) if found else None

    def before_validate(self) -> None:
        self._check_evaluation_checkpoint("validate")

    def before_test(self) -> None:
        self._check_evaluation_checkpoint("test")

    def _check_evaluation_checkpoint(self, subcommand: str) -> None:
        ckpt_path = self.config_init[subcommand].get("ckpt_path")
        if ckpt_path not in (None, "last", "best"):
            trust = self.config_init[subcommand].get("weights_only") is False
            check_compatible(self.model, read_checkpoint(ckpt_path, trust=trust))


def _import(class_path: str) -> type:
    module, name = class_path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


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
        parser_kwargs={
            "prog": "gan-zoo",
            "description": _DESCRIPTION,
            "epilog": _epilog(),
            "exit_on_error": False,  # errors reach main() and become one line
        },
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
    "evaluate": "gan_zoo.commands.evaluate:main",
    "analyze": "gan_zoo.commands.analyze:main",
}


def data_module_names() -> list[str]:
    """The data modules ``--data`` accepts by short name."""
    classes = (getattr(gan_zoo.data, name) for name in gan_zoo.data.__all__)
    return sorted(
        c.__name__
        for c in classes
        if isinstance(c, type)
        and issubclass(c, LightningDataModule)
        and not c.__name__.endswith("DataModule")  # the shared base classes
    )


def main(args: list[str] | None = None) -> None:
    """Run a command; bad input ends with one ``gan-zoo: error: ...`` line and exit code 2.

    Set ``GAN_ZOO_DEBUG=1`` to see the traceback instead.
    """
    argv = sys.argv[1:] if args is None else args
    with reported("gan-zoo", {"model": MODELS.names(), "data": data_module_names()}):
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
