"""Learning-rate (and momentum) schedules of the zoo's papers that torch does not ship."""

from __future__ import annotations

from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler


class DecayAndMomentumRamp(LRScheduler):
    """The SGD schedule of Goodfellow et al. 2014 (``mnist.yaml`` of their code, pylearn2) and Mirza &
    Osindero 2014 (§4.1), stepped after every update t = 0, 1, …:

        lr_t       = max(lr_0 / decay_factor^t, min_lr)                      (pylearn2's ExponentialDecay)
        momentum_t = m_0 + (m_final − m_0) · clip((t − start) / (saturate − start), 0, 1)
                                                                              (pylearn2's MomentumAdjustor)

    with lr_0 and m_0 the optimizer's own. The code ramps momentum per epoch from epoch 1 to 250; with
    its 500 updates an epoch (batch 100, 50 000 training images) that is ``start=500``,
    ``saturate=125_000`` updates, the defaults.

    Args:
        optimizer: an optimizer with ``momentum`` in its parameter groups (SGD).
        decay_factor: the learning rate is divided by this after every update (1.000004; CGAN: 1.00004).
        min_lr: the floor of the decay (10⁻⁶).
        final_momentum: m_final (0.7).
        start: the update at which the momentum ramp starts.
        saturate: the update at which momentum reaches ``final_momentum``.
    """

    #: Stepped after every update of its optimizer, not once per epoch (see AdversarialModule).
    interval = "update"

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        decay_factor: float = 1.000004,
        min_lr: float = 1e-6,
        final_momentum: float = 0.7,
        start: int = 500,
        saturate: int = 125_000,
        last_epoch: int = -1,
    ) -> None:
        if decay_factor < 1.0:
            raise ValueError(f"decay_factor must be >= 1, got {decay_factor}")
        if saturate <= start:
            raise ValueError(f"saturate ({saturate}) must come after start ({start})")
        if any("momentum" not in group for group in optimizer.param_groups):
            raise ValueError(f"{type(self).__name__} needs an optimizer with momentum (SGD)")
        self.decay_factor, self.min_lr = decay_factor, min_lr
        self.final_momentum, self.start, self.saturate = final_momentum, start, saturate
        for group in optimizer.param_groups:
            group.setdefault("initial_momentum", group["momentum"])
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        t = self.last_epoch  # LRScheduler's counter of step() calls: updates here
        return [max(base / self.decay_factor**t, self.min_lr) for base in self.base_lrs]

    def step(self, epoch: Any = None) -> None:  # type: ignore[override]
        super().step()
        ramp = min(max((self.last_epoch - self.start) / (self.saturate - self.start), 0.0), 1.0)
        for group in self.optimizer.param_groups:
            initial = group["initial_momentum"]
            group["momentum"] = initial + (self.final_momentum - initial) * ramp
