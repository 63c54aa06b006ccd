"""``AdversarialModule``: the two-player training step, written once for every GAN in the zoo."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from gan_zoo.arguments import DeclaredArguments, constructor_arguments
from gan_zoo.core.checkpoint_format import (
    MODEL_CLASS_KEY,
    SCHEDULE_KEY,
    allow_zoo_objects,
    check_compatible,
    class_path,
)
from gan_zoo.core.distributed import prepare_for_distributed
from gan_zoo.core.ema import ExponentialMovingAverage
from gan_zoo.core.latent import LatentPrior, draw_latent
from gan_zoo.core.optimizers import DEFAULT_ADAM, build_optimizer, build_scheduler
from gan_zoo.core.performance import cpu_flags, slow_bf16_warning
from gan_zoo.core.step import Step
from gan_zoo.core.training_log import TrainingLog
from gan_zoo.lightning_compat import (
    LightningModule,
    LRSchedulerCallable,
    OptimizerCallable,
    rank_zero_warn,
    save_arguments_as_hyperparameters,
    should_write_step_logs,
)
from gan_zoo.losses import AdversarialLoss, get_loss
from gan_zoo.losses.regularizers import Network, Regularizer, get_regularizer

#: Where G's update gets its fake batch: new latents, or the ones D's update just used.
GeneratorLatents = Literal["fresh", "reuse"]

#: Which generator samples: the average of G's weights, or G as trained.
Weights = Literal["ema", "raw"]

#: The loss terms that the progress bar shows, when a step reports them.
PROGRESS_BAR_TERMS = ("train/d_loss", "train/g_loss")

#: Seeds the latents (and labels) that recompute the averaged G's batch-norm statistics: a stream of
#: its own, apart from the sample grid's and the metrics' latents and from training's RNG.
STATISTICS_SEED = 2_718_281


class AdversarialModule(LightningModule, metaclass=DeclaredArguments):
    """A generator G, a discriminator D, one objective and the schedule that trains them.

    **The schedule** (Goodfellow et al. 2014, Algorithm 1; k = ``n_critic``). Every training batch is
    one update of D on the real batch x and a fake batch x̃ = G(z) (detached, with G frozen). After every
    ``n_critic``-th D update, G takes ``g_steps`` updates with D frozen, then the averaged copy of G (if
    any) follows. ``g_latents`` says what G's updates see: ``"fresh"`` draws new z (Algorithm 1, WGAN,
    WGAN-GP, BigGAN); ``"reuse"`` keeps the z of the last D update, so the first G update reuses the very
    fake batch D saw, without generating it again, and later ones regenerate it from that z (dcgan.torch,
    SinGAN). A variant configures this, and calls :meth:`update` from its own ``training_step`` when its
    paper needs more; it never re-implements it.

    **A model declares only what is its own.** A subclass builds its networks in :meth:`build_generator`
    and :meth:`build_discriminator` (called once :meth:`check_arguments` has passed; its own arguments
    are in ``self.hparams``), lists its own arguments in its ``__init__`` and passes the rest on with
    ``**kwargs``, and sets its paper's values of these arguments in a ``defaults`` class attribute (see
    :mod:`gan_zoo.arguments`). A paper that changes the loss of one update overrides
    :meth:`discriminator_step` / :meth:`generator_step`; one that conditions G on the batch (a caption, an
    image) overrides :meth:`make_step` and :meth:`regenerate`. Networks follow one calling convention:
    ``generator(z)`` / ``discriminator(x)``, with a second argument ``y`` (long labels ``[N]``) when the
    model is class-conditional.

    Training metrics go through :attr:`training_log` and reach ``self.log`` in ``on_train_batch_end`` /
    ``on_train_epoch_end`` (see :mod:`gan_zoo.core.training_log`); a subclass overriding those hooks, or
    ``on_train_epoch_start``, calls ``super()``.

    .. note:: **``max_steps`` counts optimizer steps, not batches.** With manual optimization Lightning
       advances ``trainer.global_step`` once per ``optimizer.step()`` (Lightning issue 17958): with
       ``n_critic = 1`` that is two steps per batch, with ``n_critic = 5`` it is 1.2 per batch.
       ``max_steps`` and ``ModelCheckpoint(every_n_train_steps=...)`` inherit this. Prefer
       ``max_epochs``.

    Args:
        image_shape: ``(C, H, W)`` of the images; linked from the data module by the CLI.
        num_classes: number of classes of the data, ``None`` for unlabelled data; linked from the data
            module by the CLI.
        latent_dim: size of z.
        latent_prior: p(z): ``"normal"`` N(0, I), ``"uniform"`` U[−1, 1]^d, ``"uniform_0_1"`` U[0, 1)^d.
        loss: an objective from :data:`gan_zoo.losses.LOSSES` by name, or an instance.
        regularizers: penalties and constraints (gradient penalty, weight clipping, …) from
            :data:`gan_zoo.losses.REGULARIZERS` by name, or instances. Their penalties add to the
            network's loss in any order; one that ``replaces_loss`` stands in for the adversarial term.
        n_critic: D updates per round (k in Algorithm 1; 5 for WGAN).
        g_steps: G updates per round (1; SinGAN takes 3).
        g_latents: ``"fresh"``: each G update draws new latents; ``"reuse"``: G's updates use the
            latents of the round's last D update, and the first reuses its fake batch (one generator
            pass less per round).
        g_optimizer: ``params -> Optimizer`` for G, or a ``{"class_path", "init_args"}`` dict; ``None``
            is the model's default (its paper's optimizer; here Adam(2e-4, β = (0.5, 0.999)), Radford et
            al. 2016 §4).
        d_optimizer: the same for D.
        g_lr_scheduler: ``optimizer -> LRScheduler`` for G, stepped once per epoch (or after each update
            when the scheduler has ``interval = "update"``); ``None`` is the model's default.
        d_lr_scheduler: the same for D.
        ema_decay: keep an exponential moving average of G with this decay and sample from it (see
            :class:`~gan_zoo.core.ExponentialMovingAverage` and docs/ema.md).
        ema_start: the average copies G (instead of averaging) for its first ``ema_start`` updates.
        ema_warmup: ramp the decay up as β_t = min(β, (1 + t) / (10 + t)), t = G's updates so far (counted
            from the start of training, not from ``ema_start``): the average starts from G, not from
            its random initialization, and spans about the last ninth of a short run.
        ema_bn_batches: before the averaged G samples, recompute its batch-norm running statistics
            from this many batches of its own activations (latents and labels drawn as in training),
            once per update of the average; 0 keeps the statistics of the live G.
        ema_bn_batch_size: latents per batch of that recomputation.
        g_grad_clip: clip G's gradient norm to this value (after the mixed-precision unscale, so the
            threshold means the same at every precision).
        d_grad_clip: the same for D.
        grid_columns: columns of the fixed-noise sample grid; conditional models get one row per
            class, unconditional ones a square grid.
    """

    #: Class-conditional models set this; they then need ``num_classes`` and labels in every batch.
    conditional: ClassVar[bool] = False
    #: p(z) of checkpoints written before ``latent_prior`` was an argument.
    legacy_latent_prior: ClassVar[str] = "normal"

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 64, 64),
        num_classes: int | None = None,
        latent_dim: int = 100,
        latent_prior: LatentPrior = "normal",
        loss: str | AdversarialLoss = "non_saturating",
        regularizers: list[str | Regularizer] | None = None,
        n_critic: int = 1,
        g_steps: int = 1,
        g_latents: GeneratorLatents = "fresh",
        g_optimizer: OptimizerCallable | None = DEFAULT_ADAM,
        d_optimizer: OptimizerCallable | None = DEFAULT_ADAM,
        g_lr_scheduler: LRSchedulerCallable | None = None,
        d_lr_scheduler: LRSchedulerCallable | None = None,
        ema_decay: float | None = None,
        ema_start: int = 0,
        ema_warmup: bool = True,
        ema_bn_batches: int = 16,
        ema_bn_batch_size: int = 64,
        g_grad_clip: float | None = None,
        d_grad_clip: float | None = None,
        grid_columns: int = 8,
    ) -> None:
        super().__init__()
        factories = ("g_optimizer", "d_optimizer", "g_lr_scheduler", "d_lr_scheduler")
        arguments = constructor_arguments(self)
        networks = [name for name, value in arguments.items() if isinstance(value, nn.Module)]
        save_arguments_as_hyperparameters(self, arguments, ignore=[*factories, *networks])
        self.automatic_optimization = False
        _check_positive(n_critic=n_critic, g_steps=g_steps, latent_dim=latent_dim, grid_columns=grid_columns)
        if ema_bn_batches < 0 or ema_bn_batch_size < 2:
            raise ValueError(
                f"ema_bn_batches must be >= 0 and ema_bn_batch_size >= 2 (batch statistics need two "
                f"samples), got {ema_bn_batches} and {ema_bn_batch_size}"
            )
        if g_latents not in ("fresh", "reuse"):
            raise ValueError(f"g_latents must be 'fresh' or 'reuse', got {g_latents!r}")
        if "conditional" in self.hparams:  # a model with both forms takes it as an argument (SAGAN)
            self.conditional = bool(self.hparams.conditional)
        self.image_shape = tuple(image_shape)
        self.num_classes = num_classes
        self.latent_dim = latent_dim
        self.latent_prior = latent_prior
        self.loss = get_loss(loss)
        self.regularizers = [get_regularizer(r) for r in regularizers or []]
        self.n_critic, self.g_steps, self.g_latents = n_critic, g_steps, g_latents
        self.check_arguments()
        self.generator, self.discriminator = self.build_networks()
        self.generator_ema = (
            ExponentialMovingAverage(self.generator, ema_decay, ema_start, ema_warmup) if ema_decay else None
        )
        self.ema_bn_batches, self.ema_bn_batch_size = ema_bn_batches, ema_bn_batch_size
        self._default_weights: Weights | None = None  # set by sampling_from()
        self.optimizer_factories: dict[Network, Any] = {
            "generator": g_optimizer or self.declared_default("g_optimizer"),
            "discriminator": d_optimizer or self.declared_default("d_optimizer"),
        }
        self.scheduler_factories: dict[Network, Any] = {
            "generator": g_lr_scheduler or self.declared_default("g_lr_scheduler"),
            "discriminator": d_lr_scheduler or self.declared_default("d_lr_scheduler"),
        }
        self.grad_clip: dict[Network, float | None] = {"generator": g_grad_clip, "discriminator": d_grad_clip}
        #: Updates of each network so far: the schedule's clock, saved in checkpoints.
        self.updates: dict[Network, int] = {"generator": 0, "discriminator": 0}
        #: This epoch's training metrics, handed to the loggers when Lightning writes (see TrainingLog).
        self.training_log = TrainingLog()
        self._register_fixed_inputs(grid_columns)

    # ------------------------------------------------------------------ what a model provides
    def check_arguments(self) -> None:
        """Raise ``ValueError`` for arguments the model cannot work with, before any network is built.

        The base checks labels for class-conditional models; a model adds its own checks and calls
        ``super()``.
        """
        if self.conditional and (self.num_classes is None or self.num_classes < 2):
            raise ValueError(
                f"{type(self).__name__} is class-conditional and needs labelled data (num_classes >= 2); "
                "the data module provides none."
            )

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """(G, D); override when the two share a part (the text-to-image GAN's text encoder)."""
        return self.build_generator(), self.build_discriminator()

    def build_generator(self) -> nn.Module:
        """G, from ``self.hparams``: ``G(z [N, latent_dim]) -> [N, *image_shape]`` (and labels)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_generator()")

    def build_discriminator(self) -> nn.Module:
        """D, from ``self.hparams``: ``D(x [N, *image_shape]) -> logits [N]`` or ``[N, 1]`` (and labels)."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_discriminator()")

    @staticmethod
    def from_networks(generator: nn.Module, discriminator: nn.Module, **arguments: Any) -> AdversarialModule:
        """The zoo's schedule, objectives and regularizers around networks of your own.

        ``generator(z)`` must map latents ``[N, latent_dim]`` to images ``[N, *image_shape]`` in [-1, 1]
        and ``discriminator(x)`` images to logits ``[N]`` or ``[N, 1]`` (both with a second argument,
        the labels, when ``conditional=True``). ``arguments`` are :class:`AdversarialModule`'s::

            model = AdversarialModule.from_networks(G, D, image_shape=(3, 64, 64), loss="hinge", n_critic=2)

        The networks are not hyperparameters: to load a checkpoint, build the module the same way and
        ``load_state_dict`` its ``state_dict``.
        """
        return GivenNetworks(generator=generator, discriminator=discriminator, **arguments)

    @classmethod
    def declared_default(cls, name: str) -> Any:
        """The class's default for argument ``name`` (its ``defaults`` entry, or its base class's)."""
        for klass in cls.__mro__:  # a subclass that does not pass the argument on has the base's
            parameter = getattr(klass, "__signature__", None)
            if parameter is not None and name in parameter.parameters:
                return parameter.parameters[name].default
        raise KeyError(name)

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
        """z ~ p(z) of shape ``[n, latent_dim]``; with ``truncation`` a normal truncated at ±truncation."""
        device = generator.device if generator is not None else self.device
        z = draw_latent(
            (n, self.latent_dim), self.latent_prior, truncation, device=device, generator=generator
        )
        return z.to(self.device)

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
        weights: Weights | None = None,
    ) -> Tensor:
        """Generate images in [-1, 1]: eval mode, no grad, from the averaged G when there is one.

        Args:
            n: how many images (not needed when ``z`` is given).
            y: labels for conditional models: a tensor ``[n]``, one int for all, or ``None`` for
                uniformly drawn classes.
            z: latents to use instead of drawing them (e.g. :attr:`fixed_noise`).
            truncation: draw z from a normal truncated at this threshold (the truncation trick).
            generator: a ``torch.Generator`` for reproducible latents and labels.
            weights: ``"ema"``: the average of G's weights, with batch-norm statistics recomputed for
                it; ``"raw"``: G as trained. ``None``: the choice of an enclosing
                :meth:`sampling_from`, else ``"ema"`` when the model keeps an average.

        Returns:
            ``[n, C, H, W]`` images in [-1, 1].
        """
        if z is None:
            if n is None:
                raise ValueError("sample() needs n or z")
            z = self.sample_latent(n, truncation=truncation, generator=generator)
        z = z.to(self.device)
        y = self.labels_for(z.shape[0], y, generator)
        network = self.sampling_network(weights)
        was_training = network.training
        network.eval()
        try:
            images = network(z, y) if self.conditional else network(z)
        finally:
            network.train(was_training)
        return images.float().clamp(-1.0, 1.0)

    @property
    def has_ema(self) -> bool:
        """Whether the model keeps an average of G's weights (``ema_decay`` is set)."""
        return self.generator_ema is not None

    @contextmanager
    def sampling_from(self, weights: Weights | None) -> Iterator[None]:
        """Within the block, :meth:`sample` uses ``weights`` unless told otherwise (``None``: its default),
        also when called by code that knows nothing of the choice (the metrics, the analyses)."""
        self.check_weights(weights)
        before, self._default_weights = self._default_weights, weights
        try:
            yield
        finally:
            self._default_weights = before

    def check_weights(self, weights: Weights | None) -> None:
        """Raise ``ValueError`` for an unknown choice, or ``"ema"`` when the model samples no average."""
        if weights not in (None, "ema", "raw"):
            raise ValueError(f"weights must be 'ema' or 'raw', got {weights!r}")
        if weights == "ema" and not self.has_ema:
            hint = " (ema_decay is not set)" if self.generator_ema is None else ""
            raise ValueError(
                f"this {type(self).__name__} has no average of G's weights to sample from{hint}; "
                "use weights='raw'"
            )

    def chosen_weights(self, weights: Weights | None = None) -> Weights:
        """What :meth:`sample` uses for ``weights``: itself, else the enclosing :meth:`sampling_from`'s,
        else ``"ema"`` when the model keeps an average and ``"raw"`` otherwise."""
        self.check_weights(weights)
        return weights or self._default_weights or ("ema" if self.has_ema else "raw")

    def sampling_network(self, weights: Weights | None = None) -> nn.Module:
        """The generator :meth:`sample` runs for ``weights`` (see there): the averaged copy, its
        batch-norm statistics recomputed first when the average has changed since, or G itself."""
        if self.chosen_weights(weights) == "raw":
            return self.generator
        if self.ema_bn_batches:
            self.generator_ema.calibrate(self._statistics_batches())
        return self.generator_ema.module

    def _statistics_batches(self) -> Iterator[tuple[Tensor, ...]]:
        """``ema_bn_batches`` batches of :meth:`generator_inputs`, from a seeded stream of their own."""
        stream = torch.Generator().manual_seed(STATISTICS_SEED)
        for _ in range(self.ema_bn_batches):
            yield self.generator_inputs(self.ema_bn_batch_size, stream)

    def generator_inputs(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """What G takes for ``n`` samples drawn as in training: ``(z,)``, or ``(z, y)`` with uniform
        labels for conditional models. The averaged G's batch-norm statistics are recomputed on these;
        a model whose G takes other inputs overrides it."""
        z = self.sample_latent(n, generator=generator)
        return (z, self.sample_labels(n, generator=generator)) if self.conditional else (z,)

    def labels_for(
        self, n: int, y: Tensor | int | None, generator: torch.Generator | None = None
    ) -> Tensor | None:
        """Labels ``[n]`` for :meth:`sample` from what the caller gave (checked), or drawn uniformly."""
        if not self.conditional:
            if y is not None:
                raise ValueError(f"{type(self).__name__} is unconditional; it takes no labels")
            return None
        if y is None:
            return self.sample_labels(n, generator=generator)
        y = torch.as_tensor(y, dtype=torch.long, device=self.device)
        y = y.expand(n) if y.ndim == 0 else y.to(self.device, torch.long)
        if y.shape != (n,):
            raise ValueError(f"labels must have shape [{n}], got {tuple(y.shape)}")
        if bool(((y < 0) | (y >= self.num_classes)).any()):
            raise ValueError(f"labels must lie in [0, {self.num_classes}); got {y.unique().tolist()}")
        return y

    def _register_fixed_inputs(self, columns: int) -> None:
        """Fixed latents (and labels) for sample grids; buffers, so they travel in checkpoints."""
        rows = self.num_classes if self.conditional else columns
        seeded = torch.Generator().manual_seed(0)  # leaves the global RNG stream untouched
        noise = draw_latent((rows * columns, self.latent_dim), self.latent_prior, None, generator=seeded)
        self.register_buffer("fixed_noise", noise)
        labels = torch.arange(rows).repeat_interleave(columns) if self.conditional else torch.empty(0)
        self.register_buffer("fixed_labels", labels.long())

    # ------------------------------------------------------------------ optimization
    def setup(self, stage: str) -> None:
        if stage == "fit":
            prepare_for_distributed(self.trainer)  # per-process noise; plain DDP made GAN-safe
        device = self.trainer.strategy.root_device.type
        warning = slow_bf16_warning(str(self.trainer.precision), device, cpu_flags())
        if warning:
            rank_zero_warn(warning)

    def configure_optimizers(self) -> Any:
        optimizers, schedulers = [], []
        for network in ("generator", "discriminator"):
            opt = build_optimizer(
                self.optimizer_factories[network],
                self.parameter_groups(network),
                fused_allowed=not self.grad_clip[network],
            )
            optimizers.append(opt)
            if self.scheduler_factories[network] is not None:
                schedulers.append(build_scheduler(self.scheduler_factories[network], opt))
        return optimizers, schedulers

    def parameter_groups(self, network: Network) -> Iterable[Any]:
        """What ``network``'s optimizer trains: its parameters, or parameter groups (SinGAN: a group a
        scale)."""
        return getattr(self, network).parameters()

    def make_step(self, batch: Any) -> Step:
        """The real batch and a freshly generated one: what one D (and G) update works on.

        The default draws z and labels from the priors and generates ``fake = G(z, y)``. Override it
        (and :meth:`regenerate`) when G is conditioned on something that comes with the batch (a
        caption, an image). The schedule calls it with gradients enabled only when G will train on
        this very fake batch.
        """
        real, labels = self.unpack(batch)
        n = real.shape[0]
        z, fake_labels = self.sample_latent(n), self.sample_labels(n)
        return Step(real, labels, self(z, fake_labels), fake_labels, latent=z)

    def regenerate(self, step: Step) -> Step:
        """``step`` with its fake batch generated again from the same latents (G has changed since)."""
        return replace(step, fake=self(step.latent, step.fake_labels), fake_logits=None)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        g_due = (self.updates["discriminator"] + 1) % self.n_critic == 0
        reuse = self.g_latents == "reuse"
        # G's graph is kept only when G's first update will train on this very fake batch.
        with torch.set_grad_enabled(g_due and reuse):
            step = self.make_step(batch)
        self.update("discriminator", replace(step, fake=step.fake.detach()))
        if not g_due:
            return
        for k in range(self.g_steps):
            if not reuse:
                step = self.make_step(batch)
            elif k > 0:
                step = self.regenerate(step)
            self.update("generator", step)
        if self.generator_ema is not None:
            self.generator_ema.update(self.generator, step=self.updates["generator"] - 1)

    def update(self, network: Network, step: Step) -> dict[str, Tensor]:
        """One optimizer step of ``network`` on ``step``; the other network is frozen meanwhile.

        Computes the network's terms (:meth:`losses`), back-propagates ``terms["loss"]``, steps (with
        clipping and the mixed-precision scaler), applies the regularizers' constraints, counts the
        update, logs the terms as ``train/{d,g}_<key>`` and returns them.
        """
        opt = self.optimizers()[0 if network == "generator" else 1]
        with self.toggled_optimizer(opt):
            terms = self.losses(network, step)
            # The gradients start from None, so they hold this backward's alone (the other network's
            # parameters are frozen by the toggle and never receive any). They stay until this
            # network's next update: freeing them right after the step, for the next backward to
            # allocate them again, doubled the page faults of a CPU step and cost 6 % of DCGAN's speed.
            opt.zero_grad(set_to_none=True)
            self.manual_backward(terms["loss"])
            opt.step()
        for regularizer in self.regularizers:
            if regularizer.network == network:
                regularizer.after_step(self)
        self.updates[network] += 1
        for scheduler in self._schedulers_of(network, "update"):
            scheduler.step()
        self.log_terms(network[0], terms, step.batch_size)
        return terms

    def losses(self, network: Network, step: Step) -> dict[str, Tensor]:
        """The network's terms for ``step`` with its regularizers' weighted penalties in ``loss``.

        ``loss = adversarial + Σ λ_i · interval_i · penalty_i``, the sum taken in any order; a
        regularizer that ``replaces_loss`` (feature matching) stands in for the adversarial term alone,
        so other penalties still add to it. Each penalty is also reported under its regularizer's name
        (unweighted), and ``adversarial`` holds the adversarial term whenever penalties change ``loss``.
        """
        terms = self.discriminator_step(step) if network == "discriminator" else self.generator_step(step)
        adversarial, penalties = terms["loss"], []
        for regularizer in self.regularizers:
            if regularizer.network != network or self.updates[network] % regularizer.interval:
                continue
            penalty = regularizer.penalty(self, step)
            if penalty is None:
                continue
            weighted = regularizer.weight * regularizer.interval * penalty
            if regularizer.replaces_loss:
                adversarial = weighted
            else:
                penalties.append(weighted)
            terms[regularizer.name] = penalty.detach()
        if adversarial is not terms["loss"] or penalties:
            terms["adversarial"] = terms["loss"].detach()
            terms["loss"] = sum(penalties, adversarial)
        return terms

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

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        # Runs after the AMP scaler has unscaled the gradients, so the clip threshold is in true units.
        if not any(self.grad_clip.values()):
            return  # nothing to clip: skip looking up which network the optimizer trains
        network = self.network_of(optimizer)
        if self.grad_clip[network]:
            self.clip_gradients(optimizer, self.grad_clip[network], gradient_clip_algorithm="norm")

    def network_of(self, optimizer: torch.optim.Optimizer) -> Network:
        """Which network ``optimizer`` trains."""
        first_param = optimizer.param_groups[0]["params"][0]
        return "generator" if any(first_param is p for p in self.generator.parameters()) else "discriminator"

    def on_train_start(self) -> None:
        # The schedulers step at each epoch's end. A run resumed from a checkpoint written after an
        # epoch's last batch (a step checkpoint, saved before the epoch-end hooks) goes on with the next
        # epoch without running them: Lightning counts the epoch as finished. Its step is taken here,
        # where a scheduler behind the epoch count shows it is due.
        for scheduler in self._schedulers_of(None, "epoch"):
            if scheduler.last_epoch < self.current_epoch:
                _step_per_epoch(scheduler)

    def on_train_epoch_end(self) -> None:
        for scheduler in self._schedulers_of(None, "epoch"):
            _step_per_epoch(scheduler)
        means = self.training_log.means()
        # Under data parallelism each process averaged its own batches; one all-reduce per epoch
        # makes these the means over all of them.
        self._log_pending(means, "_epoch", on_step=False, on_epoch=True, sync_dist=True, batch_size=1)

    def _schedulers_of(self, network: Network | None, interval: str) -> list[Any]:
        """The schedulers stepped at ``interval`` ("epoch" or "update"), of ``network``'s optimizer or all."""
        schedulers = self.lr_schedulers()
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []
        chosen = []
        for scheduler in schedulers:
            if getattr(scheduler, "interval", "epoch") != interval:
                continue
            if network is None or self.network_of(scheduler.optimizer) == network:
                chosen.append(scheduler)
        return chosen

    # ------------------------------------------------------------------ evaluation
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluation_step(batch, "val")

    def test_step(self, batch: Any, batch_idx: int) -> None:
        self._evaluation_step(batch, "test")

    def _evaluation_step(self, batch: Any, stage: str) -> None:
        """Both losses on held-out real images and fresh samples (no update)."""
        step = self.make_step(batch)
        n = step.batch_size
        self.log_terms("d", self.discriminator_step(replace(step)), n, stage)
        self.log_terms("g", self.generator_step(replace(step)), n, stage)

    # ------------------------------------------------------------------ bookkeeping
    def unpack(self, batch: Any) -> tuple[Tensor, Tensor | None]:
        """``(real images, labels or None)`` from a batch; raises for a conditional model without labels."""
        if torch.is_tensor(batch):
            real, labels = batch, None
        else:
            real, labels = batch[0], (batch[1] if len(batch) > 1 else None)
        if self.conditional and labels is None:
            raise ValueError(f"{type(self).__name__} is class-conditional but the batch has no labels")
        return real, labels

    def log_terms(
        self, network: str, terms: Mapping[str, Tensor], batch_size: int, stage: str = "train"
    ) -> None:
        """Log ``terms`` as ``<stage>/<network>_<key>``: kept on the device while training (see
        :class:`~gan_zoo.core.training_log.TrainingLog`), averaged over the split in evaluation."""
        metrics = {f"{stage}/{network}_{key}": value.detach() for key, value in terms.items()}
        if stage == "train":
            self.training_log.update(metrics, batch_size)  # on the device, no host read
        else:  # once per evaluation batch: averaged over the processes under data parallelism
            self.log_dict(metrics, on_step=False, on_epoch=True, batch_size=batch_size, sync_dist=True)

    def on_train_epoch_start(self) -> None:
        self.training_log.reset()

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if should_write_step_logs(self.trainer):
            self._log_pending(self.training_log.latest, "_step", on_step=True, on_epoch=False)

    def _log_pending(self, values: Mapping[str, Any], suffix: str, **options: Any) -> None:
        """``self.log`` the values as ``self.log(on_step=True, on_epoch=True)`` would have named them:
        averaged metrics with ``suffix`` for the loggers, and under their own name in
        ``trainer.callback_metrics`` (for ``ModelCheckpoint(monitor=...)``); others as they are. The
        losses also go to the progress bar (read when the bar refreshes, not every batch)."""
        averaged = {name: value for name, value in values.items() if self.training_log.averaged(name)}
        as_is = {name: value for name, value in values.items() if name not in averaged}
        self.log_dict({name + suffix: value for name, value in averaged.items()} | as_is, **options)
        shown = {name: value for name, value in averaged.items() if name in PROGRESS_BAR_TERMS}
        self.log_dict({n: v for n, v in averaged.items() if n not in shown}, logger=False, **options)
        if shown:
            self.log_dict(shown, logger=False, prog_bar=True, **options)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[SCHEDULE_KEY] = {
            "d_steps": self.updates["discriminator"],
            "g_steps": self.updates["generator"],
        }
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
        saved = checkpoint.get("hyper_parameters") or {"latent_prior": None, "ema_warmup": None}
        if "latent_prior" not in saved:
            self.latent_prior = self.hparams["latent_prior"] = self.legacy_latent_prior
        if "ema_warmup" not in saved:  # written before the warm-up: a resumed run averages as it began
            self.hparams["ema_warmup"] = False
            if self.generator_ema is not None:
                self.generator_ema.warmup = False
        schedule = checkpoint.get(SCHEDULE_KEY, {})
        self.updates = {"discriminator": schedule.get("d_steps", 0), "generator": schedule.get("g_steps", 0)}


class GivenNetworks(AdversarialModule):
    """:meth:`AdversarialModule.from_networks`: an AdversarialModule around networks built elsewhere.

    Args:
        generator: G.
        discriminator: D.
        conditional: whether G and D take class labels as their second argument.
    """

    def __init__(
        self, generator: nn.Module, discriminator: nn.Module, conditional: bool = False, **kwargs: Any
    ) -> None:
        # build_networks runs inside the base class's __init__, before attributes can be set normally
        self.__dict__["_given"] = (generator, discriminator)
        super().__init__(**kwargs)
        del self.__dict__["_given"]

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        return self.__dict__["_given"]


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")


__all__ = ["AdversarialModule", "GeneratorLatents", "GivenNetworks", "Weights"]


def _step_per_epoch(scheduler: Any) -> None:
    """Step an epoch-interval scheduler without torch's order warning.

    torch warns when a scheduler steps before its optimizer has stepped in this process. An epoch can
    end so for G in two normal cases: its first step is further away than one epoch (``n_critic`` above
    the batches of an epoch), or the run resumed from a checkpoint and G has not stepped since. The
    schedule counts epochs, so the step is due either way and no learning rate is skipped.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", re.escape("Detected call of `lr_scheduler.step()`"))
        scheduler.step()
