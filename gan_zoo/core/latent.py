"""Drawing latent codes and labels."""

from __future__ import annotations

import torch
from torch import Tensor


def truncated_normal(
    shape: tuple[int, ...],
    threshold: float,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """N(0, I) with every value of magnitude above ``threshold`` resampled (BigGAN's truncation trick, §3.1).

    Resampling, rather than clamping, keeps the distribution a truncated normal with no mass piled up
    at ±threshold.
    """
    if threshold <= 0:
        raise ValueError(f"truncation threshold must be > 0, got {threshold}")
    z = torch.randn(shape, device=device, generator=generator)
    outside = z.abs() > threshold
    while outside.any():  # sampling time only: a host sync here costs nothing
        z[outside] = torch.randn(int(outside.sum()), device=device, generator=generator)
        outside = z.abs() > threshold
    return z
