"""The adversarial-objective interface and its registry."""

from __future__ import annotations

from torch import Tensor

from gan_zoo.registry import Registry


class AdversarialLoss:
    """One GAN objective: what D minimizes and what G minimizes, both from D's raw outputs (logits).

    Subclasses implement :meth:`d_loss` and :meth:`g_loss`. Every method returns a scalar averaged
    over the batch; the inputs are D's outputs of shape ``[N]`` or ``[N, 1]``.
    """

    name: str = "adversarial"

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """The discriminator's loss (to minimize)."""
        raise NotImplementedError

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        """The generator's loss (to minimize)."""
        raise NotImplementedError

    def output(self, logits: Tensor) -> Tensor:
        """D's output as the paper reads it (a probability for sigmoid objectives), for logging."""
        return logits

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


LOSSES: Registry[type[AdversarialLoss]] = Registry("loss")


def get_loss(loss: str | dict | AdversarialLoss) -> AdversarialLoss:
    """An objective from its registered name (``"hinge"``), its ``{"class_path", "init_args"}`` form,
    or an already built instance."""
    if isinstance(loss, AdversarialLoss):
        return loss
    return LOSSES.build(loss)
