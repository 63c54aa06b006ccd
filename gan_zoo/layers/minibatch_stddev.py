"""Minibatch standard deviation (ProGAN, Karras et al. 2018, §3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class MinibatchStdDev(nn.Module):
    """Appends one feature map holding the average standard deviation of the features over a group.

    §3: "compute the standard deviation for each feature in each spatial location over the
    minibatch, average these estimates over all features and spatial locations to arrive at a single
    value, replicate it and concatenate it to all spatial locations", giving D a direct view of the
    variation in a batch. As in the authors' code the minibatch is split into groups of
    ``group_size`` (4) and each group gets its own value:

        σ_g = mean_{c,h,w} √( mean_{i ∈ g} (x_i − x̄_g)² + 1e-8 )

    Sample ``i`` of a batch of ``N`` belongs to group ``i mod (N / G)`` (the code's reshape). ``G`` is
    the largest divisor of ``N`` not above ``group_size``, so that any batch splits evenly (the code
    takes ``min(group_size, N)`` and requires it to divide ``N``).

    Shapes: ``[N, C, H, W] -> [N, C + 1, H, W]``.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        if group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {group_size}")
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        group = next(g for g in range(min(self.group_size, n), 0, -1) if n % g == 0)
        y = x.float().view(group, n // group, c, h, w)  # [G, M, C, H, W]
        std = (y.var(dim=0, unbiased=False) + 1e-8).sqrt()  # [M, C, H, W]
        value = std.mean(dim=(1, 2, 3)).to(x.dtype)  # [M]
        feature = value.repeat(group).view(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, feature], dim=1)
