"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al. 2019), with a
warm-up, and batch-norm statistics recomputed for the averaged weights ("standing statistics", Brock
et al. 2019)."""

from __future__ import annotations

import copy
import types
from collections.abc import Iterable

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Warm-up constant k of β_t = min(β, (1 + t) / (k + t)), TensorFlow's ``ExponentialMovingAverage``
#: with ``num_updates``: the average spans about the last 1/(k − 1) of the updates until that window
#: reaches the 1 / (1 − β) of the decay itself.
WARMUP = 10


def batch_norms(network: nn.Module) -> list[_BatchNorm]:
    """The batch-norm layers of ``network`` that keep running statistics (plain, sync and the ones inside
    :class:`~gan_zoo.layers.ConditionalBatchNorm2d`)."""
    # _BatchNorm is the base torch itself tests for (torch.optim.swa_utils.update_bn): it is the one
    # class that BatchNorm1d/2d/3d and SyncBatchNorm share, and InstanceNorm does not.
    norms = (m for m in network.modules() if isinstance(m, _BatchNorm))
    return [m for m in norms if m.track_running_stats]


@torch.no_grad()
def recalibrate_batch_norm(network: nn.Module, batches: Iterable[tuple[Tensor, ...]]) -> bool:
    """Set the running statistics of every batch norm of ``network`` to the statistics of its own
    activations on ``batches``: the mean over batches of each batch's mean and unbiased variance.

    The method of :func:`torch.optim.swa_utils.update_bn` (reset the statistics, ``momentum = None``,
    forward in training mode), with two differences: each batch is a tuple of *all* the network's
    inputs (``G(z, y)``; ``update_bn`` passes only the first), and only the batch-norm layers switch to
    training mode, so nothing else changes (spectral norm's power iteration would otherwise move the
    averaged weights' ``u``, ``v``). Modes and momenta are restored afterwards.

    ``SyncBatchNorm`` layers compute their statistics locally here: their training-mode forward is a
    collective, which would wait forever when one process alone samples (the sample grid is drawn on
    rank 0 only). Every process draws the same seeded batches, so the local statistics are the global
    ones.

    Returns:
        ``False`` (and draws nothing from ``batches``) when the network has no such batch norm.
    """
    norms = batch_norms(network)
    if not norms:
        return False
    saved = [(m, m.momentum, m.training) for m in norms]
    synced = [m for m in norms if isinstance(m, nn.SyncBatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches
        m.train()
    for m in synced:  # the plain batch-norm forward, which all-reduces nothing
        m.forward = types.MethodType(_BatchNorm.forward, m)
    try:
        for inputs in batches:
            network(*inputs)
    finally:
        for m in synced:
            del m.forward
        for m, momentum, training in saved:
            m.momentum = momentum
            m.train(training)
    return True


class ExponentialMovingAverage(nn.Module):
    """Keeps θ_ema ← β_t·θ_ema + (1 − β_t)·θ for the parameters of ``source``; buffers are copied.

    The decay β_t of the update that follows the source's t-th update (t = 0, 1, …, the source's
    updates before its latest one):

    * β_t = 0 (a plain copy) while t < ``start`` (BigGAN's ``ema_start``);
    * then, with ``warmup``, β_t = min(β, (1 + t) / (10 + t)), the schedule of TensorFlow's
      ``ExponentialMovingAverage(num_updates=t)``, except that the first update (t = 0, where TensorFlow
      keeps 0.1 of the initialization) copies, as ``AveragedModel``'s does: the average never holds the
      random initialization, and until the decay reaches β its window 1 / (1 − β_t) = (10 + t) / 9 is
      about the last ninth of training (β_t = 0.9 at t = 80, 0.99 at 890, 0.999 at 8 990);
    * without ``warmup``, β_t = β (the average of checkpoints written before the warm-up).

    t counts the source's updates from the beginning of training, not from ``start``: after a long hard
    start the warm-up is already over (BigGAN at t = 20 000: 0.99955 against β = 0.9999), after a short
    one it goes on ramping up.

    The copy lives inside the LightningModule, so it is saved in checkpoints and moved between devices
    with the rest; it never receives gradients. Its state is the copy alone: t comes from the caller
    (the module's count of G updates, saved in every checkpoint), so checkpoints keep one layout.

    Why not ``torch.optim.swa_utils.AveragedModel`` or ``ema-pytorch``: the update here is one fused
    ``torch._foreach_lerp_`` over all parameters with a weight computed on the host from a Python int,
    so it never waits for the device. ``AveragedModel`` keeps its count in a device tensor and reads it
    on the host at every update (``bool(self.n_averaged == 0)``, ``if self.n_averaged > 0``), and its
    ``get_ema_multi_avg_fn`` ignores that count (no warm-up); ``ema-pytorch`` reads ``self.step.item()``
    at every update, averages tensor by tensor, and is not a dependency. Both would also add a counter
    to the state dict that older checkpoints lack.

    The buffers (batch-norm running statistics among them) are the source's; :meth:`calibrate` replaces
    the batch-norm ones with statistics of the averaged weights, until the next :meth:`update`.

    Args:
        source: the network to average (its current weights are the starting point).
        decay: β, e.g. 0.999 (ProGAN) or 0.9999 (BigGAN).
        start: before this many updates the average is a plain copy of the source (β_t = 0); BigGAN's
            code uses 20 000 at 128 px (``--ema_start`` in BigGAN-PyTorch).
        warmup: ramp the decay up as described above; ``False`` uses β from ``start`` on.
    """

    def __init__(self, source: nn.Module, decay: float, start: int = 0, warmup: bool = True) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        if start < 0:
            raise ValueError(f"EMA start must be >= 0, got {start}")
        self.decay = decay
        self.start = start
        self.warmup = warmup
        # Inference only: callers put it in eval mode (``AdversarialModule.sample`` does).
        self.module = copy.deepcopy(source).requires_grad_(False)
        #: Whether the batch-norm statistics are those of the current averaged weights.
        self.calibrated = False
        self.register_load_state_dict_post_hook(_stale_after_load)

    def decay_at(self, step: int) -> float:
        """β_t for the update that follows the source's update number ``step`` (0-based)."""
        if not self.warmup:
            return 0.0 if step < self.start else self.decay
        if step < max(self.start, 1):
            return 0.0
        return min(self.decay, (1 + step) / (WARMUP + step))

    @torch.no_grad()
    def update(self, source: nn.Module, step: int) -> None:
        """Average in ``source``'s weights with β_t, t = ``step`` (the source's updates before its latest
        one), and copy its buffers."""
        ema_params = list(self.module.parameters())
        params = [p.detach() for p in source.parameters()]
        torch._foreach_lerp_(ema_params, params, 1.0 - self.decay_at(step))
        for ema_buffer, buffer in zip(self.module.buffers(), source.buffers(), strict=True):
            ema_buffer.copy_(buffer)
        self.invalidate()

    def invalidate(self) -> None:
        """Mark the batch-norm statistics as stale (the weights changed)."""
        self.calibrated = False

    def calibrate(self, batches: Iterable[tuple[Tensor, ...]]) -> None:
        """Recompute the batch-norm statistics of the averaged weights on ``batches`` (the generator's
        inputs) unless they are current; see :func:`recalibrate_batch_norm`."""
        if not self.calibrated:
            recalibrate_batch_norm(self.module, batches)
            self.calibrated = True

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)


def _stale_after_load(module: ExponentialMovingAverage, incompatible_keys: object) -> None:
    """New weights (a checkpoint, a copied state dict) need new statistics. A module-level function,
    not a lambda, so the module still pickles (``ddp_spawn`` sends it to its processes)."""
    module.invalidate()
