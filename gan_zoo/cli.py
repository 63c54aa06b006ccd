"""The ``gan-zoo`` command: LightningCLI over every model and data module in the zoo.

    gan-zoo fit --config experiments/dcgan/fashion_mnist.yaml
    gan-zoo fit --model DCGAN --data Digits --data.image_size 16 --trainer.max_epochs 5
    gan-zoo fit --model DCGAN --help            # the model's arguments
    gan-zoo test --config experiments/dcgan/fashion_mnist.yaml --ckpt_path runs/.../last.ckpt
    gan-zoo sample --ckpt_path runs/.../last.ckpt --num 64 --out grid.png

Every run writes to its own directory ``runs/<model>-<data>/version_N`` (config, TensorBoard events,
checkpoints, sample grids), under ``--trainer.default_root_dir`` (``runs`` by default) whichever logger
is chosen; an existing run directory is never written into. ``--ckpt_path last`` resumes the newest
version of the same model and data from its newest readable checkpoint, and says which file it uses.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pytorch_lightning import LightningDataModule, Trainer
from pytorch_lightning.callbacks import ModelSummary as LightningModelSummary
from pytorch_lightning.callbacks import ProgressBar, RichProgressBar
from pytorch_lightning.cli import LightningArgumentParser, LightningCLI, SaveConfigCallback
from pytorch_lightning.utilities import rank_zero_only

import gan_zoo.data
from gan_zoo import run_dir
from gan_zoo.callbacks import (
    AtomicModelCheckpoint,
    DivergenceGuard,
    ModelSummary,
    PreemptionCheckpoint,
    RandomState,
    SampleGrid,
)
from gan_zoo.checkpoints import check_compatible, check_model_class, read_checkpoint
from gan_zoo.core import AdversarialModule
from gan_zoo.data import ImageDataModule
from gan_zoo.errors import CheckpointError, ConfigError, reported
from gan_zoo.lightning_compat import NOISE, refresh_progress_bar_metrics
from gan_zoo.loggers import SaveConfigAndLogToWandb, check_no_secrets, is_wandb, prepare_wandb_run
from gan_zoo.models import MODELS  # registers the models for short names: --model DCGAN

RUNS_DIR = "runs"


class GanZooCLI(LightningCLI):
    """LightningCLI with the data's image shape and class count linked into the model.

    These callbacks are always present and configurable at the top level of the config:
    ``sample_grid`` (:class:`~gan_zoo.callbacks.SampleGrid`), ``checkpoint`` (Lightning's
    ``ModelCheckpoint`` writing atomically, :class:`~gan_zoo.callbacks.AtomicModelCheckpoint`, keeping
    ``last.ckpt``), ``random_state`` (:class:`~gan_zoo.callbacks.RandomState`), ``divergence_guard``
    and ``preemption`` (:class:`~gan_zoo.callbacks.PreemptionCheckpoint`: SIGTERM saves and exits).
    """

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_lightning_class_args(SampleGrid, "sample_grid")
        parser.add_lightning_class_args(AtomicModelCheckpoint, "checkpoint")
        parser.add_lightning_class_args(RandomState, "random_state")  # exact resume of the RNG streams
        parser.add_lightning_class_args(DivergenceGuard, "divergence_guard")
        parser.add_lightning_class_args(PreemptionCheckpoint, "preemption")  # SIGTERM: checkpoint, exit 143
        parser.set_defaults({"checkpoint.save_last": True})
        parser.link_arguments("data.image_shape", "model.init_args.image_shape", apply_on="instantiate")
        parser.link_arguments("data.num_classes", "model.init_args.num_classes", apply_on="instantiate")

    def before_instantiate_classes(self) -> None:
        config = self.config[self.subcommand] if self.subcommand else self.config
        check_no_secrets(config)
        _check_one_schedule(config.checkpoint)
        root = Path(config.trainer.default_root_dir or RUNS_DIR)
        name = _run_name(config)
        if config.trainer.logger in (None, True):
            config.trainer.logger = _default_logger(root, name)
        loggers = (
            config.trainer.logger if isinstance(config.trainer.logger, list) else [config.trainer.logger]
        )
        resuming = self.subcommand == "fit" and config.get("ckpt_path") == "last"
        for logger in loggers:
            if is_wandb(logger):
                version = run_dir.latest_resumable_version(root / name) if resuming else None
                if version is not None and logger["init_args"].get("save_dir") in (None, "."):
                    logger["init_args"]["save_dir"] = str(root / name / f"version_{version}")
                prepare_wandb_run(logger, config.checkpoint, str(root), name)
            elif _has_version_directories(logger):
                init_args = logger["init_args"]
                # Every logger keeps the zoo's layout, root/<model>-<data>/version_N.
                if init_args.get("save_dir") in (None, RUNS_DIR):  # the default root stands for the given one
                    init_args["save_dir"] = str(root)
                if init_args.get("name") in (None, "lightning_logs"):
                    init_args["name"] = name
                if resuming and init_args.get("version") is None:
                    # Resume in place: the newest version of this model-data pair with a good checkpoint.
                    directory = Path(init_args["save_dir"]) / init_args["name"]
                    init_args["version"] = run_dir.latest_resumable_version(directory)

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """LightningCLI's subcommands without ``predict``: ``gan-zoo sample`` writes a model's images."""
        return {name: skip for name, skip in LightningCLI.subcommands().items() if name != "predict"}

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        super().parse_arguments(parser, args)
        # Next, LightningCLI reads the checkpoint's hyperparameters into the config with a bare
        # torch.load: check the file first, so a wrong path gets one clear line.
        self._check_checkpoint_file()

    def _check_checkpoint_file(self) -> None:
        subcommand = self.config.get("subcommand")
        ckpt_path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if ckpt_path in (None, "last", "best", "hpc", "registry"):
            return
        checkpoint = read_checkpoint(ckpt_path, trust=self.config[subcommand].get("weights_only") is False)
        # LightningCLI would silently swap in the checkpoint's class: refuse a mismatch instead.
        model = self.config[subcommand].get("model")
        if model is not None and model.get("class_path"):
            check_model_class(_import(model.class_path), checkpoint)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with a rich progress bar and a model summary without FLOPs unless the config
        turns them off or brings its own."""
        config = self.config_init[self.subcommand] if self.subcommand else self.config_init
        trainer = config.get("trainer") or {}
        given = kwargs.get("callbacks", trainer.get("callbacks")) or []
        given = list(given) if isinstance(given, list) else [given]
        if trainer.get("enable_progress_bar") is not False and not _has(given, ProgressBar):
            given.append(LossProgressBar())
        if trainer.get("enable_model_summary") is not False and not _has(given, LightningModelSummary):
            given.append(ModelSummary())
        return super().instantiate_trainer(**{**kwargs, "callbacks": given})

    def before_fit(self) -> None:
        """Check the run directory, the data and the checkpoint before anything is written."""
        config = self.config_init["fit"]
        ckpt_path = config.get("ckpt_path")
        log_dir = self.trainer.log_dir
        skipped: list[Path] = []
        if ckpt_path == "last":
            ckpt_path, skipped = self._checkpoint_to_resume()
            config["ckpt_path"] = ckpt_path
        if ckpt_path is None and log_dir:
            run_dir.ensure_fresh(log_dir)
        elif log_dir:  # a resume adds its config beside the first one instead of overwriting it
            for callback in self.trainer.checkpoint_callbacks:
                if isinstance(callback, AtomicModelCheckpoint):
                    callback.resuming = True
            for callback in self.trainer.callbacks:
                if isinstance(callback, SaveConfigCallback):
                    callback.config_filename = run_dir.resume_config_name(log_dir)
        if not getattr(self.datamodule, "download", False):
            self.datamodule.setup("fit")  # a missing dataset or bad labels fail here, before any output
        if ckpt_path is not None:
            trust = config.get("weights_only") is False
            checkpoint = read_checkpoint(ckpt_path, trust=trust)
            try:
                check_compatible(self.model, checkpoint)
            except CheckpointError as error:
                raise CheckpointError(f"{ckpt_path}: {error}") from None
            if skipped:
                problem = "cannot be read (cut short, or a link to a removed file)"
                _say(f"{skipped[0]} {problem}; resuming from {ckpt_path}")
            else:
                epoch, step = checkpoint.get("epoch"), checkpoint.get("global_step")
                _say(f"resuming from {ckpt_path} (epoch {epoch}, global step {step})")

    def _checkpoint_to_resume(self) -> tuple[str | None, list[Path]]:
        """``--ckpt_path last``: the newest readable checkpoint of the run being resumed and the newer
        unreadable ones; refused when that run was configured otherwise."""
        callback = self.trainer.checkpoint_callback
        directory = getattr(callback, "dirpath", None) or Path(self.trainer.log_dir or ".") / "checkpoints"
        found, unreadable = run_dir.newest_checkpoint(directory)
        if found is None:
            _say(f"--ckpt_path last: no checkpoint in {directory} yet; training from scratch")
            return None, []
        self._check_same_settings(found)
        return str(found), unreadable

    def _check_same_settings(self, checkpoint: Path) -> None:
        """Refuse to resume a run whose model or data were configured otherwise (image size, widths,
        batch size, ...): that run's ``config.yaml`` against this command's settings."""
        saved_path = Path(self.trainer.log_dir or checkpoint.parent.parent) / "config.yaml"
        if not saved_path.is_file():
            return
        saved = yaml.safe_load(saved_path.read_text()) or {}
        current = yaml.safe_load(self._parser("fit").dump(self.config["fit"], skip_none=False)) or {}
        differences = [
            f"{key} {saved_value!r} there, {current_value!r} here"
            for key, saved_value, current_value in _setting_differences(saved, current)
        ]
        if differences:
            raise CheckpointError(
                f"--ckpt_path last found {checkpoint}, from a run configured otherwise ("
                + "; ".join(differences[:3])
                + (f"; {len(differences) - 3} more" if len(differences) > 3 else "")
                + f", see {saved_path}); resume it with its own settings, pick another version with "
                "--trainer.logger.version N, or leave out --ckpt_path to start a new one"
            )

    def before_validate(self) -> None:
        if getattr(self.datamodule, "val_split", None) == 0:  # Lightning would validate nothing, silently
            raise ConfigError(
                "the data has no validation split (data.val_split is 0): set one, e.g. --data.val_split 0.1, "
                "or use gan-zoo test"
            )
        self._check_evaluation_checkpoint("validate")

    def before_test(self) -> None:
        self._check_evaluation_checkpoint("test")

    def _check_evaluation_checkpoint(self, subcommand: str) -> None:
        # Only the weights of the checkpoint are used: the state of the callbacks that wrote it does not
        # matter, and Lightning's advice to configure them as then does not apply.
        warnings.filterwarnings("ignore", message=NOISE["callback_state"])
        ckpt_path = self.config_init[subcommand].get("ckpt_path")
        if ckpt_path not in (None, "last", "best"):
            trust = self.config_init[subcommand].get("weights_only") is False
            check_compatible(self.model, read_checkpoint(ckpt_path, trust=trust))


class LossProgressBar(RichProgressBar):
    """Lightning's rich progress bar showing each epoch's mean losses once the epoch is over, and
    without ``v_num`` (the run directory's ``version_N``, printed as ``v_num: 0.000``).

    The module logs the losses to the bar every ``log_every_n_steps`` batches and their epoch means in
    ``on_train_epoch_end``; an epoch shorter than ``log_every_n_steps`` would otherwise show none.
    """

    def get_metrics(self, trainer: Trainer, pl_module: Any) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics

    def on_train_epoch_start(self, trainer: Trainer, pl_module: Any) -> None:
        super().on_train_epoch_start(trainer, pl_module)
        refresh_progress_bar_metrics(self, trainer, pl_module)  # the previous epoch's means

    def on_train_end(self, trainer: Trainer, pl_module: Any) -> None:
        super().on_train_end(trainer, pl_module)
        refresh_progress_bar_metrics(self, trainer, pl_module)  # the last epoch's means


def _has(callbacks: list[Any], kind: type) -> bool:
    return any(isinstance(callback, kind) for callback in callbacks)


def _import(class_path: str) -> type:
    module, name = class_path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def _short_name(class_path: str) -> str:
    return class_path.rsplit(".", 1)[-1].lower()


def _run_name(config: Any) -> str:
    return f"{_short_name(config.model.class_path)}-{_short_name(config.data.class_path)}"


def _default_logger(root: Path, name: str) -> dict[str, Any]:
    """TensorBoard in ``root/<model>-<data>/version_N``: a fresh version directory for every run."""
    return {
        "class_path": "pytorch_lightning.loggers.TensorBoardLogger",
        "init_args": {"save_dir": str(root), "name": name},
    }


def _check_one_schedule(checkpoint: Any) -> None:
    """Lightning's ModelCheckpoint writes on one schedule; say which settings to clear, in one line
    (a layer such as experiments/_base/preemptible.yaml sets one, a command-line flag another)."""
    names = ("every_n_train_steps", "every_n_epochs", "train_time_interval")
    given = [name for name in names if checkpoint.get(name)]
    if len(given) > 1:
        settings = " and ".join(f"{name}={checkpoint.get(name)}" for name in given)
        raise ConfigError(
            f"checkpoint: {settings} are alternatives (one checkpoint schedule); set all but one to "
            f"null, e.g. --checkpoint.{given[-1]} null"
        )


def _has_version_directories(logger: Any) -> bool:
    """TensorBoard and CSV loggers: ``save_dir/name/version_N``, like the zoo's run directories."""
    class_path = (logger.get("class_path") if hasattr(logger, "get") else None) or ""
    return class_path.rsplit(".", 1)[-1] in ("TensorBoardLogger", "CSVLogger")


#: Data settings that do not change what is trained: a resume may set them otherwise.
_FREE_DATA_SETTINGS = {"data_dir", "num_workers", "download", "on_device"}


def _setting_differences(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, saved, current)`` for the model and data settings that differ between two configs."""
    flat_saved, flat_current = (
        dict(_flatten({k: c.get(k) for k in ("model", "data")})) for c in (saved, current)
    )
    free = {f"data.{name}" for name in _FREE_DATA_SETTINGS}
    keys = sorted((flat_saved.keys() | flat_current.keys()) - free)
    return [
        (k, flat_saved.get(k), flat_current.get(k)) for k in keys if flat_saved.get(k) != flat_current.get(k)
    ]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():  # data.init_args.image_size is data.image_size on the command line
            yield from _flatten(item, prefix if key == "init_args" else f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), list(value) if isinstance(value, tuple) else value


@rank_zero_only
def _say(message: str) -> None:
    """One line for the user on stderr, from the first process only."""
    print(f"gan-zoo: {message}", file=sys.stderr, flush=True)


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
            "epilog": _EPILOG,
            "exit_on_error": False,  # errors reach main() and become one line
            # Each subcommand's --help opens with its line of `gan-zoo --help`.
            **{name: {"description": DESCRIPTIONS[name]} for name in GanZooCLI.subcommands()},
        },
        args=args,
        run=run,
    )


_DESCRIPTION = (
    "Train and evaluate the GANs of gan_zoo. Start from an experiment file: "
    "gan-zoo fit --config experiments/quickstart.yaml (the README lists them all)."
)
_EPILOG = (
    "A command's options: gan-zoo COMMAND --help. Model and data arguments: "
    "gan-zoo fit --model DCGAN --help, gan-zoo fit --data Digits --help."
)

#: Commands beyond LightningCLI's, as ``name -> "module:function"``; each function takes the
#: remaining arguments. Imported lazily so ``gan-zoo fit`` never pays for them.
COMMANDS: dict[str, str] = {
    "singan": "gan_zoo.commands.singan:main",
    "sample": "gan_zoo.commands.sample:main",
    "evaluate": "gan_zoo.commands.evaluate:main",
    "analyze": "gan_zoo.commands.analyze:main",
}

#: Every command's line in ``gan-zoo --help``, in the order listed there.
DESCRIPTIONS: dict[str, str] = {
    "fit": "Train a model (--ckpt_path last resumes the newest run).",
    "validate": "A checkpoint's losses on the validation split.",
    "test": "A checkpoint's losses on the test split.",
    "sample": "Images from a checkpoint: a grid, single images or latent walks.",
    "evaluate": "A checkpoint's FID, KID, IS and other sample metrics.",
    "analyze": "The papers' analyses: D's features, resolution, truncation.",
    "singan": "SinGAN's applications: samples, harmonize, edit, paint, enlarge.",
}


def overview() -> argparse.ArgumentParser:
    """The parser of ``gan-zoo --help``: every command with its one line (each command parses its own
    arguments; LightningCLI's own list would show the Trainer methods' docstrings, cut mid-sentence)."""
    parser = argparse.ArgumentParser(prog="gan-zoo", description=_DESCRIPTION, epilog=_EPILOG)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, description in DESCRIPTIONS.items():
        commands.add_parser(name, help=description)
    return parser


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
    if argv[:1] in (["-h"], ["--help"]):
        overview().print_help()
        raise SystemExit(0)
    with reported("gan-zoo", {"model": MODELS.names(), "data": data_module_names()}):
        if not argv:
            raise ConfigError(f"name a command: {', '.join(DESCRIPTIONS)} (gan-zoo --help describes them)")
        if argv[0] == "predict":
            raise ConfigError(
                "there is no predict command; for a checkpoint's images use "
                "gan-zoo sample --ckpt_path PATH --out grid.png"
            )
        if argv[0] in COMMANDS:
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
