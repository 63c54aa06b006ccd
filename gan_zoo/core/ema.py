"""Exponential moving average of a network's weights (Karras et al. 2018; Yazıcı et al. 2019)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class ExponentialMovingAverage(nn.Module):
    """Keeps θ_ema ← β·θ_ema + (1 − β)·θ for the parameters of ``source``; buffers are copied.

    The copy lives inside the LightningModule, so it is saved in checkpoints and moved between devices
    with the rest. It never receives gradients. The update is one fused ``lerp`` over all tensors and
    never synchronises the host with the device.

    Args:
        source: the network to average (its current weights are the starting point).
        decay: β, e.g. 0.999 (ProGAN) or 0.9999 (BigGAN).
        start: before this many updates the average is a plain copy of the source (β = 0), so it
            does not start from the random initialization; BigGAN's code uses 20 000 at 128 px
            (``--ema_start`` in BigGAN-PyTorch).
    """

    def __init__(self, source: nn.Module, decay: float, start: int = 0) -> None:
        super().__init__()
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        if start < 0:
            raise ValueError(f"EMA start must be >= 0, got {start}")
        self.decay = decay
        self.start = start
        # Inference only: callers put it in eval mode (``AdversarialModule.sample`` does).
        self.module = copy.deepcopy(source).requires_grad_(False)

    @torch.no_grad()
    def update(self, source: nn.Module, step: int | None = None) -> None:
        """Average in ``source``'s weights; ``step`` (updates of the source so far) before ``start``
        copies them instead."""
        ema_params = list(self.module.parameters())
        params = [p.detach() for p in source.parameters()]
        copying = step is not None and step < self.start
        torch._foreach_lerp_(ema_params, params, 1.0 if copying else 1.0 - self.decay)
        for ema_buffer, buffer in zip(self.module.buffers(), source.buffers(), strict=True):
            ema_buffer.copy_(buffer)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
