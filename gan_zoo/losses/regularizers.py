"""Regularizers: terms added to one network's loss, and constraints applied after its update.

A regularizer names the network it acts on, its weight λ, and an ``interval``: with ``interval = k``
the penalty is computed every k-th update of that network and multiplied by k, StyleGAN2's lazy
regularization (Karras et al. 2020, §3.5). Models take a list of them (``regularizers:`` in YAML), by
registered name or as ``class_path`` entries with arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from torch import Tensor

from gan_zoo.registry import Registry

if TYPE_CHECKING:
    from gan_zoo.core.adversarial import AdversarialModule
    from gan_zoo.core.step import Step

Network = Literal["generator", "discriminator"]


class Regularizer:
    """Base class. Override :meth:`penalty` (a term to add to the loss), :meth:`after_step`
    (a constraint applied after the optimizer step), or both.

    Args:
        weight: λ, the penalty's weight.
        interval: compute the penalty every ``interval`` updates (scaled by ``interval``).
    """

    name: str = "regularizer"
    network: Network = "discriminator"
    #: The penalty *is* the network's loss instead of a term added to it (feature matching, which
    #: Salimans et al. 2016 §3.1 use as G's whole objective).
    replaces_loss: bool = False

    def __init__(self, weight: float = 1.0, interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f"interval must be >= 1, got {interval}")
        self.weight = weight
        self.interval = interval

    def penalty(self, module: AdversarialModule, step: Step) -> Tensor | None:
        """The unweighted penalty for this update, or ``None`` if this regularizer adds no term."""
        return None

    def after_step(self, module: AdversarialModule) -> None:
        """Runs after the network's optimizer step (weight clipping lives here)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(weight={self.weight}, interval={self.interval})"


REGULARIZERS: Registry[type[Regularizer]] = Registry("regularizer")


def get_regularizer(regularizer: str | dict | Regularizer) -> Regularizer:
    """A regularizer from its registered name (with its paper's default weight), its
    ``{"class_path", "init_args"}`` form (checkpoints of ``gan-zoo fit`` runs keep it), or an instance."""
    if isinstance(regularizer, Regularizer):
        return regularizer
    return REGULARIZERS.build(regularizer)
