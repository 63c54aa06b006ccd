"""ProGAN's drift penalty (Karras et al. 2018)."""

from __future__ import annotations

from torch import Tensor

from gan_zoo.losses.regularizers import REGULARIZERS, Regularizer


@REGULARIZERS.register("drift")
class Drift(Regularizer):
    """Karras et al. 2018, Appendix A.1: ε_drift · E_x[D(x)²], ε_drift = 0.001, keeping the critic's
    output from drifting far from zero. Reuses D's outputs on the real batch.
    """

    name = "drift"
    network = "discriminator"

    def __init__(self, weight: float = 0.001, interval: int = 1) -> None:
        super().__init__(weight, interval)

    def penalty(self, module, step) -> Tensor:
        logits = (
            step.real_logits
            if step.real_logits is not None
            else module.discriminate(step.real, step.real_labels)
        )
        return logits.square().mean()
