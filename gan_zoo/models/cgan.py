"""CGAN — Mirza & Osindero 2014, "Conditional Generative Adversarial Nets".

Both players see the label y (one-hot), concatenated to their hidden representation:

    min_G max_D V(D, G) = E_x[log D(x | y)] + E_z[log(1 − D(G(z | y)))]     (Eq. 2)

Architecture of §4.1 (unimodal MNIST): G maps z (uniform on the unit hypercube, 100-d) to 200 ReLU
units and y to 1000 ReLU units, joins them in a 1200-unit ReLU layer and outputs 784 pixels. D maps x
to maxout(240 units × 5 pieces) and y to maxout(50 × 5), joins them in maxout(240 × 4) and outputs one
logit. Dropout 0.5 in both; SGD, batch 100, learning rate 0.1 "exponentially decreased down to
.000001 with decay factor of 1.00004", momentum 0.5 "increased up to 0.7" (over the first 250 epochs as
in the GAN code; the paper does not say over how long). Each G update draws fresh noise (Algorithm 1
of the GAN paper, which CGAN follows).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, scheduler
from gan_zoo.core.schedules import DecayAndMomentumRamp
from gan_zoo.layers import Maxout
from gan_zoo.models.gan import PYLEARN2_SGD
from gan_zoo.models.registry import MODELS

#: §4.1: the learning rate divided by 1.00004 after each update down to 10⁻⁶; momentum 0.5 → 0.7.
CGAN_SCHEDULE = scheduler(DecayAndMomentumRamp, decay_factor=1.00004, min_lr=1e-6, final_momentum=0.7)


class ConditionalMLPGenerator(nn.Module):
    """(z [N, latent_dim], y [N]) → images [N, C, H, W] in [-1, 1]."""

    def __init__(
        self,
        latent_dim: int,
        num_classes: int,
        image_shape: tuple[int, int, int],
        z_hidden: int = 200,
        y_hidden: int = 1000,
        joint_hidden: int = 1200,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_classes, self.image_shape = num_classes, tuple(image_shape)
        self.z_path = nn.Sequential(nn.Linear(latent_dim, z_hidden), nn.ReLU())
        self.y_path = nn.Sequential(nn.Linear(num_classes, y_hidden), nn.ReLU())
        self.joint = nn.Sequential(
            nn.Linear(z_hidden + y_hidden, joint_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(joint_hidden, math.prod(image_shape)),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        y_onehot = F.one_hot(y, self.num_classes).to(z.dtype)
        h = torch.cat([self.z_path(z), self.y_path(y_onehot)], dim=1)
        return self.joint(h).view(z.shape[0], *self.image_shape)


class ConditionalMaxoutDiscriminator(nn.Module):
    """(images [N, C, H, W], y [N]) → logit [N, 1]."""

    def __init__(
        self,
        image_shape: tuple[int, int, int],
        num_classes: int,
        x_units: int = 240,
        y_units: int = 50,
        joint_units: int = 240,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.x_path = nn.Sequential(
            nn.Flatten(), Maxout(math.prod(image_shape), x_units, 5), nn.Dropout(dropout)
        )
        self.y_path = nn.Sequential(Maxout(num_classes, y_units, 5), nn.Dropout(dropout))
        self.joint = nn.Sequential(Maxout(x_units + y_units, joint_units, 4), nn.Dropout(dropout))
        self.head = nn.Linear(joint_units, 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        y_onehot = F.one_hot(y, self.num_classes).to(x.dtype)
        # The paper's pixels are in [0, 1], the library's in [-1, 1]: D reads them on the paper's scale
        # (as GAN's MaxoutDiscriminator does, for the same reason: SGD at lr 0.1 diverged at twice it).
        h = torch.cat([self.x_path((x + 1) / 2), self.y_path(y_onehot)], dim=1)
        return self.head(self.joint(h))


@MODELS.register()
class CGAN(AdversarialModule):
    """Conditional GAN: G(z | y) and D(x | y) with one-hot labels concatenated to hidden layers.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`.

    Args:
        dropout: dropout rate in G and D (0.5 in the paper).
    """

    conditional = True
    legacy_latent_prior = "uniform_0_1"
    defaults = {
        "image_shape": (1, 28, 28),
        "num_classes": 10,
        "latent_prior": "uniform_0_1",  # §4.1: "drawn from a uniform distribution within the unit hypercube"
        "g_optimizer": PYLEARN2_SGD,
        "d_optimizer": PYLEARN2_SGD,
        "g_lr_scheduler": CGAN_SCHEDULE,
        "d_lr_scheduler": CGAN_SCHEDULE,
    }

    def __init__(self, dropout: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    def build_generator(self) -> nn.Module:
        return ConditionalMLPGenerator(
            self.latent_dim, self.num_classes, self.image_shape, dropout=self.hparams.dropout
        )

    def build_discriminator(self) -> nn.Module:
        return ConditionalMaxoutDiscriminator(
            self.image_shape, self.num_classes, dropout=self.hparams.dropout
        )
