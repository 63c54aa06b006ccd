"""WGAN-GP's gradient penalty (Gulrajani et al. 2017)."""

from __future__ import annotations

import torch
from torch import Tensor

from gan_zoo.losses.regularizers import REGULARIZERS, Regularizer


@REGULARIZERS.register("gradient_penalty")
class GradientPenalty(Regularizer):
    """Gulrajani et al. 2017, Eq. (3) and Algorithm 1, with ProGAN's target γ (Karras et al. 2018,
    Appendix A, and their code's ``D_wgangp_acgan``):

        λ E_x̂[(‖∇_x̂ D(x̂)‖₂ − γ)²] / γ²,   x̂ = ε x + (1 − ε) x̃,   ε ~ U[0, 1] drawn once per sample

    The norm is over all of a sample's pixels; λ = 10 (§4). Conditional critics see the real labels.
    With γ = 1 this is WGAN-GP's penalty. Dividing by γ² is what keeps λ meaningful for other
    targets: ProGAN's code adds ``square(norms - wgan_target) * (wgan_lambda / wgan_target**2)``,
    and without the division γ = 750 would weigh the penalty 750² ≈ 5.6·10⁵ times more. The value
    logged as ``gp`` is the normalized one, E[(‖∇‖ − γ)²] / γ².

    Args:
        weight: λ.
        target: γ, the gradient norm the penalty pulls towards (1 for a 1-Lipschitz critic; ProGAN
            uses γ = 750, Appendix A).
        interval: lazy regularization interval.
    """

    name = "gp"
    network = "discriminator"

    def __init__(self, weight: float = 10.0, target: float = 1.0, interval: int = 1) -> None:
        super().__init__(weight, interval)
        if target <= 0:
            raise ValueError(f"target (γ, the gradient norm to pull towards) must be > 0, got {target}")
        self.target = target

    def penalty(self, module, step) -> Tensor:
        real, fake = step.real.detach(), step.fake.detach()
        epsilon = torch.rand((real.shape[0],) + (1,) * (real.ndim - 1), device=real.device, dtype=real.dtype)
        interpolates = (epsilon * real + (1.0 - epsilon) * fake).requires_grad_(True)
        scores = module.discriminate(interpolates, step.real_labels)
        (gradients,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
        return ((self.gradient_norms(gradients) - self.target) / self.target).square().mean()

    def gradient_norms(self, gradients: Tensor) -> Tensor:
        """‖∇_x̂ D(x̂)‖₂ of each sample ``[N]``, over all of its pixels."""
        return gradients.flatten(1).norm(2, dim=1)


@REGULARIZERS.register("pixel_gradient_penalty")
class PixelGradientPenalty(GradientPenalty):
    """The gradient penalty as SinGAN's code computes it (Shaham et al. 2019, ``calc_gradient_penalty``):
    the norm is taken over the channels of each pixel and the penalty averaged over pixels,

        λ E_x̂ mean_{h,w} (‖∇_x̂ D(x̂)[:, h, w]‖₂ − 1)²,    λ = 0.1 (the code's ``lambda_grad``).

    For a patch critic whose scores are summed, a per-sample norm would pull the whole image's
    gradient to 1, i.e. each pixel's towards 1/√(HW); this keeps the constraint local, like the patches.
    Another ``target`` γ is divided out as in :class:`GradientPenalty`.
    """

    name = "gp"

    def __init__(self, weight: float = 0.1, target: float = 1.0, interval: int = 1) -> None:
        super().__init__(weight, target, interval)

    def gradient_norms(self, gradients: Tensor) -> Tensor:
        return gradients.norm(2, dim=1)  # [N, H, W]
