"""Skip updates whose loss or gradient is not finite; stop with a clear message when they persist.

One NaN in a multi-day run should cost one update, not the run: a step whose loss or gradients hold a
NaN or ±inf is skipped (its gradients are dropped before ``optimizer.step()``, so neither the weights
nor the optimizer's moments change), counted, and logged as ``train/skipped_<network>_updates``.
``max_consecutive`` skipped updates of one network in a row raise :class:`~gan_zoo.errors.DivergenceError`
naming the step and the network; the checkpoints already written only ever hold finite weights.

Cost: deciding to skip needs the device's answer on the host — one synchronisation per optimizer step
(the same one ``torch.amp.GradScaler`` makes). On CPU it is free; on a GPU it stalls the launch queue
once per step. ``enabled=False`` removes it (and the protection).
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan_zoo.errors import GanZooError
from gan_zoo.lightning_compat import Callback


class DivergenceError(GanZooError, RuntimeError):
    """Training produced non-finite losses or gradients for too many consecutive updates."""


class DivergenceGuard(Callback):
    """Skips non-finite updates of G and D; raises after ``max_consecutive`` of one network in a row.

    Args:
        max_consecutive: consecutive skipped updates of one network that end training.
        enabled: check at all (see the module docstring for the cost).
    """

    def __init__(self, max_consecutive: int = 10, enabled: bool = True) -> None:
        if max_consecutive < 1:
            raise ValueError(f"max_consecutive must be >= 1, got {max_consecutive}")
        self.max_consecutive = max_consecutive
        self.enabled = enabled
        self.skipped = {"generator": 0, "discriminator": 0}
        self.consecutive = {"generator": 0, "discriminator": 0}
        self._loss_finite: Tensor | None = None

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: Tensor) -> None:
        if self.enabled:
            self._loss_finite = torch.isfinite(loss.detach()).all()  # stays on the device

    def on_before_optimizer_step(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, optimizer: torch.optim.Optimizer
    ) -> None:
        if not self.enabled:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        finite = self._loss_finite if self._loss_finite is not None else torch.tensor(True)
        if params:
            norms = torch._foreach_norm([p.grad for p in params])  # NaN/inf anywhere makes its norm so
            finite = finite.to(norms[0].device) & torch.isfinite(torch.stack(norms)).all()
        self._loss_finite = None
        network = pl_module.network_of(optimizer)
        if bool(finite):  # the one host sync per step
            self.consecutive[network] = 0
            return
        for p in params:  # optimizer.step() leaves parameters without a gradient untouched
            p.grad = None
        self.skipped[network] += 1
        self.consecutive[network] += 1
        pl_module.log(f"train/skipped_{network}_updates", float(self.skipped[network]), on_step=True)
        if self.consecutive[network] >= self.max_consecutive:
            raise DivergenceError(
                f"training diverged: {self.consecutive[network]} consecutive {network} updates with a "
                f"non-finite loss or gradient, the last at global step {trainer.global_step} (epoch "
                f"{trainer.current_epoch}); checkpoints written so far hold the last finite weights"
            )

    def state_dict(self) -> dict[str, Any]:
        return {"skipped": dict(self.skipped), "consecutive": dict(self.consecutive)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.skipped.update(state_dict.get("skipped", {}))
        self.consecutive.update(state_dict.get("consecutive", {}))
