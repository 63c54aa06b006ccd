"""Discriminator features for classification (Radford, Metz & Chintala 2016, "Unsupervised
Representation Learning with Deep Convolutional GANs", §5.1).

"We use the discriminator's convolutional features from all layers, maxpooling each layers
representation to produce a 4 × 4 spatial grid. These features are then flattened and concatenated
[…] and a regularized linear L2-SVM classifier is trained on top of them." The authors' analysis code
(``svhn/svhn_semisup_analysis.py`` in dcgan_code) fixes the details followed here:

* the features of a layer are its activations after batch norm and the leaky ReLU, max-pooled to a
  4×4 grid (a kernel of H/4);
* batch-norm statistics are re-estimated on real training images (the mean over batches of each
  batch's statistics) rather than taken from training, where D saw real and generated batches;
* ``LinearSVC`` (squared hinge, L2 penalty) on a few labelled examples per class, its ``C`` the one
  with the best mean validation accuracy over the random labelled subsets, then test accuracy over
  the subsets (mean ± std).

One addition: features are standardized with the labelled subset's mean and standard deviation before
the SVM, so that one grid of ``C`` serves D's features, raw pixels and a random D alike.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from torch import Tensor, nn

from gan_zoo.data import normalize
from gan_zoo.data.semi_supervised import choose_labelled
from gan_zoo.metrics.streams import progress

#: Modules whose outputs are a layer's activations.
ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.PReLU)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)

#: C of the L2-SVM, tried in turn: the authors' grid spans 1e-4 … 1e-2.
DEFAULT_C_GRID = (1e-4, 1e-3, 1e-2, 1e-1)


def feature_layers(network: nn.Module) -> list[str]:
    """Names of the modules whose outputs are ``network``'s convolutional features.

    Each activation module (one per convolution in a DCGAN-style D: conv → BN → LeakyReLU); for a
    network that applies its nonlinearities as functions (the residual D's of SAGAN and BigGAN), each
    ``nn.Conv2d``.
    """
    names = [name for name, module in network.named_modules() if isinstance(module, ACTIVATIONS)]
    return names or [name for name, module in network.named_modules() if isinstance(module, nn.Conv2d)]


def sees_labels(network: nn.Module) -> bool:
    """Whether ``network.forward`` takes more than the image (a projection or conditional D)."""
    return len(inspect.signature(network.forward).parameters) > 1


class PooledFeatures:
    """Images → every feature layer's output max-pooled to a ``grid × grid`` map, flattened and
    concatenated in the order the network computes them.

    Layers whose output is smaller than the grid (the 1×1 logit of a DCGAN D) or not a feature map are
    left out. ``layers_seen`` lists the layers used and their pooled sizes after the first call.

    Args:
        network: the discriminator (kept in eval mode; it is not modified).
        layers: module names (default: :func:`feature_layers`).
        grid: side of the pooled map (4 in the paper).
    """

    def __init__(self, network: nn.Module, layers: Sequence[str] | None = None, grid: int = 4) -> None:
        self.network = network.eval()
        self.layers = list(layers) if layers is not None else feature_layers(network)
        modules = dict(network.named_modules())
        unknown = [name for name in self.layers if name not in modules]
        if unknown:
            raise ValueError(f"the discriminator has no modules {unknown}; it has {list(modules)[1:]}")
        if not self.layers:
            raise ValueError(f"{type(network).__name__} has no convolutional layers to take features from")
        self.modules = [modules[name] for name in self.layers]
        self.grid = grid
        self.layers_seen: list[tuple[str, int]] = []

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        """uint8 images ``[N, C, H, W]`` → features ``[N, Σ channels · grid²]`` (float32, on the CPU)."""
        pooled: list[Tensor] = []
        seen: list[tuple[str, int]] = []

        def keep(name: str) -> Callable:
            def hook(module: nn.Module, inputs: tuple, output: Tensor) -> None:
                if output.ndim == 4 and min(output.shape[-2:]) >= self.grid:
                    # Pooled at once: an in-place activation later in the network cannot touch it.
                    pooled.append(F.adaptive_max_pool2d(output, self.grid).flatten(1))
                    seen.append((name, pooled[-1].shape[1]))

            return hook

        handles = [m.register_forward_hook(keep(n)) for n, m in zip(self.layers, self.modules, strict=True)]
        try:
            device = next(self.network.parameters()).device
            self.network(normalize(images.to(device)))
        finally:
            for handle in handles:
                handle.remove()
        if not pooled:
            raise ValueError(f"no feature map of at least {self.grid}×{self.grid} among layers {self.layers}")
        self.layers_seen = seen
        return torch.cat(pooled, dim=1).float().cpu()


def untrained_discriminator(model: nn.Module, seed: int = 0) -> nn.Module:
    """The discriminator of a fresh ``type(model)`` built from ``model``'s saved hyperparameters: the same
    architecture, initialised as the model initialises it (the random-D baseline)."""
    accepted = inspect.signature(type(model)).parameters
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        twin = type(model)(**{k: v for k, v in model.hparams.items() if k in accepted})
    return twin.discriminator.to(model.device).eval()


def pixel_features(images: Tensor) -> Tensor:
    """The baseline: raw pixels in [-1, 1], flattened ``[N, C·H·W]``."""
    return normalize(images).flatten(1)


def estimate_batch_norm(network: nn.Module, batches: Iterable[Tensor]) -> nn.Module:
    """A copy of ``network`` whose batch-norm statistics are the mean over ``batches`` (uint8 images) of
    each batch's mean and variance, as the DCGAN authors' analysis infers them; the rest in eval mode."""
    network = copy.deepcopy(network).eval()
    norms = [m for m in network.modules() if isinstance(m, BATCH_NORMS)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches
        norm.train()
    if norms:
        device = next(network.parameters()).device
        with torch.no_grad():
            for images in batches:
                network(normalize(images.to(device)))
    return network.eval()


def extract(features: Callable[[Tensor], Tensor], images: Tensor, batch_size: int = 250) -> np.ndarray:
    """``features`` of uint8 ``images`` ``[N, C, H, W]`` in batches, as a float32 array ``[N, D]``."""
    return torch.cat([features(chunk) for chunk in images.split(batch_size)]).numpy()


# ---------------------------------------------------------------------- the L2-SVM
def fit_svm(x: np.ndarray, y: np.ndarray, c: float, seed: int = 0) -> tuple[object, bool]:
    """A standardized linear L2-SVM (``LinearSVC``: squared hinge, L2 penalty, one-vs-rest) fitted to
    ``x`` ``[N, D]``, ``y`` ``[N]``; and whether the solver converged."""
    svm = make_pipeline(
        StandardScaler(), LinearSVC(C=c, loss="squared_hinge", penalty="l2", max_iter=5000, random_state=seed)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        svm.fit(x, y)
    return svm, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


@dataclass
class ProbeResult:
    """Test accuracy of the L2-SVM on one kind of features with ``labels_per_class`` labels per class.

    Attributes:
        features: which features (``"discriminator"``, ``"pixels"``, ``"random discriminator"``).
        labels_per_class: labelled examples per class (``None``: every training example).
        c: the ``C`` chosen on the validation split.
        test_accuracy: one per random labelled subset.
        validation_accuracy: mean over the subsets at the chosen ``C``.
        dimension: size of the feature vector.
        not_converged: fits (of all the ``C`` tried) whose solver hit its iteration limit.
    """

    features: str
    labels_per_class: int | None
    c: float
    test_accuracy: list[float]
    validation_accuracy: float
    dimension: int
    not_converged: int = 0
    validation_by_c: dict[float, float] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        return float(np.mean(self.test_accuracy))

    @property
    def std(self) -> float:
        return float(np.std(self.test_accuracy))


@dataclass
class LabelledSplits:
    """Where the labelled subsets come from, and what the SVMs are judged on (uint8 images, labels).

    Attributes:
        pool: training images the labelled subsets are drawn from, and their labels.
        validation: held-out training images that choose ``C``.
        test: the test split, for the reported accuracy.
        num_classes: number of classes.
    """

    pool: tuple[Tensor, Tensor]
    validation: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]
    num_classes: int


def labelled_subsets(
    labels: Tensor, per_class: int | None, repeats: int, num_classes: int, seed: int
) -> list[Tensor]:
    """Indices of ``repeats`` random subsets of ``per_class`` examples of each class (one subset of every
    example when ``per_class`` is ``None``)."""
    if per_class is None:
        return [torch.arange(len(labels))]
    return [choose_labelled(labels, per_class, num_classes, seed + r) for r in range(repeats)]


def probe(
    name: str,
    features: Callable[[Tensor], Tensor],
    splits: LabelledSplits,
    labels_per_class: Sequence[int | None],
    *,
    repeats: int = 5,
    c_grid: Sequence[float] = DEFAULT_C_GRID,
    batch_size: int = 250,
    seed: int = 0,
    show_progress: bool = False,
) -> list[ProbeResult]:
    """The L2-SVM's test accuracy on ``features`` for each number of labels per class.

    For each count, ``repeats`` random labelled subsets are drawn from the pool (the same subsets for
    every kind of features with the same ``seed``); an SVM is fitted to each subset for every ``C``;
    the ``C`` with the best mean validation accuracy is chosen, and the test accuracies of its fits
    are reported.
    """
    pool_images, pool_labels = splits.pool
    subsets = {
        k: labelled_subsets(pool_labels, k, repeats, splits.num_classes, seed) for k in labels_per_class
    }
    needed = torch.cat([s for group in subsets.values() for s in group]).unique()
    row = torch.full((len(pool_labels),), -1, dtype=torch.long)
    row[needed] = torch.arange(len(needed))
    pool_x = extract(features, pool_images[needed], batch_size)  # only the images some subset uses
    val_x, test_x = (extract(features, images, batch_size) for images, _ in (splits.validation, splits.test))
    val_y, test_y = splits.validation[1].numpy(), splits.test[1].numpy()
    results = []
    for k, group in subsets.items():
        val_acc = np.zeros((len(group), len(c_grid)))
        test_acc = np.zeros((len(group), len(c_grid)))
        not_converged = 0
        fits = [(r, j) for r in range(len(group)) for j in range(len(c_grid))]
        for r, j in progress(fits, len(fits), f"{name}, {k or 'all'} per class: SVM fits", show_progress):
            subset, c = group[r], c_grid[j]
            x, y = pool_x[row[subset].numpy()], pool_labels[subset].numpy()
            svm, converged = fit_svm(x, y, c, seed)
            not_converged += not converged
            val_acc[r, j] = float(np.mean(svm.predict(val_x) == val_y))
            test_acc[r, j] = float(np.mean(svm.predict(test_x) == test_y))
        best = int(np.argmax(val_acc.mean(axis=0)))
        results.append(
            ProbeResult(
                features=name,
                labels_per_class=k,
                c=float(c_grid[best]),
                test_accuracy=test_acc[:, best].tolist(),
                validation_accuracy=float(val_acc[:, best].mean()),
                dimension=int(pool_x.shape[1]),
                not_converged=not_converged,
                validation_by_c={
                    float(c): float(v) for c, v in zip(c_grid, val_acc.mean(axis=0), strict=True)
                },
            )
        )
    return results
