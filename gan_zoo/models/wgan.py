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

import torch

from gan_zoo.core import optimizer
from gan_zoo.models.dcgan import DCGAN
from gan_zoo.models.registry import MODELS


@MODELS.register()
class WGAN(DCGAN):
    """Wasserstein GAN with weight clipping: Algorithm 1 of Arjovsky et al. 2017.

    DCGAN's networks and arguments; the defaults are the paper's: the Wasserstein objective, weight
    clipping at c = 0.01 (line 7), n_critic = 5, fresh z for every G update, RMSProp(5e-5) for both
    players, z ~ N(0, I). The authors' DCGAN critic keeps batch norm.
    """

    defaults = {
        "latent_prior": "normal",
        "loss": "wasserstein",
        "regularizers": ["weight_clipping"],
        "n_critic": 5,
        "g_latents": "fresh",
        "g_optimizer": optimizer(torch.optim.RMSprop, lr=5e-5),
        "d_optimizer": optimizer(torch.optim.RMSprop, lr=5e-5),
    }


@MODELS.register()
class WGANGP(WGAN):
    """Wasserstein GAN with gradient penalty: Algorithm 1 of Gulrajani et al. 2017.

    DCGAN's networks and arguments; the defaults are the paper's: the penalty with λ = 10 and one
    ε ~ U[0, 1] per sample, n_critic = 5, Adam(α = 1e-4, β1 = 0, β2 = 0.9) for both players, and a
    critic with layer norm (``d_norm="layer"``, §4) since batch norm would make the per-sample penalty
    wrong.
    """

    defaults = {
        "d_norm": "layer",
        "regularizers": ["gradient_penalty"],
        "g_optimizer": optimizer(torch.optim.Adam, lr=1e-4, betas=(0.0, 0.9)),
        "d_optimizer": optimizer(torch.optim.Adam, lr=1e-4, betas=(0.0, 0.9)),
    }

    def check_arguments(self) -> None:
        super().check_arguments()
        if self.hparams.d_norm == "batch" or self.hparams.d_minibatch_kernels:
            raise ValueError(
                "WGAN-GP penalizes each sample's gradient, which batch norm and minibatch discrimination "
                "couple across the batch; use d_norm='layer' or 'none' and no minibatch kernels "
                "(Gulrajani et al. 2017, §4)"
            )
