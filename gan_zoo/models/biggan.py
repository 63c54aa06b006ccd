"""BigGAN — Brock, Donahue & Simonyan 2019, "Large Scale GAN Training for High Fidelity Natural Image
Synthesis" (ICLR).

BigGAN starts from SAGAN (:mod:`gan_zoo.models.sagan`: residual G and D, self-attention, spectral norm
in both, hinge loss, projection D) and scales it, with these changes (§3, Appendix B):

* **shared class embedding**: one embedding of y (128-d) feeds the conditional batch norms of every G
  block, each through its own linear projection, instead of per-layer class tables;
* **hierarchical latent space** ("skip-z"): z is split into one chunk per resolution; the first chunk
  goes to G's linear input layer, chunk i + 1 is concatenated to the shared embedding to condition
  block i (120 = 6 × 20 at 128×128, Figure 15);
* **orthogonal regularization** on G, the relaxed form β ‖WᵀW ⊙ (1 − I)‖²_F with β = 10⁻⁴ (§3.1,
  Eq. 3; :class:`~gan_zoo.losses.OrthogonalRegularization`), which makes G amenable to
* **the truncation trick** (§3.1): at sampling time z is drawn from a normal truncated at ψ, values
  beyond it resampled — ``model.sample(n, truncation=ψ)`` — trading variety for fidelity;
* an **exponential moving average** of G's weights (decay 0.9999, Appendix C) for sampling; the code
  copies G until iteration 20 000 (``ema_start``);
* orthogonal initialization (Appendix B), Adam with β = (0, 0.999), lr 5·10⁻⁵ for G and 2·10⁻⁴ for D,
  two D steps per G step (Appendix C); ch = 96 and attention at 64×64 at 128 px (Appendix B).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_zoo.core import AdversarialModule, optimizer
from gan_zoo.layers import apply_spectral_norm, init_weights_
from gan_zoo.models.registry import MODELS
from gan_zoo.models.sagan import ResidualGenerator, SAGANDiscriminator, attention_sizes, resnet_widths


class BigGANGenerator(nn.Module):
    """(z [N, latent_dim], y [N]) → images [N, C, H, W] in [-1, 1].

    z is cut into ``len(blocks) + 1`` chunks (equal when the sizes divide, otherwise they differ by
    one): z₀ feeds the linear layer, and block i's batch norms are conditioned on
    [shared(y), z_{i+1}].
    """

    def __init__(
        self,
        latent_dim: int,
        image_shape: tuple[int, int, int],
        num_classes: int,
        width: int = 96,
        attention: Sequence[int] = (64,),
        shared_dim: int = 128,
        init: str = "ortho",
        bn_eps: float = 1e-5,
        sn_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        widths = resnet_widths(image_shape[1], width)
        self.num_chunks = len(widths)  # one per block, plus the linear input
        if latent_dim < self.num_chunks:
            raise ValueError(
                f"BigGAN splits z into {self.num_chunks} chunks at {image_shape[1]} px; "
                f"latent_dim={latent_dim} is too small"
            )
        chunks = [len(c) for c in torch.arange(latent_dim).tensor_split(self.num_chunks)]
        self.shared = nn.Embedding(num_classes, shared_dim)
        conditions = [shared_dim + size for size in chunks[1:]]
        self.trunk = ResidualGenerator(chunks[0], image_shape[0], widths, conditions, attention, bn_eps)
        init_weights_(self, init, conditional_norms=True)  # BigGAN's code: the embedding's projections too
        apply_spectral_norm(self.trunk, eps=sn_eps)  # not the shared embedding (BigGAN's code)

    def split_latent(self, z: Tensor) -> tuple[Tensor, ...]:
        """z ``[N, latent_dim]`` → its chunks z₀, z₁, … (views, in order)."""
        return torch.tensor_split(z, self.num_chunks, dim=1)

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        z0, *per_block = self.split_latent(z)
        shared = self.shared(y)  # [N, shared_dim], one embedding for all blocks
        return self.trunk(z0, [torch.cat([shared, z_i], dim=1) for z_i in per_block])


@MODELS.register()
class BigGAN(AdversarialModule):
    """Class-conditional BigGAN.

    Arguments not listed below are documented in :class:`~gan_zoo.core.AdversarialModule`; the
    defaults are the paper's: hinge loss, orthogonal regularization on G (β = 10⁻⁴), two D steps per G
    step with fresh z and labels for G (BigGAN-PyTorch's ``train_fns``), Adam(β = (0, 0.999), ε = 10⁻⁶,
    lr 5·10⁻⁵ for G and 2·10⁻⁴ for D), and an EMA of G with decay 0.9999 from iteration 20 000.

    Args:
        shared_dim: size of the shared class embedding (128).
        g_width: G's ch (96 at 128 px).
        d_width: D's ch (96 at 128 px).
        attention_resolutions: feature-map sizes with self-attention, in both networks; ``None``
            means H/2 (64×64 at 128 px, Appendix B; none at 8 px); ``[]`` for none.
        init: ``"ortho"`` (the paper), ``"N02"`` or ``"xavier"``.
        bn_eps: ε of batch norm (1e-5 in BigGAN's code).
        sn_eps: ε of the spectral-norm power iteration (1e-6 in BigGAN's code).
    """

    conditional = True
    defaults = {
        "image_shape": (3, 128, 128),
        "num_classes": 1000,
        "latent_dim": 120,
        "loss": "hinge",
        "regularizers": ["orthogonal"],
        "n_critic": 2,
        # Appendix C: Adam, β₁ = 0, β₂ = 0.999; lr 5·10⁻⁵ for G, 2·10⁻⁴ for D (ε = 10⁻⁶, BigGAN's code)
        "g_optimizer": optimizer(torch.optim.Adam, lr=5e-5, betas=(0.0, 0.999), eps=1e-6),
        "d_optimizer": optimizer(torch.optim.Adam, lr=2e-4, betas=(0.0, 0.999), eps=1e-6),
        "ema_decay": 0.9999,
        "ema_start": 20000,
    }

    def __init__(
        self,
        shared_dim: int = 128,
        g_width: int = 96,
        d_width: int = 96,
        attention_resolutions: tuple[int, ...] | None = None,
        init: str = "ortho",
        bn_eps: float = 1e-5,
        sn_eps: float = 1e-6,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)

    def attention(self) -> tuple[int, ...]:
        """The feature-map sizes with self-attention (``attention_resolutions`` or H/2)."""
        sizes = self.hparams.attention_resolutions
        if sizes is None:
            sizes = (self.image_shape[1] // 2,) if self.image_shape[1] >= 16 else ()
        return attention_sizes(self.image_shape, sizes)

    def build_generator(self) -> nn.Module:
        h = self.hparams
        return BigGANGenerator(
            self.latent_dim, self.image_shape, self.num_classes, h.g_width, self.attention(), h.shared_dim,
            h.init, h.bn_eps, h.sn_eps,
        )  # fmt: skip

    def build_discriminator(self) -> nn.Module:
        h = self.hparams
        return SAGANDiscriminator(
            self.image_shape, h.d_width, self.attention(), self.num_classes, h.init, h.sn_eps
        )
