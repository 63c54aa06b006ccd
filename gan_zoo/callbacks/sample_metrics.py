"""FID, KID, Inception Score, MiFID and precision/recall of generated samples as Lightning callbacks.

    gan-zoo fit --config experiments/dcgan/fashion_mnist.yaml \\
        --trainer.callbacks+=FID --trainer.callbacks.feature_extractor=fashion_mnist

Each callback draws ``num_samples`` images with ``pl_module.sample`` (the averaged generator when the
model keeps one), streams them in batches through a feature extractor into a torchmetrics metric, and
logs the value as ``<prefix><extractor>/<metric>`` (``eval/inception/fid``,
``eval/fashion_mnist/kid_mean``) to every logger and to ``trainer.callback_metrics`` (so
``ModelCheckpoint(monitor=...)`` can use it). When the model keeps an average of G's weights, the
raw G is scored too, with the same latents, as ``<metric>_raw`` (``eval/inception/fid_raw``): the
unsuffixed name is always the score of what ``sample()`` (and ``gan-zoo sample`` / ``evaluate``)
give by default.

When: after every ``every_n_epochs``-th training epoch, when training ends (``at_fit_end``), and on
``trainer.validate`` / ``trainer.test`` (``gan-zoo validate --ckpt_path ...``) unless ``on_evaluate``
is false. Under DDP each process generates its share and the value equals the single-process one.
Real features are cached on disk (see :mod:`gan_zoo.metrics.cache`).
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.trainer.states import TrainerFn

from gan_zoo.lightning_compat import Callback
from gan_zoo.metrics import (
    FeatureExtractor,
    RealFeatureCache,
    SampleMetric,
    build_feature_extractor,
    evaluate_model,
    fid,
    inception_score,
    kid,
    mifid,
    precision_recall,
    real_features,
)


class SampleMetricCallback(Callback):
    """Base of :class:`FID`, :class:`KID`, :class:`InceptionScore`, :class:`MiFID` and
    :class:`PrecisionRecall`.

    Args:
        num_samples: generated images per evaluation (10 000 by default; 50 000 is the other common
            protocol). Memory stays bounded: images are generated, embedded and dropped batch by batch.
        every_n_epochs: evaluate after every n-th training epoch; ``None`` only at the end.
        at_fit_end: evaluate when training ends (skipped if the last epoch was just evaluated).
        on_evaluate: evaluate during ``trainer.validate`` and ``trainer.test``.
        real_split: the data module's split to compare with: ``"train"`` (the usual protocol),
            ``"val"`` or ``"test"``.
        num_real_samples: use only the first n images of the split; ``None`` uses all.
        batch_size: images per generation / feature batch.
        feature_extractor: ``"inception"`` (standard, comparable with papers), a shipped domain
            classifier (``"fashion_mnist"``, ``"digits"``: offline, fast on a CPU), or a classifier
            ``.pt`` file; see :func:`gan_zoo.metrics.build_feature_extractor`.
        inception_weights: a local copy of the Inception weights (else ``$GAN_ZOO_INCEPTION_WEIGHTS``,
            torch.hub's cache, or a download).
        antialias: resize for Inception with PyTorch's antialiased filter instead of the reference
            TensorFlow-1 resampling (see :mod:`gan_zoo.metrics.inception`).
        seed: selects the latents, the same at every evaluation, so values track the weights only.
        cache_dir: directory of the real-feature cache (default ``~/.cache/gan_zoo/real_features``).
        use_cache: read and write that cache.
        progress_bar: show a progress bar (on rank 0, when the trainer shows one).
        prefix: prefix of the logged names.
        score_raw: when the model keeps an average of G (``pl_module.has_ema``), also score the raw G,
            logged as ``<metric>_raw``; it doubles the generation and feature work of an evaluation.
    """

    def __init__(
        self,
        num_samples: int = 10_000,
        every_n_epochs: int | None = None,
        at_fit_end: bool = True,
        on_evaluate: bool = True,
        real_split: str = "train",
        num_real_samples: int | None = None,
        batch_size: int = 250,
        feature_extractor: str = "inception",
        inception_weights: str | None = None,
        antialias: bool = False,
        seed: int = 0,
        cache_dir: str | None = None,
        use_cache: bool = True,
        progress_bar: bool = True,
        prefix: str = "eval/",
        score_raw: bool = True,
    ) -> None:
        if num_samples < 2 or batch_size < 1:
            raise ValueError(f"need num_samples >= 2 and batch_size >= 1, got {num_samples} and {batch_size}")
        if every_n_epochs is not None and every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1 or None, got {every_n_epochs}")
        self.num_samples = num_samples
        self.every_n_epochs = every_n_epochs
        self.at_fit_end = at_fit_end
        self.on_evaluate = on_evaluate
        self.real_split = real_split
        self.num_real_samples = num_real_samples
        self.batch_size = batch_size
        self.feature_extractor = feature_extractor
        self.inception_weights = inception_weights
        self.antialias = antialias
        self.seed = seed
        self.cache = RealFeatureCache(cache_dir) if use_cache else None
        self.progress_bar = progress_bar
        self.prefix = prefix
        self.score_raw = score_raw
        self._extractor: FeatureExtractor | None = None
        self._metric: SampleMetric | None = None
        self._last_step: int | None = None
        #: The latest results, ``{logged name: value}``.
        self.results: dict[str, float] = {}

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        """The metric this callback computes."""
        raise NotImplementedError

    # ------------------------------------------------------------------ when
    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.every_n_epochs and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self.evaluate(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.at_fit_end and self._last_step != trainer.global_step:
            self.evaluate(trainer, pl_module)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.on_evaluate and trainer.state.fn == TrainerFn.VALIDATING:
            self.evaluate(trainer, pl_module)

    def on_test_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.on_evaluate and trainer.state.fn == TrainerFn.TESTING:
            self.evaluate(trainer, pl_module)

    # ------------------------------------------------------------------ what
    def evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, float]:
        """Compute the metric for the current weights (on every process) and log it."""
        if trainer.datamodule is None:
            raise RuntimeError(
                f"{type(self).__name__} needs the trainer to have a data module for real images"
            )
        if self._extractor is None:
            self._extractor = build_feature_extractor(
                self.feature_extractor, self.inception_weights, self.antialias
            )
            self._metric = self.build_metric(self._extractor)
        show_progress = self.progress_bar and trainer.progress_bar_callback is not None
        real = None
        if self._metric.uses_real:  # once, for both generators
            real = real_features(
                trainer.datamodule,
                self.real_split,
                self._extractor,
                batch_size=self.batch_size,
                num_images=self.num_real_samples,
                cache=self.cache,
                device=pl_module.device,
                show_progress=show_progress,
            )
        generators = [(None, "")]  # what sample() gives by default
        if self.score_raw and getattr(pl_module, "has_ema", False):
            generators.append(("raw", "_raw"))
        self.results = {}
        for weights, suffix in generators:
            with pl_module.sampling_from(weights) if weights else contextlib.nullcontext():
                values = evaluate_model(
                    pl_module,
                    trainer.datamodule,
                    [self._metric],
                    self._extractor,
                    num_samples=self.num_samples,
                    batch_size=self.batch_size,
                    seed=self.seed,
                    show_progress=show_progress,
                    real=real,
                )
            name = f"{self.prefix}{self._extractor.name}"
            self.results |= {f"{name}/{key}{suffix}": value for key, value in values.items()}
        self._log(trainer)
        self._last_step = trainer.global_step
        return self.results

    def _log(self, trainer: pl.Trainer) -> None:
        # Straight to the loggers: self.log() is not allowed in on_train_end.
        for logger in trainer.loggers:
            logger.log_metrics(self.results, step=trainer.global_step)
        trainer.callback_metrics.update({k: torch.tensor(v) for k, v in self.results.items()})

    def state_dict(self) -> dict[str, Any]:
        return {"results": self.results}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.results = dict(state_dict.get("results", {}))


class FID(SampleMetricCallback):
    """Fréchet Inception Distance (Heusel et al. 2017) of generated vs real images; lower is better.

    Logs ``<prefix><extractor>/fid``. Arguments: see :class:`SampleMetricCallback`.
    """

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        return fid(extractor)


class KID(SampleMetricCallback):
    """Kernel Inception Distance (Bińkowski et al. 2018); unbiased, so usable with few samples.

    Logs ``<prefix><extractor>/kid_mean`` and ``…/kid_std``.

    Args:
        subsets: random subsets the MMD² is averaged over (100, as the paper's code).
        subset_size: images per subset (1000), capped at the number of samples.
        Other arguments: see :class:`SampleMetricCallback`.
    """

    def __init__(self, subsets: int = 100, subset_size: int = 1000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subsets, self.subset_size = subsets, subset_size

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        return kid(extractor, self.subsets, self.subset_size)


class InceptionScore(SampleMetricCallback):
    """Inception Score (Salimans et al. 2016 §4: 50 000 samples, 10 splits); higher is better. Needs no
    real images. Logs ``<prefix><extractor>/is_mean`` and ``…/is_std``.

    Args:
        splits: the samples are split in this many groups; mean and std over groups.
        num_samples: 50 000 by default, the paper's protocol.
        Other arguments: see :class:`SampleMetricCallback`.
    """

    def __init__(self, splits: int = 10, num_samples: int = 50_000, **kwargs: Any) -> None:
        super().__init__(num_samples=num_samples, **kwargs)
        self.splits = splits

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        return inception_score(extractor, self.splits)


class MiFID(SampleMetricCallback):
    """Memorization-informed FID (Kaggle "Generative Dog Images", Bai et al. 2021): FID divided by how
    close generated images come to training images, when closer than ``cosine_distance_eps``.
    Logs ``<prefix><extractor>/mifid``.

    Args:
        cosine_distance_eps: memorization threshold on the mean minimum cosine distance (0.1 on Kaggle).
        num_real_samples: 10 000 training images by default: the cosine distances form a
            ``num_samples × num_real_samples`` float64 matrix (800 MB at 10 000 × 10 000).
        Other arguments: see :class:`SampleMetricCallback`.
    """

    def __init__(
        self, cosine_distance_eps: float = 0.1, num_real_samples: int | None = 10_000, **kwargs: Any
    ) -> None:
        super().__init__(num_real_samples=num_real_samples, **kwargs)
        self.cosine_distance_eps = cosine_distance_eps

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        return mifid(extractor, self.cosine_distance_eps)


class PrecisionRecall(SampleMetricCallback):
    """Improved precision and recall (Kynkäänniemi et al. 2019): the share of samples on the real
    manifold and of real images on the generated one, each manifold the union of k-NN balls. A
    collapsing generator keeps its precision and loses its recall. Logs ``<prefix><extractor>/precision``
    and ``…/recall``.

    Args:
        k: the neighbour that sets each ball's radius (3, the paper's).
        Other arguments: see :class:`SampleMetricCallback`.
    """

    def __init__(self, k: int = 3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.k = k

    def build_metric(self, extractor: FeatureExtractor) -> SampleMetric:
        return precision_recall(extractor, self.k)
