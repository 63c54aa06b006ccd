"""Adversarial objectives, each computed from D's logits with the paper's equation beside it.

Notation: ``r = D(x)`` are the logits on real images, ``f = D(G(z))`` on generated ones, σ is the
sigmoid. ``log σ(r) = -softplus(-r)`` and ``log(1 - σ(f)) = -softplus(f)`` keep everything stable.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gan_zoo.losses.base import LOSSES, AdversarialLoss


class _SigmoidLoss(AdversarialLoss):
    """Objectives on probabilities D(x) = σ(logit): the discriminator is the same for both.

    One-sided label smoothing (Salimans et al. 2016, §3.4) is the ``real_label`` option: D's target
    for real images becomes α < 1 while the target for generated ones stays 0,

        L_D = −E_x[α log D(x) + (1 − α) log(1 − D(x))] − E_z[log(1 − D(G(z)))].

    Only the real side is softened: smoothing the fake target β > 0 as well would make the optimum
    D*(x) = (α p_data + β p_model) / (p_data + p_model) reward G for staying where the data is not.
    The generator's loss is unchanged.

    Args:
        real_label: α, D's target for real images; 1 (the default) is no smoothing, 0.9 the usual
            smoothed value (Goodfellow 2016, NIPS tutorial §4.2).
    """

    def __init__(self, real_label: float = 1.0) -> None:
        if not 0.0 < real_label <= 1.0:
            raise ValueError(f"real_label must be in (0, 1], got {real_label}")
        self.real_label = real_label

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        # D ascends log D(x) + log(1 − D(G(z)))  ⇔  descends softplus(−r) + softplus(f)
        real = F.softplus(-real_logits)
        if self.real_label != 1.0:  # −[α log σ(r) + (1 − α) log(1 − σ(r))]
            real = self.real_label * real + (1.0 - self.real_label) * F.softplus(real_logits)
        return real.mean() + F.softplus(fake_logits).mean()

    def output(self, logits: Tensor) -> Tensor:
        return logits.sigmoid()

    def __repr__(self) -> str:
        smoothing = f"real_label={self.real_label}" if self.real_label != 1.0 else ""
        return f"{type(self).__name__}({smoothing})"


@LOSSES.register("minimax")
class Minimax(_SigmoidLoss):
    """The minimax game of Goodfellow et al. 2014 (Algorithm 1), exactly.

    min_G max_D  E_x[log D(x)] + E_z[log(1 − D(G(z)))]

    D ascends ``log D(x) + log(1 − D(G(z)))``; G *descends* ``log(1 − D(G(z)))``. Early in training
    this saturates (the paper's §3 remark), which is why :class:`NonSaturating` exists.
    """

    name = "minimax"

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        # log(1 − σ(f)) = −softplus(f)
        return -F.softplus(fake_logits).mean()


@LOSSES.register("non_saturating")
class NonSaturating(_SigmoidLoss):
    """The non-saturating heuristic of Goodfellow et al. 2014, §3.

    D as in :class:`Minimax`; G maximizes ``log D(G(z))``, i.e. minimizes ``−log σ(f) = softplus(−f)``.
    """

    name = "non_saturating"

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        return F.softplus(-fake_logits).mean()


@LOSSES.register("least_squares")
class LeastSquares(AdversarialLoss):
    """Least-squares GAN, Mao et al. 2017, Eq. (2).

    min_D ½ E_x[(D(x) − b)²] + ½ E_z[(D(G(z)) − a)²]
    min_G ½ E_z[(D(G(z)) − c)²]

    ``a`` codes fake, ``b`` real, and ``c`` is what G wants D to believe. Defaults are the paper's
    0-1 coding (a = 0, b = c = 1, Eq. (9), used in its experiments); ``a=-1, b=1, c=0`` is the scheme
    that minimizes the Pearson χ² divergence (Eq. (8)).
    """

    name = "least_squares"

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        self.a, self.b, self.c = a, b, c

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * (real_logits - self.b).square().mean() + 0.5 * (fake_logits - self.a).square().mean()

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        return 0.5 * (fake_logits - self.c).square().mean()

    def __repr__(self) -> str:
        return f"LeastSquares(a={self.a}, b={self.b}, c={self.c})"


@LOSSES.register("hinge")
class Hinge(AdversarialLoss):
    """Hinge loss (Lim & Ye 2017; Miyato et al. 2018; used by SAGAN and BigGAN).

    L_D = E_x[max(0, 1 − D(x))] + E_z[max(0, 1 + D(G(z)))]
    L_G = −E_z[D(G(z))]
    """

    name = "hinge"

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        return -fake_logits.mean()


@LOSSES.register("wasserstein")
class Wasserstein(AdversarialLoss):
    """Wasserstein GAN, Arjovsky et al. 2017, Eq. (3), with D the critic f_w.

    L_D = E_z[f(G(z))] − E_x[f(x)]      (the critic maximizes E f(x) − E f(G(z)))
    L_G = −E_z[f(G(z))]

    The critic must be kept (approximately) 1-Lipschitz: weight clipping or a gradient penalty.
    """

    name = "wasserstein"

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return fake_logits.mean() - real_logits.mean()

    def g_loss(self, fake_logits: Tensor) -> Tensor:
        return -fake_logits.mean()
