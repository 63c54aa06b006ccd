"""Feature matching (Salimans et al. 2016, §3.1)."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_zoo.layers.features import feature_module, forward_with_features
from gan_zoo.losses.regularizers import REGULARIZERS, Regularizer


def feature_matching(
    real_features: Tensor, fake_features: Tensor, real_weights: Tensor | None = None
) -> Tensor:
    """‖E_x f(x) − E_z f(G(z))‖²₂ from features ``[N, F]`` of a real and a generated batch.

    Args:
        real_features: f(x), ``[N, F]``.
        fake_features: f(G(z)), ``[M, F]``.
        real_weights: optional ``[N]`` weights of the real examples in E_x (e.g. only the unlabelled
            ones in semi-supervised training); uniform when ``None``.
    """
    if real_weights is None:
        real_mean = real_features.mean(0)
    else:
        weights = real_weights.to(real_features.dtype)
        real_mean = (weights[:, None] * real_features).sum(0) / weights.sum().clamp(min=1e-12)
    return (real_mean - fake_features.mean(0)).square().sum()


@REGULARIZERS.register("feature_matching")
class FeatureMatching(Regularizer):
    """Salimans et al. 2016, §3.1: G matches the expected intermediate features of D on real data,

        ‖E_{x∼p_data} f(x) − E_{z∼p_z} f(G(z))‖²₂,

    with f(x) the activations of an intermediate layer of D (the discriminator's ``feature_layer``,
    see :mod:`gan_zoo.layers.features`). D is trained as usual. In the paper this *is* G's objective
    (``replace=True``); with ``replace=False`` it is added to G's adversarial loss with weight λ.

    D runs once more on the real batch (no gradient) and on the generated one for this term.

    Args:
        weight: λ.
        layer: name of D's submodule to match; ``None`` uses the discriminator's ``feature_layer``.
        replace: make feature matching G's whole loss (the paper) rather than an added term.
    """

    name = "feature_matching"
    network = "generator"

    def __init__(self, weight: float = 1.0, layer: str | None = None, replace: bool = True) -> None:
        super().__init__(weight)
        self.layer = layer
        self.replaces_loss = replace

    def penalty(self, module, step) -> Tensor:
        layer = feature_module(module.discriminator, self.layer)
        with torch.no_grad():  # D is frozen in G's update; the real side needs no graph at all
            _, real = forward_with_features(
                lambda x: module.discriminate(x, step.real_labels), layer, step.real
            )
        _, fake = forward_with_features(lambda x: module.discriminate(x, step.fake_labels), layer, step.fake)
        return feature_matching(real, fake)

    def __repr__(self) -> str:
        return f"FeatureMatching(weight={self.weight}, layer={self.layer!r}, replace={self.replaces_loss})"
