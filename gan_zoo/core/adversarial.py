"""``AdversarialModule``: the two-player training step, written once for every GAN in the zoo."""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Literal

import pytorch_lightning as pl
import torch
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from gan_zoo.checkpoints import MODEL_CLASS_KEY, allow_zoo_objects, check_compatible, class_path
from gan_zoo.core.distributed import prepare_for_distributed
from gan_zoo.core.ema import ExponentialMovingAverage
from gan_zoo.core.latent import truncated_normal
from gan_zoo.core.performance import fast_adam_options
from gan_zoo.core.step import Step
from gan_zoo.core.training_log import TrainingLog
from gan_zoo.losses import AdversarialLoss, get_loss
from gan_zoo.losses.regularizers import Network, Regularizer, get_regularizer


class AdversarialModule(pl.LightningModule):
    """A generator G, a discriminator D, one objective and the schedule that trains them.

    The schedule (Goodfellow et al. 2014, Algorithm 1, with k = ``n_critic``):

    * every batch: draw z, generate x̃ = G(z) once (:meth:`make_step`); update D on (x, x̃.detach())
      with G's parameters frozen;
    * every ``n_critic``-th batch: update G on the *same* x̃ with D's parameters frozen, then update
      the EMA copy of G if there is one.

    Training metrics go through :attr:`training_log` and reach ``self.log`` in
    ``on_train_batch_end`` / ``on_train_epoch_end`` (see :mod:`gan_zoo.core.training_log`); a subclass
    overriding those hooks, or ``on_train_epoch_start``, calls ``super()``.

    Subclasses build the two networks and pass them in; a paper that changes the step overrides
    :meth:`discriminator_step` or :meth:`generator_step`, one that conditions G on the batch (a
    caption) overrides :meth:`make_step`. Networks follow one calling convention:
    ``generator(z)`` / ``discriminator(x)``, with a second argument ``y`` (long labels ``[N]``) when
    the model is class-conditional.

    .. note:: **``max_steps`` counts optimizer steps, not batches.** With manual optimization Lightning
       advances ``trainer.global_step`` once per ``optimizer.step()`` (Lightning issue 17958): with
       ``n_critic = 1`` that is two steps per batch, with ``n_critic = 5`` it is 1.2 per batch.
       ``max_steps`` and ``ModelCheckpoint(every_n_train_steps=...)`` inherit this. Prefer
       ``max_epochs``.

    Args:
        generator: G, mapping latents ``[N, latent_dim]`` (and labels) to images in [-1, 1].
        discriminator: D, mapping images (and labels) to logits ``[N]`` or ``[N, 1]``.
        image_shape: ``(C, H, W)`` of the images; linked from the data module by the CLI.
        num_classes: number of classes of the data, ``None`` for unlabelled data.
        latent_dim: size of z ~ N(0, I).
        loss: an objective from :data:`gan_zoo.losses.LOSSES` by name, or an instance.
        regularizers: penalties and constraints (gradient penalty, weight clipping, …) from
            :data:`gan_zoo.losses.REGULARIZERS` by name, or instances.
        n_critic: D updates per G update (k in Algorithm 1; 5 for WGAN).
        g_optimizer / d_optimizer: ``params -> Optimizer``; ``None`` uses :meth:`default_optimizer`,
            the paper's choice.
        g_lr_scheduler / d_lr_scheduler: ``optimizer -> LRScheduler``, stepped once per epoch.
        ema_decay: keep an exponential moving average of G with this decay and sample from it.
        ema_start: the average copies G (instead of averaging) for its first ``ema_start`` updates.
        g_grad_clip / d_grad_clip: clip each network's gradient norm to this value (after the mixed
            precision unscale, so the threshold means the same at every precision).
        grid_columns: columns of the fixed-noise sample grid; conditional models get one row per
            class, unconditional ones a square grid.
    """

    #: Class-conditional models set this; they then need ``num_classes`` and labels in every batch.
    conditional: bool = False
    #: The prior p(z): ``"normal"`` is N(0, I); ``"uniform"`` is U[0, 1)^d (Mirza & Osindero 2014).
    latent_distribution: Literal["normal", "uniform"] = "normal"

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        image_shape: tuple[int, int, int],
        num_classes: int | None = None,
        latent_dim: int = 100,
        loss: str | AdversarialLoss = "non_saturating",
        regularizers: list[str | Regularizer] | None = None,
        n_critic: int = 1,
        g_optimizer: OptimizerCallable | None = None,
        d_optimizer: OptimizerCallable | None = None,
        g_lr_scheduler: LRSchedulerCallable | None = None,
        d_lr_scheduler: LRSchedulerCallable | None = None,
        ema_decay: float | None = None,
        ema_start: int = 0,
        g_grad_clip: float | None = None,
        d_grad_clip: float | None = None,
        grid_columns: int = 8,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            ignore=[
                "generator",
                "discriminator",
                "g_optimizer",
                "d_optimizer",
                "g_lr_scheduler",
                "d_lr_scheduler",
            ]
        )
        self.automatic_optimization = False
        _check_positive(n_critic=n_critic, latent_dim=latent_dim, grid_columns=grid_columns)
        if self.conditional and (num_classes is None or num_classes < 2):
            raise ValueError(
                f"{type(self).__name__} is class-conditional and needs labelled data (num_classes >= 2); "
                "the data module provides none."
            )
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.loss = get_loss(loss)
        self.regularizers = [get_regularizer(r) for r in regularizers or []]
        self.n_critic = n_critic
        self.generator = generator
        self.discriminator = discriminator
        self.generator_ema = ExponentialMovingAverage(generator, ema_decay, ema_start) if ema_decay else None
        self._optimizer_factories = {"generator": g_optimizer, "discriminator": d_optimizer}
        self._scheduler_factories = {"generator": g_lr_scheduler, "discriminator": d_lr_scheduler}
        self._grad_clip = {"generator": g_grad_clip, "discriminator": d_grad_clip}
        self._d_steps = 0  # D updates so far; decides when G steps, saved in checkpoints
        self._g_steps = 0
        #: This epoch's training metrics, handed to the loggers when Lightning writes (see TrainingLog).
        self.training_log = TrainingLog()
        self._register_fixed_inputs(grid_columns)

    # ------------------------------------------------------------------ generation
    def forward(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        """G(z) (or G(z, y) for conditional models): images in [-1, 1] of shape ``[N, *image_shape]``."""
        return self.generator(z, y) if self.conditional else self.generator(z)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        """D(x) (or D(x, y)) as logits ``[N]``."""
        logits = self.discriminator(x, y) if self.conditional else self.discriminator(x)
        return logits.reshape(x.shape[0], -1).squeeze(1)

    def sample_latent(
        self,
        n: int,
        *,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """z ~ p(z) of shape ``[n, latent_dim]``; with ``truncation`` a truncated normal."""
        device = generator.device if generator is not None else self.device
        return self._draw_latent((n, self.latent_dim), truncation, device, generator).to(self.device)

    def _draw_latent(
        self,
        shape: tuple[int, ...],
        truncation: float | None,
        device: torch.device | None,
        generator: torch.Generator | None,
    ) -> Tensor:
        if truncation is not None:
            if self.latent_distribution != "normal":
                raise ValueError("the truncation trick needs a normal prior")
            return truncated_normal(shape, truncation, device=device, generator=generator)
        if self.latent_distribution == "uniform":
            return torch.rand(shape, device=device, generator=generator)
        return torch.randn(shape, device=device, generator=generator)

    def sample_labels(self, n: int, *, generator: torch.Generator | None = None) -> Tensor | None:
        """Uniform class labels ``[n]`` for conditional models, ``None`` otherwise."""
        if not self.conditional:
            return None
        device = generator.device if generator is not None else self.device
        return torch.randint(self.num_classes, (n,), device=device, generator=generator).to(self.device)

    @torch.no_grad()
    def sample(
        self,
        n: int | None = None,
        y: Tensor | int | None = None,
        *,
        z: Tensor | None = None,
        truncation: float | None = None,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Generate images in [-1, 1]: eval mode, no grad, from the EMA generator when there is one.

        Args:
            n: how many images (not needed when ``z`` is given).
            y: labels for conditional models: a tensor ``[n]``, one int for all, or ``None`` for
                uniformly drawn classes.
            z: latents to use instead of drawing them (e.g. :attr:`fixed_noise`).
            truncation: draw z from a normal truncated at this threshold (the truncation trick).
            generator: a ``torch.Generator`` for reproducible latents and labels.

        Returns:
            ``[n, C, H, W]`` images in [-1, 1].
        """
        if z is None:
            if n is None:
                raise ValueError("sample() needs n or z")
            z = self.sample_latent(n, truncation=truncation, generator=generator)
        z = z.to(self.device)
        y = self._labels_for(z.shape[0], y, generator)
        network = self.generator_ema.module if self.generator_ema is not None else self.generator
        was_training = network.training
        network.eval()
        try:
            images = network(z, y) if self.conditional else network(z)
        finally:
            network.train(was_training)
        return images.float().clamp(-1.0, 1.0)

    def _labels_for(self, n: int, y: Tensor | int | None, generator: torch.Generator | None) -> Tensor | None:
        if not self.conditional:
            if y is not None:
                raise ValueError(f"{type(self).__name__} is unconditional; it takes no labels")
            return None
        if y is None:
            return self.sample_labels(n, generator=generator)
        y = (
            torch.as_tensor(y, dtype=torch.long, device=self.device).expand(n)
            if not torch.is_tensor(y)
            else y
        )
        y = y.to(self.device, torch.long)
        if y.shape != (n,):
            raise ValueError(f"labels must have shape [{n}], got {tuple(y.shape)}")
        if bool(((y < 0) | (y >= self.num_classes)).any()):
            raise ValueError(f"labels must lie in [0, {self.num_classes}); got {y.unique().tolist()}")
        return y

    def _register_fixed_inputs(self, columns: int) -> None:
        """Fixed latents (and labels) for sample grids; buffers, so they travel in checkpoints."""
        rows = self.num_classes if self.conditional else columns
        seeded = torch.Generator().manual_seed(0)  # leaves the global RNG stream untouched
        noise = self._draw_latent((rows * columns, self.latent_dim), None, None, seeded)
        self.register_buffer("fixed_noise", noise)
        labels = torch.arange(rows).repeat_interleave(columns) if self.conditional else torch.empty(0)
        self.register_buffer("fixed_labels", labels.long())

    # ------------------------------------------------------------------ optimization
    def setup(self, stage: str) -> None:
        if stage == "fit":
            prepare_for_distributed(self.trainer)  # per-process noise; plain DDP made GAN-safe

    def default_optimizer(self, params: Iterable[nn.Parameter], network: Network) -> torch.optim.Optimizer:
        """The paper's optimizer for ``network``; used when no ``g_optimizer``/``d_optimizer`` is given.

        Default: Adam(lr 2e-4, β = (0.5, 0.999)), Radford et al. 2016 §4, with the fused kernel unless
        the network's gradients are clipped (:func:`~gan_zoo.core.performance.fast_adam_options`).
        """
        fast = fast_adam_options(grad_clip=bool(self._grad_clip[network]))
        return torch.optim.Adam(params, lr=2e-4, betas=(0.5, 0.999), **fast)

    def configure_optimizers(self) -> Any:
        optimizers, schedulers = [], []
        for network, module in (("generator", self.generator), ("discriminator", self.discriminator)):
            factory = self._optimizer_factories[network]
            params = module.parameters()
            optimizer = factory(params) if factory else self.default_optimizer(params, network)
            optimizers.append(optimizer)
            if self._scheduler_factories[network] is not None:
                schedulers.append(self._scheduler_factories[network](optimizer))
        return optimizers, schedulers

    def make_step(self, batch: Any) -> Step:
        """The real batch and a freshly generated one: what one D (and G) update works on.

        The default draws z and labels from the priors and generates ``fake = G(z, y)``. Override it
        when G is conditioned on something that comes with the batch (a caption, an image); the
        schedule calls it with gradients enabled only when G steps on this batch.
        """
        real, labels = self._unpack(batch)
        n = real.shape[0]
        fake_labels = self.sample_labels(n)
        return Step(real, labels, self(self.sample_latent(n), fake_labels), fake_labels)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        g_opt, d_opt = self.optimizers()
        g_steps_now = (self._d_steps + 1) % self.n_critic == 0
        # G's graph is only kept when G will step on this batch.
        with torch.set_grad_enabled(g_steps_now):
            step = self.make_step(batch)
        n = step.batch_size

        with self.toggled_optimizer(d_opt):
            d_terms = self._regularized("discriminator", replace(step, fake=step.fake.detach()))
            self._update(d_opt, d_terms["loss"], "discriminator")
        self._d_steps += 1
        self._log_terms("d", d_terms, n)

        if g_steps_now:
            with self.toggled_optimizer(g_opt):
                g_terms = self._regularized("generator", step)
                self._update(g_opt, g_terms["loss"], "generator")
            self._g_steps += 1
            if self.generator_ema is not None:
                self.generator_ema.update(self.generator, step=self._g_steps - 1)
            self._log_terms("g", g_terms, n)

    def discriminator_step(self, step: Step) -> dict[str, Tensor]:
        """D's loss on one batch: ``{"loss": ..., <extra terms>}``, each logged as ``train/d_<key>``.

        ``step.fake`` is already detached from G. Fills ``step.real_logits`` / ``step.fake_logits``
        for the regularizers.
        """
        step.real_logits = self.discriminate(step.real, step.real_labels)
        step.fake_logits = self.discriminate(step.fake, step.fake_labels)
        return {
            "loss": self.loss.d_loss(step.real_logits, step.fake_logits),
            "real": self.loss.output(step.real_logits.detach()).mean(),
            "fake": self.loss.output(step.fake_logits.detach()).mean(),
        }

    def generator_step(self, step: Step) -> dict[str, Tensor]:
        """G's loss on the batch generated for this step, logged as ``train/g_<key>``."""
        step.fake_logits = self.discriminate(step.fake, step.fake_labels)
        return {"loss": self.loss.g_loss(step.fake_logits)}

    def _regularized(self, network: Network, step: Step) -> dict[str, Tensor]:
        """The network's step terms with its regularizers' weighted penalties added to ``loss``
        (or standing in for it, for a regularizer that ``replaces_loss``).

        Each penalty is also logged under its regularizer's name (unweighted).
        """
        terms = self.discriminator_step(step) if network == "discriminator" else self.generator_step(step)
        updates = self._d_steps if network == "discriminator" else self._g_steps
        for regularizer in self.regularizers:
            if regularizer.network != network or updates % regularizer.interval:
                continue
            penalty = regularizer.penalty(self, step)
            if penalty is not None:
                weighted = regularizer.weight * regularizer.interval * penalty
                terms["loss"] = weighted if regularizer.replaces_loss else terms["loss"] + weighted
                terms[regularizer.name] = penalty.detach()
        return terms

    def _update(self, optimizer: Any, loss: Tensor, network: Network) -> None:
        # The gradients start from None, so they hold this backward's alone (the other network's
        # parameters are frozen by the toggle and never receive any). They stay until this network's
        # next update: freeing them right after the step, for the next backward to allocate them
        # again, doubled the page faults of a CPU step and cost 6 % of DCGAN's throughput.
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        optimizer.step()
        for regularizer in self.regularizers:
            if regularizer.network == network:
                regularizer.after_step(self)

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Runs after the AMP scaler has unscaled the gradients, so the clip threshold is in true units.
        if not any(self._grad_clip.values()):
            return  # nothing to clip: skip looking up which network the optimizer trains
        network = self._network_of(optimizer)
        if self._grad_clip[network]:
            self.clip_gradients(optimizer, self._grad_clip[network], gradient_clip_algorithm="norm")

    def _network_of(self, optimizer: torch.optim.Optimizer) -> Network:
        first_param = optimizer.param_groups[0]["params"][0]
        return "generator" if any(first_param is p for p in self.generator.parameters()) else "discriminator"

    def on_train_start(self) -> None:
        # The schedulers step at each epoch's end. A run resumed from a checkpoint written after an
        # epoch's last batch (a step checkpoint, saved before the epoch-end hooks) goes on with the next
        # epoch without running them: Lightning counts the epoch as finished. Its step is taken here,
        # where a scheduler behind the epoch count shows it is due.
        for scheduler in self._epoch_schedulers():
            if scheduler.last_epoch < self.current_epoch:
                with warnings.catch_warnings():  # the optimizer has stepped, only not in this process
                    warnings.filterwarnings("ignore", re.escape("Detected call of `lr_scheduler.step()`"))
                    scheduler.step()

    def on_train_epoch_end(self) -> None:
        for scheduler in self._epoch_schedulers():
            scheduler.step()
        means = self.training_log.means()
        # Under data parallelism each process averaged its own batches; one all-reduce per epoch
        # makes these the means over all of them.
        self._log_pending(means, "_epoch", on_step=False, on_epoch=True, sync_dist=True, batch_size=1)

    def _epoch_schedulers(self) -> list[Any]:
        schedulers = self.lr_schedulers()
        return schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []

    # ------------------------------------------------------------------ evaluation
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluation_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluation_step(batch, "test")

    def _evaluation_step(self, batch: Any, stage: str) -> None:
        """Both losses on held-out real images and fresh samples (no update)."""
        step = self.make_step(batch)
        n = step.batch_size
        d_terms = self.discriminator_step(replace(step))
        g_terms = self.generator_step(replace(step))
        self._log_terms("d", d_terms, n, stage)
        self._log_terms("g", g_terms, n, stage)

    # ------------------------------------------------------------------ bookkeeping
    def _unpack(self, batch: Any) -> tuple[Tensor, Tensor | None]:
        if torch.is_tensor(batch):
            real, labels = batch, None
        else:
            real, labels = batch[0], (batch[1] if len(batch) > 1 else None)
        if self.conditional and labels is None:
            raise ValueError(f"{type(self).__name__} is class-conditional but the batch has no labels")
        return real, labels

    def _log_terms(
        self, network: str, terms: Mapping[str, Tensor], batch_size: int, stage: str = "train"
    ) -> None:
        metrics = {f"{stage}/{network}_{key}": value.detach() for key, value in terms.items()}
        if stage == "train":
            self.training_log.update(metrics, batch_size)  # on the device, no host read
        else:  # once per evaluation batch: averaged over the processes under data parallelism
            self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=batch_size, sync_dist=True)

    def on_train_epoch_start(self) -> None:
        self.training_log.reset()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        # Lightning writes step metrics only on these batches (its LearningRateMonitor asks the same).
        if self.trainer._logger_connector.should_update_logs or self.trainer.fast_dev_run:
            self._log_pending(self.training_log.latest, "_step", on_step=True, on_epoch=False)

    def _log_pending(self, values: Mapping[str, Any], suffix: str, **options: Any) -> None:
        """``self.log`` the values as ``self.log(on_step=True, on_epoch=True)`` would have named them:
        averaged metrics with ``suffix`` for the loggers, and under their own name in
        ``trainer.callback_metrics`` (for ``ModelCheckpoint(monitor=...)``); others as they are."""
        averaged = {name: value for name, value in values.items() if self.training_log.averaged(name)}
        as_is = {name: value for name, value in values.items() if name not in averaged}
        self.log_dict({name + suffix: value for name, value in averaged.items()} | as_is, **options)
        self.log_dict(averaged, logger=False, **options)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["adversarial_schedule"] = {"d_steps": self._d_steps, "g_steps": self._g_steps}
        # Lets gan_zoo.load_model / gan-zoo sample find the class, and a resume refuse another model's file.
        checkpoint[MODEL_CLASS_KEY] = class_path(type(self))

    @classmethod
    def load_from_checkpoint(  # type: ignore[override]
        cls,
        checkpoint_path: Any,
        map_location: Any = None,
        hparams_file: Any = None,
        strict: bool | None = None,
        weights_only: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Lightning's ``load_from_checkpoint``, also when objectives or regularizers were given as
        instances: ``torch.load(weights_only=True)`` may rebuild the registered loss classes."""
        with allow_zoo_objects():
            return super().load_from_checkpoint(
                checkpoint_path,
                map_location=map_location,
                hparams_file=hparams_file,
                strict=strict,
                weights_only=weights_only,
                **kwargs,
            )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        check_compatible(self, checkpoint)  # one clear line instead of load_state_dict's key dump
        schedule = checkpoint.get("adversarial_schedule", {})
        self._d_steps = schedule.get("d_steps", 0)
        self._g_steps = schedule.get("g_steps", 0)


def shared_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`AdversarialModule` arguments found in a model's ``locals()``.

    A model spells out every argument in its own signature (so the CLI, ``--help`` and
    ``save_hyperparameters`` see them) and forwards the shared ones in one line::

        super().__init__(generator=G, discriminator=D, **shared_arguments(locals()))
    """
    names = inspect.signature(AdversarialModule.__init__).parameters
    skip = {"self", "generator", "discriminator"}
    return {name: arguments[name] for name in names if name in arguments and name not in skip}


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
