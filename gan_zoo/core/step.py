"""``Step``: what one update sees — the real batch, the generated batch, and D's outputs once computed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import Tensor


@dataclass
class Step:
    """The tensors of one D or G update, handed to ``discriminator_step`` / ``generator_step`` and to
    regularizers.

    Attributes:
        real: real images ``[N, C, H, W]`` in [-1, 1].
        real_labels: their labels ``[N]`` (``None`` for unlabelled data).
        fake: generated images (detached from G in the D update).
        fake_labels: the labels G was given (``None`` for unconditional models).
        real_logits / fake_logits: D's outputs ``[N]``, filled in by the step that computes them so a
            regularizer (e.g. ProGAN's drift term) can reuse them instead of running D again.
        latent: what G made ``fake`` from (z ``[N, latent_dim]`` for most models), so that the same fake
            batch can be generated again after G has changed (:meth:`AdversarialModule.regenerate`).
    """

    real: Tensor
    real_labels: Tensor | None
    fake: Tensor
    fake_labels: Tensor | None
    real_logits: Tensor | None = None
    fake_logits: Tensor | None = None
    latent: Any = None

    @property
    def batch_size(self) -> int:
        return self.real.shape[0]
