"""Virtual batch normalization (Salimans et al. 2016, §3.5)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn


class VirtualBatchNorm(nn.Module):
    """Batch norm whose statistics come from a fixed reference batch and the example itself.

    Batch norm makes an example's output depend on the other examples of its batch. Virtual batch
    norm normalizes each example x_i with the statistics of a reference batch R (n examples chosen
    once, at the start of training) combined with x_i itself, per channel c:

        μ_i = (1/(n+1)) mean(x_i) + (n/(n+1)) μ_R,     ν_i = (1/(n+1)) mean(x_i²) + (n/(n+1)) ν_R
        y_i = γ (x_i − μ_i) / sqrt(ν_i − μ_i² + ε) + β

    where μ_R, ν_R are the means of R's activations and of their squares over the reference batch
    and the spatial positions, and ``mean(x_i)`` is over x_i's spatial positions (the example's own
    value for ``[N, C]`` inputs). R's activations are recomputed with the current parameters on every
    forward pass (gradients flow through μ_R, ν_R), so a network with these layers runs twice per
    call; that cost is why the paper uses it in the generator only. Run the network inside
    :func:`reference_batch`, which passes R through first. γ ~ N(1, 0.02), β = 0, as in the authors'
    code.

    Shapes: ``[N, C]`` or ``[N, C, *spatial]``, unchanged.
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.empty(num_features).normal_(1.0, 0.02))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.collecting = False  # True while the reference batch passes through
        self.reference: tuple[Tensor, Tensor, int] | None = None  # μ_R, ν_R, n

    def forward(self, x: Tensor) -> Tensor:
        spatial = list(range(2, x.ndim))
        if self.collecting:  # R itself: ordinary batch statistics over batch and space
            mean = x.mean([0, *spatial], keepdim=True)
            mean_sq = x.square().mean([0, *spatial], keepdim=True)
            self.reference = (mean, mean_sq, x.shape[0])
        elif self.reference is None:
            raise RuntimeError(
                "VirtualBatchNorm has no reference statistics; call the network inside "
                "gan_zoo.layers.reference_batch(network, reference)"
            )
        else:
            ref_mean, ref_mean_sq, n = self.reference
            own_mean = x.mean(spatial, keepdim=True) if spatial else x
            own_mean_sq = x.square().mean(spatial, keepdim=True) if spatial else x.square()
            new = 1.0 / (n + 1)
            mean = new * own_mean + (1.0 - new) * ref_mean
            mean_sq = new * own_mean_sq + (1.0 - new) * ref_mean_sq
        variance = (mean_sq - mean.square()).clamp(min=0.0)
        shape = (1, -1) + (1,) * len(spatial)
        return (x - mean) * torch.rsqrt(variance + self.eps) * self.weight.view(shape) + self.bias.view(shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


@contextmanager
def reference_batch(network: nn.Module, reference: Tensor, *args: Any) -> Iterator[None]:
    """Pass the reference batch through ``network``; inside the block its :class:`VirtualBatchNorm`
    layers normalize with those statistics.

    Example::

        with reference_batch(self.net, self.reference_z):
            return self.net(z)

    Args:
        network: a network containing :class:`VirtualBatchNorm` layers.
        reference: the fixed reference input (e.g. latents drawn once and kept in a buffer).
        args: further inputs of ``network`` for the reference pass (e.g. its labels).
    """
    layers = [m for m in network.modules() if isinstance(m, VirtualBatchNorm)]
    for layer in layers:
        layer.collecting = True
    try:
        network(reference, *args)
    finally:
        for layer in layers:
            layer.collecting = False
    try:
        yield
    finally:
        for layer in layers:  # the statistics belong to this forward pass's graph only
            layer.reference = None
