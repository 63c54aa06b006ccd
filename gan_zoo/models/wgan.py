"""WGAN — Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN" (ICML), and WGAN-GP — Gulrajani et al.
2017, "Improved Training of Wasserstein GANs" (NeurIPS).

Both train a critic f (D without the sigmoid) to estimate the Wasserstein-1 distance

    W(P_r, P_g) = sup_{‖f‖_L ≤ 1} E_{x∼P_r}[f(x)] − E_{x∼P_g}[f(x)]            (WGAN, Eq. 3)

and move G along −∇ E_z[f(G(z))]. They differ in how f is kept 1-Lipschitz:

* WGAN (Algorithm 1): clip every critic weight to [−c, c] after each update, c = 0.01; RMSProp with
  learning rate 5e-5 (momentum-based optimizers were unstable, §3); n_critic = 5; batch 64.
* WGAN-GP (Algorithm 1): add λ E_x̂[(‖∇_x̂ f(x̂)‖₂ − 1)²] on points x̂ = εx + (1 − ε)x̃ with one ε ~ U[0, 1]
  per sample, λ = 10; Adam(1e-4, β1 = 0, β2 = 0.9); n_critic = 5; batch 64. The penalty is per sample,
  so the critic must not use batch norm (§4: "we recommend layer normalization").

The networks are DCGAN's (both papers' image experiments start from it), so everything here is a
choice of objective, constraint, schedule and optimizer: the :class:`~gan_zoo.losses.Wasserstein`
objective, the :class:`~gan_zoo.losses.WeightClipping` / :class:`~gan_zoo.losses.GradientPenalty`
regularizers, and :class:`~gan_zoo.models.DCGAN`'s ``d_norm``.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from pytorch_lightning.cli import LRSchedulerCallable, OptimizerCallable
from torch import nn

from gan_zoo.core.adversarial import shared_arguments
from gan_zoo.losses import AdversarialLoss, GradientPenalty, Regularizer, WeightClipping
from gan_zoo.losses.regularizers import Network
from gan_zoo.models.dcgan import DCGAN, DiscriminatorNorm, GeneratorNorm
from gan_zoo.models.registry import MODELS


@MODELS.register()
class WGAN(DCGAN):
    """Wasserstein GAN with weight clipping: Algorithm 1 of Arjovsky et al. 2017.

    Arguments not listed below are documented in :class:`~gan_zoo.models.DCGAN`. The default optimizer
    is the paper's RMSProp(lr = 5e-5).

    Args:
        d_norm: the critic's normalization; the authors' DCGAN critic keeps batch norm.
        regularizers: ``None`` means the paper's constraint, ``[WeightClipping(c=0.01)]``.
        n_critic: critic updates per generator update (5).
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 64, 64),
        num_classes: int | None = None,
        latent_dim: int = 100,
        g_width: int = 64,
        d_width: int = 64,
        g_norm: GeneratorNorm = "batch",
        d_norm: DiscriminatorNorm = "batch",
        d_minibatch_kernels: int = 0,
        loss: str | AdversarialLoss = "wasserstein",
        regularizers: list[str | Regularizer] | None = None,
        n_critic: int = 5,
        g_optimizer: OptimizerCallable | None = None,
        d_optimizer: OptimizerCallable | None = None,
        g_lr_scheduler: LRSchedulerCallable | None = None,
        d_lr_scheduler: LRSchedulerCallable | None = None,
        ema_decay: float | None = None,
        g_grad_clip: float | None = None,
        d_grad_clip: float | None = None,
        grid_columns: int = 8,
    ) -> None:
        arguments = shared_arguments(locals())
        if regularizers is None:
            arguments["regularizers"] = self.paper_regularizers()
        super().__init__(
            g_width=g_width,
            d_width=d_width,
            g_norm=g_norm,
            d_norm=d_norm,
            d_minibatch_kernels=d_minibatch_kernels,
            **arguments,
        )

    @staticmethod
    def paper_regularizers() -> list[Regularizer]:
        """Algorithm 1, line 7: w ← clip(w, −c, c), c = 0.01."""
        return [WeightClipping(0.01)]

    def default_optimizer(self, params: Iterable[nn.Parameter], network: Network) -> torch.optim.Optimizer:
        """Algorithm 1: RMSProp, α = 5e-5, for both players."""
        return torch.optim.RMSprop(params, lr=5e-5)


@MODELS.register()
class WGANGP(WGAN):
    """Wasserstein GAN with gradient penalty: Algorithm 1 of Gulrajani et al. 2017.

    Arguments not listed below are documented in :class:`WGAN`. The default optimizer is the paper's
    Adam(α = 1e-4, β1 = 0, β2 = 0.9).

    Args:
        d_norm: ``"layer"`` (default, §4's recommendation) or ``"none"``; batch norm would make the
            per-sample penalty wrong.
        regularizers: ``None`` means the paper's ``[GradientPenalty(λ=10)]``.
    """

    def __init__(
        self,
        image_shape: tuple[int, int, int] = (3, 64, 64),
        num_classes: int | None = None,
        latent_dim: int = 100,
        g_width: int = 64,
        d_width: int = 64,
        g_norm: GeneratorNorm = "batch",
        d_norm: DiscriminatorNorm = "layer",
        d_minibatch_kernels: int = 0,
        loss: str | AdversarialLoss = "wasserstein",
        regularizers: list[str | Regularizer] | None = None,
        n_critic: int = 5,
        g_optimizer: OptimizerCallable | None = None,
        d_optimizer: OptimizerCallable | None = None,
        g_lr_scheduler: LRSchedulerCallable | None = None,
        d_lr_scheduler: LRSchedulerCallable | None = None,
        ema_decay: float | None = None,
        g_grad_clip: float | None = None,
        d_grad_clip: float | None = None,
        grid_columns: int = 8,
    ) -> None:
        if d_norm == "batch" or d_minibatch_kernels:
            raise ValueError(
                "WGAN-GP penalizes each sample's gradient, which batch norm and minibatch discrimination "
                "couple across the batch; use d_norm='layer' or 'none' and no minibatch kernels "
                "(Gulrajani et al. 2017, §4)"
            )
        super().__init__(
            g_width=g_width,
            d_width=d_width,
            g_norm=g_norm,
            d_norm=d_norm,
            d_minibatch_kernels=d_minibatch_kernels,
            **shared_arguments(locals()),
        )

    @staticmethod
    def paper_regularizers() -> list[Regularizer]:
        """Algorithm 1: λ = 10, one ε ~ U[0, 1] per sample."""
        return [GradientPenalty(weight=10.0)]

    def default_optimizer(self, params: Iterable[nn.Parameter], network: Network) -> torch.optim.Optimizer:
        """Algorithm 1: Adam, α = 1e-4, β1 = 0, β2 = 0.9, for both players."""
        return torch.optim.Adam(params, lr=1e-4, betas=(0.0, 0.9))
