"""``TrainingLog``: the training step's metrics, kept on the device between the batches Lightning writes.

Lightning's ``self.log`` costs about 0.3 ms of host time per call (each call re-checks the metric's
metadata and deep-copies it while moving its record to the value's device). A GAN step logs four or
more values, so calling it on every batch adds over a millisecond per batch: about 1 % of a DCGAN
step on two CPU cores, and a large share of a GPU step of a few milliseconds. The training step
records its values here instead (a couple of tensor ops each, no host read), and
:class:`~gan_zoo.core.AdversarialModule` hands them to ``self.log`` only on the batches where
Lightning writes to the loggers, and the means at the epoch's end. What reaches the loggers is what
``self.log(on_step=True, on_epoch=True)`` would have written: ``<name>_step`` every
``log_every_n_steps`` batches and the batch-size-weighted ``<name>_epoch``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor


class TrainingLog:
    """The latest value and the running batch-size-weighted mean of each training metric.

    Example::

        log = TrainingLog()
        log.update({"train/d_loss": torch.tensor(1.0)}, batch_size=2)
        log.update({"train/d_loss": torch.tensor(4.0)}, batch_size=1)
        log.latest["train/d_loss"]  # tensor(4.)
        log.means()["train/d_loss"]  # tensor(2.) = (1·2 + 4·1) / 3
    """

    def __init__(self) -> None:
        #: The most recent value of every metric, averaged or not.
        self.latest: dict[str, Tensor | float] = {}
        self._sums: dict[str, Tensor] = {}
        self._counts: dict[str, int] = {}

    def update(self, values: Mapping[str, Tensor], batch_size: int) -> None:
        """Record one batch's values, each the mean over ``batch_size`` examples."""
        for name, value in values.items():
            value = value.detach()
            self.latest[name] = value
            if name in self._sums:
                self._sums[name].add_(value, alpha=batch_size)
                self._counts[name] += batch_size
            else:
                # A new tensor, so the sum owns its storage; at least float32, so bf16 values add up.
                self._sums[name] = value.to(torch.promote_types(value.dtype, torch.float32)) * batch_size
                self._counts[name] = batch_size

    def set(self, values: Mapping[str, Tensor | float]) -> None:
        """Record values that are only reported as they are, never averaged (a resolution, a scale)."""
        self.latest.update(values)

    def means(self) -> dict[str, Tensor]:
        """The batch-size-weighted mean of every :meth:`update`-d metric since the last :meth:`reset`."""
        return {name: total / self._counts[name] for name, total in self._sums.items()}

    def averaged(self, name: str) -> bool:
        """Whether ``name`` came through :meth:`update` (and so has an epoch mean)."""
        return name in self._sums

    def reset(self) -> None:
        """Start a new epoch: forget the values and the means."""
        self.latest.clear()
        self._sums.clear()
        self._counts.clear()
