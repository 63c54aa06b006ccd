"""Adversarial objectives, selectable by name (``loss: hinge``) or as a class in YAML."""

from gan_zoo.losses.base import LOSSES, AdversarialLoss, get_loss
from gan_zoo.losses.objectives import Hinge, LeastSquares, Minimax, NonSaturating, Wasserstein

__all__ = [
    "LOSSES",
    "AdversarialLoss",
    "Hinge",
    "LeastSquares",
    "Minimax",
    "NonSaturating",
    "Wasserstein",
    "get_loss",
]
