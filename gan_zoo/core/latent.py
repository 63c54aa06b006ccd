"""Drawing latent codes: the priors p(z) of the zoo's papers and BigGAN's truncated normal."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

#: ``"normal"`` N(0, I) (most papers); ``"uniform"`` U[−1, 1]^d (DCGAN's and LSGAN's code);
#: ``"uniform_0_1"`` U[0, 1)^d (Mirza & Osindero 2014 §4.1, Salimans et al. 2016's code).
LatentPrior = Literal["normal", "uniform", "uniform_0_1"]
PRIORS: tuple[str, ...] = ("normal", "uniform", "uniform_0_1")


def truncated_normal(
    shape: tuple[int, ...],
    threshold: float,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """N(0, I) restricted to [−threshold, threshold] (BigGAN's truncation trick, §3.1).

    A truncated normal, with no mass piled up at ±threshold: BigGAN's code resamples the values
    outside; :func:`torch.nn.init.trunc_normal_` draws the same distribution by inverting its CDF, in
    one pass and without a host sync.
    """
    if threshold <= 0:
        raise ValueError(f"truncation threshold must be > 0, got {threshold}")
    z = torch.empty(shape, device=device)
    return torch.nn.init.trunc_normal_(z, 0.0, 1.0, -threshold, threshold, generator=generator)


def draw_latent(
    shape: tuple[int, ...],
    prior: LatentPrior,
    truncation: float | None = None,
    *,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """z ~ ``prior`` of ``shape``; with ``truncation``, the normal truncated at ±truncation."""
    if truncation is not None:
        if prior != "normal":
            raise ValueError(f"the truncation trick needs a normal prior; this model's is {prior!r}")
        return truncated_normal(shape, truncation, device=device, generator=generator)
    if prior == "normal":
        return torch.randn(shape, device=device, generator=generator)
    if prior == "uniform":
        return torch.rand(shape, device=device, generator=generator).mul_(2.0).sub_(1.0)
    if prior == "uniform_0_1":
        return torch.rand(shape, device=device, generator=generator)
    raise ValueError(f"unknown latent prior {prior!r}; choose one of {', '.join(PRIORS)}")
