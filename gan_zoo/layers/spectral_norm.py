"""Spectral normalization (Miyato et al. 2018) applied with torch's own parametrization."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

#: The layers whose weight gets normalized.
_WEIGHTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Embedding)


def apply_spectral_norm(network: nn.Module, eps: float = 1e-12, skip: Iterable[nn.Module] = ()) -> nn.Module:
    """Replace every conv, linear and embedding weight W of ``network`` by W / σ(W), in place.

    σ(W) is W's largest singular value, estimated by one power iteration per training forward pass
    (Miyato et al. 2018, Algorithm 1) by :func:`torch.nn.utils.parametrizations.spectral_norm`; the
    raw weight is stored as ``parametrizations.weight.original`` and the power-iteration vectors as
    buffers, so both travel in checkpoints.

    Args:
        network: the module to normalize (all of its sub-layers).
        eps: ε added to norms in the power iteration (BigGAN's code uses 1e-6).
        skip: sub-modules to leave alone, with everything below them (e.g. BigGAN's shared class
            embedding).

    Returns:
        ``network`` itself.
    """
    skipped = {id(module) for root in skip for module in root.modules()}
    layers = [
        module
        for module in network.modules()
        if isinstance(module, _WEIGHTED)
        and id(module) not in skipped
        and not parametrize.is_parametrized(module, "weight")
    ]
    for layer in layers:
        spectral_norm(layer, eps=eps)
    return network


def raw_weight(layer: nn.Module):
    """The trainable weight of ``layer``: the unnormalized one when spectral norm is applied."""
    if parametrize.is_parametrized(layer, "weight"):
        return layer.parametrizations.weight.original
    return layer.weight
