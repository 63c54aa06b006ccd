"""Adversarial objectives and regularizers, selectable by name (``loss: hinge``) or as classes in YAML."""

from gan_zoo.losses.base import LOSSES, AdversarialLoss, get_loss
from gan_zoo.losses.drift import Drift
from gan_zoo.losses.feature_matching import FeatureMatching, feature_matching
from gan_zoo.losses.gradient_penalty import GradientPenalty, PixelGradientPenalty
from gan_zoo.losses.historical_averaging import HistoricalAveraging
from gan_zoo.losses.objectives import Hinge, LeastSquares, Minimax, NonSaturating, Wasserstein
from gan_zoo.losses.orthogonal import OrthogonalRegularization
from gan_zoo.losses.regularizers import REGULARIZERS, Regularizer, get_regularizer
from gan_zoo.losses.weight_clipping import WeightClipping

__all__ = [
    "LOSSES",
    "REGULARIZERS",
    "AdversarialLoss",
    "Drift",
    "FeatureMatching",
    "GradientPenalty",
    "Hinge",
    "HistoricalAveraging",
    "LeastSquares",
    "Minimax",
    "NonSaturating",
    "OrthogonalRegularization",
    "PixelGradientPenalty",
    "Regularizer",
    "Wasserstein",
    "WeightClipping",
    "feature_matching",
    "get_loss",
    "get_regularizer",
]
