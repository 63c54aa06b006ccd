"""Intermediate discriminator features f(x), for feature matching and semi-supervised heads.

A discriminator exposes its features by naming, in a ``feature_layer`` attribute, the submodule whose
output is f(x) (the zoo's discriminators name their last hidden layer). Any other submodule can be
asked for by its name in ``named_modules()``. The layer's output is recorded with a forward hook during
an ordinary forward pass, so a discriminator needs no second ``forward`` and third-party networks work
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn


def feature_module(discriminator: nn.Module, layer: str | None = None) -> nn.Module:
    """The submodule whose output is f(x): ``layer`` if given, else ``discriminator.feature_layer``.

    Raises:
        ValueError: no layer was named, or the name is not a submodule (the message lists the names).
    """
    name = layer if layer is not None else getattr(discriminator, "feature_layer", None)
    modules = dict(discriminator.named_modules())
    if name is None or name not in modules or name == "":
        valid = ", ".join(n for n in modules if n)
        reason = (
            f"{type(discriminator).__name__} names no feature_layer"
            if name is None
            else f"'{name}' is not a submodule of {type(discriminator).__name__}"
        )
        raise ValueError(f"{reason}; give one of: {valid}")
    return modules[name]


def forward_with_features(
    forward: Callable[[Tensor], Tensor], module: nn.Module, x: Tensor
) -> tuple[Tensor, Tensor]:
    """Run ``forward(x)`` and return its output with ``module``'s output flattened to ``[N, F]``.

    Args:
        forward: the discriminator call, e.g. ``lambda x: model.discriminate(x, y)``.
        module: the feature layer (see :func:`feature_module`).
        x: the input batch ``[N, ...]``.
    """
    captured: list[Tensor] = []
    handle = module.register_forward_hook(lambda _module, _args, output: captured.append(output))
    try:
        output = forward(x)
    finally:
        handle.remove()
    if len(captured) != 1:
        raise RuntimeError(f"the feature layer ran {len(captured)} times in one forward pass; expected once")
    return output, captured[0].flatten(1)
