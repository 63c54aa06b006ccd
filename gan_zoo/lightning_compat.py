"""Everything gan_zoo takes from Lightning, in one place: base classes that work under both packages,
and the few Lightning internals the library cannot do without.

**Both packages.** Lightning ships twice: as ``pytorch_lightning`` and inside the unified ``lightning``
package (``lightning.pytorch``). The two are copies of one code base with distinct classes, and each
``Trainer`` accepts only its own: ``lightning.pytorch.Trainer().fit(model)`` raises "model must be a
LightningModule" for a ``pytorch_lightning.LightningModule``. The bases below derive from *both*
packages' classes when both are installed, so every gan_zoo model, data module and callback passes both
Trainers' checks. Each Trainer also asks "is this hook overridden?" by comparing a method's code with
its own package's default, and the two packages' defaults are different code objects; so an attribute
that both packages define and the gan_zoo class does not override is looked up in the package whose
Trainer runs the object (:class:`_PerPackage`). Under either Trainer the object then behaves exactly as
that package's own class would. Without ``lightning`` installed the bases are ``pytorch_lightning``'s.

**Internals.** Each use of a Lightning internal below says why it is needed and is covered by a test
(``tests/test_lightning_compat.py``); ``pyproject.toml`` bounds Lightning to the versions tested.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import re
import types
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytorch_lightning
import torch

try:
    import lightning.pytorch as unified
except ImportError:  # the unified package is optional
    unified = None

__all__ = [
    "NOISE",
    "PACKAGES",
    "Callback",
    "LRSchedulerCallable",
    "LightningDataModule",
    "LightningModule",
    "ModelCheckpoint",
    "ModelSummary",
    "OptimizerCallable",
    "as_automatic_optimization",
    "ddp_options",
    "enable_find_unused_parameters",
    "is_exactly",
    "is_instance_of",
    "package_of",
    "quiet_checkpoint_restore",
    "rank_zero_info",
    "rank_zero_warn",
    "refresh_progress_bar_metrics",
    "save_arguments_as_hyperparameters",
    "should_write_step_logs",
    "start_epoch_after_resume_from_last_batch",
    "sync_module_states",
]

#: The Lightning packages installed, ``pytorch_lightning`` first.
PACKAGES: tuple[types.ModuleType, ...] = (pytorch_lightning,) + ((unified,) if unified else ())

#: ``params -> Optimizer`` and ``optimizer -> LRScheduler``, as LightningCLI types them (the same types
#: in both packages: ``Callable``s, so a config names the class and its arguments).
OptimizerCallable = Callable[[Iterable], torch.optim.Optimizer]
LRSchedulerCallable = Callable[
    [torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler | torch.optim.lr_scheduler.ReduceLROnPlateau
]

_PL, _UNIFIED = "pytorch_lightning", "lightning.pytorch"
# The package whose Trainer last attached a gan_zoo module: callbacks have no trainer of their own.
_active = [_PL]


def package_of(trainer: Any) -> str:
    """``"lightning.pytorch"`` for a Trainer of the unified package, else ``"pytorch_lightning"``."""
    return _UNIFIED if type(trainer).__module__.startswith("lightning.") else _PL


class _PerPackage:
    """A method both packages define: the one of the package whose Trainer runs the object."""

    def __init__(self, name: str, choices: dict[str, Any], trainer_attribute: str | None) -> None:
        self.name, self.choices, self.trainer_attribute = name, choices, trainer_attribute

    def _choice(self, obj: Any) -> Any:
        if obj is None:
            return self.choices[_PL]
        trainer = obj.__dict__.get(self.trainer_attribute) if self.trainer_attribute else None
        return self.choices[package_of(trainer) if trainer is not None else _active[0]]

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        attribute = self._choice(obj)
        return attribute.__get__(obj, owner) if hasattr(attribute, "__get__") else attribute


class _PerPackageProperty(_PerPackage):
    """A property both packages define; setting ``trainer`` also records which package runs now."""

    def __set__(self, obj: Any, value: Any) -> None:
        if self.name == "trainer" and value is not None:
            _active[0] = package_of(value)
        self._choice(obj).__set__(obj, value)

    def __delete__(self, obj: Any) -> None:
        self._choice(obj).__delete__(obj)


# Not dispatched: what Python and the class machinery own, and __init__ (both packages' run, in MRO order).
_NOT_DISPATCHED = {
    "__init__",
    "__dict__",
    "__weakref__",
    "__module__",
    "__doc__",
    "__annotations__",
    "__jit_unused_properties__",
    "__getstate__",
    "__str__",
    "__qualname__",
}


def _twin(base: Callable[[types.ModuleType], type], trainer_attribute: str | None) -> type:
    """One class deriving from ``base(package)`` of every installed package (see the module docstring)."""
    classes = [base(package) for package in PACKAGES]
    if len(classes) == 1:
        return classes[0]
    first, second = classes
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": first.__doc__}
    for name in set(dir(first)) & set(dir(second)):
        mine, theirs = inspect.getattr_static(first, name), inspect.getattr_static(second, name)
        if name in _NOT_DISPATCHED or mine is theirs:
            continue
        kind = _PerPackageProperty if hasattr(mine, "__set__") else _PerPackage
        namespace[name] = kind(name, {_PL: mine, _UNIFIED: theirs}, trainer_attribute)
    return type(first.__name__, tuple(classes), namespace)


LightningModule = _twin(lambda p: p.LightningModule, "_trainer")
LightningDataModule = _twin(lambda p: p.LightningDataModule, "trainer")
Callback = _twin(lambda p: p.Callback, None)
ModelCheckpoint = _twin(lambda p: p.callbacks.ModelCheckpoint, None)
ModelSummary = _twin(lambda p: p.callbacks.ModelSummary, None)


# ---------------------------------------------------------------------------------------------- internals
def save_arguments_as_hyperparameters(
    obj: Any, arguments: dict[str, Any], ignore: Iterable[str] = (), *, logger: bool = True
) -> None:
    """``obj.save_hyperparameters()`` with the constructor's arguments given (see
    :func:`gan_zoo.arguments.constructor_arguments`).

    Lightning's ``save_hyperparameters()`` collects a constructor's arguments from the call frames by
    reading each class's ``__init__`` signature; gan_zoo's classes publish a signature that also lists
    what their ``__init__`` passes on through ``**kwargs`` (:mod:`gan_zoo.arguments`), which the frame
    of that ``__init__`` does not hold by name. Lightning's own function takes them directly
    (``given_hparams``). When LightningCLI instantiates the class, what it records (``_class_path``,
    ``_instantiator``) is kept as well, as in Lightning. ``logger`` sends them to the loggers when
    training starts, as the method's own flag does.
    """
    from pytorch_lightning.core.mixins.hparams_mixin import _given_hyperparameters
    from pytorch_lightning.utilities.parsing import save_hyperparameters

    given = _given_hyperparameters.get()
    if given is None and unified is not None:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters as _unified_given

        given = _unified_given.get()
    recorded = {key: value for key, value in (given or {}).items() if key.startswith("_")}
    frame = inspect.currentframe()
    obj._log_hyperparams = logger  # what the method sets before calling this function
    save_hyperparameters(obj, ignore=list(ignore), frame=frame, given_hparams={**arguments, **recorded})


def should_write_step_logs(trainer: Any) -> bool:
    """Whether Lightning writes step metrics to the loggers after this batch.

    The training step keeps its metrics on the device and hands them to ``self.log`` only on these
    batches (``self.log`` costs ~0.3 ms a call). Lightning's ``LearningRateMonitor`` asks the same
    private connector; ``fast_dev_run`` writes every batch.
    """
    return bool(trainer._logger_connector.should_update_logs or trainer.fast_dev_run)


def is_instance_of(obj: Any, name: str) -> bool:
    """``isinstance(obj, <package>.<name>)`` for either package, e.g. ``name="strategies.FSDPStrategy"``."""
    return any(isinstance(obj, _lookup(package, name)) for package in PACKAGES)


def is_exactly(obj: Any, name: str) -> bool:
    """``type(obj) is <package>.<name>`` for either package (a plain class, not a subclass of it)."""
    return any(type(obj) is _lookup(package, name) for package in PACKAGES)


def _lookup(package: types.ModuleType, name: str) -> Any:
    for part in name.split("."):
        package = getattr(package, part)
    return package


def rank_zero_info(message: str) -> None:
    """Log ``message`` once, from the process of rank 0."""
    pytorch_lightning.utilities.rank_zero.rank_zero_info(message)


def rank_zero_warn(message: str) -> None:
    """Warn once, from the process of rank 0 (Lightning's warning category, shown once per message)."""
    pytorch_lightning.utilities.rank_zero.rank_zero_warn(message)


def ddp_options(strategy: Any) -> dict[str, Any]:
    """The ``DistributedDataParallel`` keyword arguments a ``DDPStrategy`` was given (private there)."""
    return strategy._ddp_kwargs


def enable_find_unused_parameters(strategy: Any) -> bool:
    """Turn on ``find_unused_parameters`` of a plain ``DDPStrategy``; ``False`` if it already was.

    Lightning keeps the DDP options in a private dict and has no setter; the strategy only reads it
    when it wraps the module, after the LightningModule's ``setup`` hook, where gan_zoo calls this.
    """
    if strategy._ddp_kwargs.get("find_unused_parameters"):
        return False
    strategy._ddp_kwargs["find_unused_parameters"] = True
    return True


def sync_module_states(module: torch.nn.Module) -> None:
    """Broadcast ``module``'s parameters and buffers from rank 0, as ``DistributedDataParallel`` does on
    construction; the GAN strategy does not wrap the module, so it does this itself."""
    from pytorch_lightning.overrides.distributed import _sync_module_states

    _sync_module_states(module)


def start_epoch_after_resume_from_last_batch(trainer: Any) -> bool:
    """Count and announce the next epoch's start when a run resumes from its previous epoch's last batch.

    Call it in ``on_train_start``, after the fit loop has read the checkpoint. Lightning counts a batch
    as completed only after its ``on_train_batch_end`` hooks, so a checkpoint saved there
    (``ModelCheckpoint(every_n_train_steps=…)`` or ``train_time_interval``) records that batch as
    unfinished (https://github.com/Lightning-AI/pytorch-lightning/issues/19815, open). The loops make
    up for it on restore. After an epoch's *last* batch, ``FitLoop.reset`` then counts that epoch as
    processed and completed, but the run is still marked "restarted mid-epoch", so
    ``FitLoop.on_advance_start`` skips the next epoch's start: its ``ready`` / ``started`` counts and
    its ``on_train_epoch_start`` hooks. The epoch progress stays one epoch behind from then on, reading
    ``ready == processed`` in the middle of an epoch, which ``FitLoop.restarting`` takes for a finished
    epoch: the next resume from a mid-epoch checkpoint restarts the batch counters at 0, and one from a
    later epoch's last batch hands the sampler the previous epoch's number and trains that epoch again.

    Clearing the fit loop's restart stage at this point lets the next epoch start as in an
    uninterrupted run; the epoch loop still takes its own restart path (the batch counted, the
    counters reset for the new epoch). As in Lightning's own handling, the validation and epoch-end
    hooks that followed the saved batch in the interrupted run are not run again. A no-op for every
    other checkpoint, and once Lightning counts the batch before the hooks
    (``tests/test_lightning_compat_resume.py`` then fails, to say this can go).

    Returns:
        Whether the run was resuming from an epoch's last batch.
    """
    fit_loop = trainer.fit_loop
    epoch_loop = fit_loop.epoch_loop
    after_last_batch = (
        fit_loop.restarted_mid_epoch
        and epoch_loop.restarted_on_train_batch_end
        and epoch_loop.batch_progress.is_last_batch
    )
    if after_last_batch:
        fit_loop.reset_restart_stage()
    return after_last_batch


def refresh_progress_bar_metrics(bar: Any, trainer: Any, module: Any) -> None:
    """Show the metrics logged so far on a ``RichProgressBar`` now.

    Lightning runs the callbacks' ``on_train_epoch_end`` before the LightningModule's, so the epoch
    means the module logs there reach the bar with its next update, the next epoch's first batch, and
    never for the last epoch. ``RichProgressBar._update_metrics`` is the bar's own update (private, no
    public equivalent); ``tests/test_quiet.py`` checks that the last epoch's means are on the bar.
    """
    bar._update_metrics(trainer, module)


class _AutomaticOptimizationView:
    """A LightningModule as seen by ``ModelCheckpoint.on_train_batch_end``: automatic optimization."""

    automatic_optimization = True

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


def as_automatic_optimization(module: Any) -> Any:
    """``module`` for ``ModelCheckpoint.on_train_batch_end``, which then checkpoints it by steps *and*
    by time.

    Lightning 2.6 gives manual optimization (every gan_zoo model) a branch of its own there (added
    for a "pre-optimization state" snapshot that only a module with ``saved_models`` and ``layer``
    attributes uses): it ignores ``train_time_interval``, so time-interval checkpoints are never
    written (https://github.com/Lightning-AI/pytorch-lightning/pull/21699, open), and it warns on
    every step checkpoint that the state saved is the one after the optimizer step, which is the
    state a resume needs. The automatic-optimization branch does both intervals and nothing else with
    the module. ``tests/test_lightning_compat_resume.py`` fails once the manual branch writes
    time-interval checkpoints, to say this can go.
    """
    return _AutomaticOptimizationView(module)


# ------------------------------------------------------------------------- messages with nothing to act on
#: Messages Lightning and torch print on every plain ``gan-zoo fit``/``validate``/``test`` that leave the
#: user nothing to do, as regular expressions; silenced when gan_zoo is imported (library and command
#: alike). ``tests/test_quiet.py`` runs the command and fails on any of them, or on any other warning.
NOISE = {
    # torch 2.14 deprecates ``isinstance(x, LeafSpec)``, which Lightning 2.6's utilities/_pytree.py still
    # uses on every batch transfer: Lightning's code has to change, not the user's.
    "leafspec": r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    # An epoch shorter than ``log_every_n_steps``: Lightning counts the steps across epochs, so the step
    # logs still come every ``log_every_n_steps`` batches and the epoch means (on the progress bar too)
    # at the end of every epoch; nothing is lost by a short epoch.
    "log_interval": r"The number of training batches \(\d+\) is smaller than the logging interval",
    # ``torch.load(weights_only=True)`` of a file pickled with protocol 3+ (Lightning's checkpoints, the
    # Inception weights): an advisory that the restricted unpickler "might not" support every opcode;
    # one it does not support fails with an error of its own.
    "pickle_protocol": r"Detected pickle protocol \d+ in the checkpoint",
    # Lightning's advice for a loader with fewer than 2 workers on a machine with 4+ cores; silenced by
    # the in-memory data modules only (see ImageDataModule._loader), whose batches are one gather from
    # memory that worker processes would only slow down with their start-up and inter-process copies.
    "workers": r"The '\w+' does not have many workers",
    # validate/test from a checkpoint written with other callback settings (another checkpoint
    # schedule, say): Lightning asks for the same callbacks, which only matters when resuming a fit.
    # Silenced by ``gan-zoo validate`` and ``gan-zoo test``, which use the checkpoint's weights only.
    "callback_state": r"Be aware that when using `ckpt_path`, callbacks used to create the checkpoint",
    # Advertisements for Lightning's cloud products, at every Trainer construction and first log.
    "tip": r"💡 Tip: ",
    # gan_zoo's own summary (gan_zoo.callbacks.ModelSummary, without the FLOPs column) replaces Lightning's.
    "summary": r"Trainer already configured with model summary callbacks",
    # Accelerators that are absent: a CPU machine's every run would open with these. A GPU or TPU that
    # is there is still named (with Lightning's warning when it is not used); the seed is in config.yaml.
    "no_accelerator": r"(GPU available: False, used: False|TPU available: False, using: 0 TPU cores)$",
    "seed": r"(\[rank: \d+\] )?Seed set to \d+$",
}
#: The entries of :data:`NOISE` that Lightning logs (``rank_zero_info``, ``log.info``) rather than warns.
_LOGGED_NOISE = re.compile("|".join(NOISE[name] for name in ("tip", "summary", "no_accelerator", "seed")))

# Lightning's informational messages go through these loggers (``rank_zero_info``, the seed's own).
_RANK_ZERO_LOGGERS = (
    "pytorch_lightning.utilities.rank_zero",
    "lightning.pytorch.utilities.rank_zero",
    "lightning_fabric.utilities.rank_zero",
    "lightning.fabric.utilities.rank_zero",
    "lightning_fabric.utilities.seed",
    "lightning.fabric.utilities.seed",
)


class _DropNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _LOGGED_NOISE.match(str(record.msg))


def _silence_noise() -> None:
    for name in ("leafspec", "log_interval", "pickle_protocol"):  # "workers": see the entry
        warnings.filterwarnings("ignore", message=NOISE[name])
    for name in _RANK_ZERO_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise())


_silence_noise()

#: ``ModelCheckpoint`` messages that are expected when a checkpoint is restored (see
#: :func:`quiet_checkpoint_restore`).
_RESTORE_MESSAGES = (
    # setup() on a resumed fit: the run continues its own checkpoint directory, which holds its checkpoints.
    r"Checkpoint directory .* exists and is not empty",
    # load_state_dict() in validate/test (a new run directory) or a resume into another directory: the
    # top-k bookkeeping of the old directory does not apply to the new one, and that is all it says.
    r"The dirpath has changed from .* won't be reloaded",
)


@contextlib.contextmanager
def quiet_checkpoint_restore() -> Iterator[None]:
    """A ``with`` block in which ``ModelCheckpoint``'s two warnings about restoring from a checkpoint are
    not shown (Lightning warns with ``rank_zero_warn``; its texts are matched, see ``_RESTORE_MESSAGES``)."""
    with warnings.catch_warnings():
        for message in _RESTORE_MESSAGES:
            warnings.filterwarnings("ignore", message=message)
        yield
