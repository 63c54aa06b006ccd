"""GAN — Goodfellow et al. 2014, "Generative Adversarial Nets" (NeurIPS).

The MNIST networks of the paper's code (``mnist.yaml`` in the authors' repository): a ReLU MLP
generator and a maxout discriminator with dropout, trained with SGD + momentum.

    min_G max_D V(D, G) = E_x[log D(x)] + E_z[log(1 − D(G(z)))]            (Eq. 1)

The paper trains G with the non-saturating variant (§3): maximize log D(G(z)). Choose
``loss: minimax`` for Algorithm 1 to the letter. Each G update draws fresh noise (Algorithm 1).

Optimization (``mnist.yaml``): SGD with learning rate 0.1 divided by 1.000004 after every update down
to 10⁻⁶, momentum 0.5 raised linearly to 0.7 between epochs 1 and 250
(:class:`~gan_zoo.core.schedules.DecayAndMomentumRamp`), batch 100.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, optimizer, scheduler
from gan_zoo.core.schedules import DecayAndMomentumRamp
from gan_zoo.layers import Maxout, init_uniform_
from gan_zoo.models.registry import MODELS

#: mnist.yaml: SGD(lr 0.1, momentum 0.5), the learning rate decayed and the momentum ramped to 0.7.
PYLEARN2_SGD = optimizer(torch.optim.SGD, lr=0.1, momentum=0.5)
PYLEARN2_SCHEDULE = scheduler(DecayAndMomentumRamp, decay_factor=1.000004, min_lr=1e-6, final_momentum=0.7)


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
    """images in [-1, 1] → pixels in [0, 1] → dropout(0.2) → maxout(240×5) → dropout(0.5) → maxout(240×5)
    → dropout(0.5) → logit [N, 1]."""

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
        # The paper's D reads pixels in [0, 1] (pylearn2's MNIST; G's sigmoid output); the library's
        # images are in [-1, 1]. At twice the scale, SGD at the paper's lr 0.1 takes steps on the first
        # layer's weights about twice as large and diverged within 200 batches on Fashion-MNIST.
        return self.net((x + 1) / 2)


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

    defaults = {
        "image_shape": (1, 28, 28),
        "g_optimizer": PYLEARN2_SGD,
        "d_optimizer": PYLEARN2_SGD,
        "g_lr_scheduler": PYLEARN2_SCHEDULE,
        "d_lr_scheduler": PYLEARN2_SCHEDULE,
    }

    def __init__(
        self,
        g_hidden: int = 1200,
        d_hidden: int = 240,
        d_pieces: int = 5,
        d_dropout: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)

    def build_generator(self) -> nn.Module:
        return MLPGenerator(self.latent_dim, self.image_shape, self.hparams.g_hidden)

    def build_discriminator(self) -> nn.Module:
        h = self.hparams
        return MaxoutDiscriminator(self.image_shape, h.d_hidden, h.d_pieces, h.d_dropout)
