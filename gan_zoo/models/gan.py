"""GAN — Goodfellow et al. 2014, "Generative Adversarial Nets" (NeurIPS).

The MNIST networks of the paper's code (``mnist.yaml`` in the authors' repository): a ReLU MLP
generator and a maxout discriminator with dropout, trained with SGD + momentum.

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]            (Eq. 1)

The paper trains G with the non-saturating variant (§3): maximize log D(G(z)). Choose
``loss: minimax`` for Algorithm 1 to the letter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule
from gan_zoo.core.adversarial import shared_arguments
from gan_zoo.layers import Maxout, init_uniform_
from gan_zoo.losses import AdversarialLoss, Regularizer
from gan_zoo.losses.regularizers import Network
from gan_zoo.models.registry import MODELS


class MLPGenerator(nn.Module):
    """z [N, latent_dim] → ReLU(hidden) → ReLU(hidden) → tanh → images [N, C, H, W].

    The paper's output is a sigmoid on [0, 1] pixels; tanh is the same unit on the library's [-1, 1].
    """

    def __init__(self, latent_dim: int, image_shape: tuple[int, int, int], hidden: int = 1200) -> None:
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.net = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, math.prod(image_shape)),
            nn.Tanh(),
        )
        init_uniform_(self, irange=0.05)  # mnist.yaml: irange .05

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(z.shape[0], *self.image_shape)


class MaxoutDiscriminator(nn.Module):
    """images → dropout(0.2) → maxout(240×5) → dropout(0.5) → maxout(240×5) → dropout(0.5) → logit [N, 1]."""

    def __init__(
        self, image_shape: tuple[int, int, int], hidden: int = 240, pieces: int = 5, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(0.2),  # mnist.yaml: input include probability .8
            Maxout(math.prod(image_shape), hidden, pieces),
            nn.Dropout(dropout),
            Maxout(hidden, hidden, pieces),
            nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )
        init_uniform_(self, irange=0.005)  # mnist.yaml: irange .005

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


@MODELS.register()
class GAN(AdversarialModule):
    """The original GAN on flattened images.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`.

    Args:
        g_hidden: width of G's two ReLU layers (1200 in the paper's MNIST model).
        d_hidden: maxout units per D layer (240).
        d_pieces: affine pieces per maxout unit (5).
        d_dropout: dropout on D's hidden layers (0.5).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (1, 28, 28),
        num_classes: int | None = None,
        latent_dim: int = 100,
        g_hidden: int = 1200,
        d_hidden: int = 240,
        d_pieces: int = 5,
        d_dropout: float = 0.5,
        loss: str | AdversarialLoss = "non_saturating",
        regularizers: list[str | Regularizer] | None = None,
        n_critic: int = 1,
        g_optimizer: OptimizerCallable | None = None,
        d_optimizer: OptimizerCallable | None = None,
        g_lr_scheduler: LRSchedulerCallable | None = None,
        d_lr_scheduler: LRSchedulerCallable | None = None,
        ema_decay: float | None = None,
        g_grad_clip: float | None = None,
        d_grad_clip: float | None = None,
        grid_columns: int = 8,
    ) -> None:
        super().__init__(
            generator=MLPGenerator(latent_dim, image_shape, g_hidden),
            discriminator=MaxoutDiscriminator(image_shape, d_hidden, d_pieces, d_dropout),
            **shared_arguments(locals()),
        )

    def default_optimizer(self, params: Iterable[nn.Parameter], network: Network) -> torch.optim.Optimizer:
        """mnist.yaml: SGD, learning rate 0.1, momentum 0.5 (raised to 0.7 over 250 epochs there)."""
        return torch.optim.SGD(params, lr=0.1, momentum=0.5)
