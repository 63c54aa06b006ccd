"""Weight initializations the papers prescribe."""

from __future__ import annotations

from torch import nn

from gan_zoo.layers.conditional_batch_norm import ConditionalBatchNorm2d

_CONV_OR_LINEAR = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORM = (nn.BatchNorm1d, nn.BatchNorm2d)


def init_normal_(module: nn.Module, std: float = 0.02) -> None:
    """Radford et al. 2016 §4: weights ~ N(0, 0.02); batch-norm scales ~ N(1, 0.02); biases 0.

    Apply with ``net.apply(init_normal_)``.
    """
    if isinstance(module, _CONV_OR_LINEAR):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, _NORM) and module.affine:
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)


def init_uniform_(network: nn.Module, irange: float) -> nn.Module:
    """pylearn2's ``irange`` init (Goodfellow et al. 2014 code): weights ~ U(−irange, irange), biases 0."""
    for module in network.modules():
        if isinstance(module, _CONV_OR_LINEAR):
            nn.init.uniform_(module.weight, -irange, irange)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return network


def init_weights_(network: nn.Module, scheme: str, *, conditional_norms: bool = False) -> nn.Module:
    """Re-initialize the weights of every conv, linear and embedding layer of ``network``.

    Schemes (the names of BigGAN's code, ``--G_init`` / ``--D_init``): ``"ortho"`` orthogonal
    (Saxe et al. 2014; BigGAN, Appendix B), ``"xavier"`` Glorot-uniform (SAGAN's code), ``"N02"``
    N(0, 0.02). Biases keep their values. Apply before spectral normalization, whose power
    iteration starts from the weights it is given.

    The gain and bias weights of :class:`~gan_zoo.layers.ConditionalBatchNorm2d` layers keep their
    own initialization (γ = 1, β = 0, as SAGAN's code sets its per-class tables) unless
    ``conditional_norms`` is set: BigGAN's code initializes the projections of its shared class
    embedding with the same scheme as every other linear layer.
    """
    initializers = {
        "ortho": nn.init.orthogonal_,
        "xavier": nn.init.xavier_uniform_,
        "N02": lambda w: nn.init.normal_(w, 0.0, 0.02),
    }
    if scheme not in initializers:
        raise ValueError(f"Unknown init scheme '{scheme}'. Valid schemes: {', '.join(sorted(initializers))}.")
    kept = set()
    if not conditional_norms:
        norms = (m for m in network.modules() if isinstance(m, ConditionalBatchNorm2d))
        kept = {id(layer) for norm in norms for layer in norm.modules()}
    for module in network.modules():
        if isinstance(module, (*_CONV_OR_LINEAR, nn.Embedding)) and id(module) not in kept:
            initializers[scheme](module.weight)
    return network
