"""WGAN's weight clipping (Arjovsky et al. 2017)."""

from __future__ import annotations

import torch

from gan_zoo.losses.regularizers import REGULARIZERS, Regularizer


@REGULARIZERS.register("weight_clipping")
class WeightClipping(Regularizer):
    """Arjovsky et al. 2017, Algorithm 1, line 7: ``w ← clip(w, −c, c)`` after every critic update,
    c = 0.01. A constraint, not a penalty: it adds nothing to the loss.
    """

    name = "weight_clipping"
    network = "discriminator"

    def __init__(self, clip: float = 0.01) -> None:
        super().__init__(weight=0.0)
        if clip <= 0:
            raise ValueError(f"clip must be > 0, got {clip}")
        self.clip = clip

    @torch.no_grad()
    def after_step(self, module) -> None:
        torch._foreach_clamp_min_(params := list(module.discriminator.parameters()), -self.clip)
        torch._foreach_clamp_max_(params, self.clip)

    def __repr__(self) -> str:
        return f"WeightClipping(clip={self.clip})"
