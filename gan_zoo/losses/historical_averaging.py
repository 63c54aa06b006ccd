"""Historical averaging (Salimans et al. 2016, §3.3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo.losses.regularizers import REGULARIZERS, Network, Regularizer


@REGULARIZERS.register("historical_averaging")
class HistoricalAveraging(Regularizer):
    """Salimans et al. 2016, §3.3: a player's cost gets the term

        ‖θ − (1/t) Σ_{i=1}^{t} θ[i]‖²,

    θ[i] being the player's parameters at past time i. Here the past values are the parameters at the
    start and after each of the network's updates, kept as a running mean (one ``lerp`` per update,
    no copies of the history). The paper applies it to both players: list one instance per network,

    .. code-block:: yaml

        regularizers:
          - {class_path: gan_zoo.losses.HistoricalAveraging, init_args: {network: discriminator}}
          - {class_path: gan_zoo.losses.HistoricalAveraging, init_args: {network: generator}}

    The paper gives no weight; λ = 1 by default. The running mean lives in this object (it is not
    part of the checkpoint, so it restarts when training resumes).

    Args:
        network: the player whose parameters are averaged and penalized.
        weight: λ.
    """

    name = "historical_averaging"

    def __init__(self, network: Network = "discriminator", weight: float = 1.0) -> None:
        super().__init__(weight)
        if network not in ("generator", "discriminator"):
            raise ValueError(f"network must be 'generator' or 'discriminator', got {network!r}")
        self.network = network
        self.average: list[Tensor] | None = None  # (1/t) Σ θ[i], one tensor per parameter
        self.count = 0  # t

    def _parameters(self, module) -> list[nn.Parameter]:
        return list(getattr(module, self.network).parameters())

    @torch.no_grad()
    def _start(self, parameters: list[nn.Parameter]) -> None:
        self.average = [p.detach().clone() for p in parameters]
        self.count = 1

    def penalty(self, module, step) -> Tensor:
        parameters = self._parameters(module)
        if self.average is None:
            self._start(parameters)
        return torch.stack(
            [(p - a).square().sum() for p, a in zip(parameters, self.average, strict=True)]
        ).sum()

    @torch.no_grad()
    def after_step(self, module) -> None:
        parameters = self._parameters(module)
        if self.average is None:  # no penalty was computed yet: the values after this update come first
            self._start(parameters)
            return
        # mean_t = mean_{t−1} + (θ_t − mean_{t−1}) / t
        self.count += 1
        torch._foreach_lerp_(self.average, [p.detach() for p in parameters], 1.0 / self.count)

    def __repr__(self) -> str:
        return f"HistoricalAveraging(network={self.network!r}, weight={self.weight})"
