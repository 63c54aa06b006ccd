"""Walking the latent space (Radford et al. 2016, §6.1) and latent vector arithmetic (§6.3.2)."""

from __future__ import annotations

import torch
from torch import Tensor


def interpolate(start: Tensor, end: Tensor, steps: int, *, spherical: bool = False) -> Tensor:
    """``steps`` points from ``start`` to ``end`` (both included), ``[..., d]`` → ``[steps, ..., d]``.

    Linear by default, as in DCGAN's Figure 4. ``spherical=True`` follows the great circle instead
    (slerp, White 2016, "Sampling Generative Networks"): for a Gaussian prior the midpoint of a linear
    path has an atypically small norm, the spherical path keeps it.

        lerp(t) = (1 − t)·a + t·b
        slerp(t) = sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b,   cos Ω = â·b̂
    """
    if steps < 2:
        raise ValueError(f"an interpolation needs steps >= 2, got {steps}")
    if start.shape != end.shape:
        raise ValueError(f"start and end differ in shape: {tuple(start.shape)} vs {tuple(end.shape)}")
    t = torch.linspace(0.0, 1.0, steps, dtype=start.dtype, device=start.device)
    t = t.view(steps, *([1] * start.ndim))  # [steps, 1, ..., 1]
    if not spherical:
        return torch.lerp(start.unsqueeze(0), end.unsqueeze(0), t)
    cos = torch.nn.functional.cosine_similarity(start, end, dim=-1).clamp(-1.0, 1.0).unsqueeze(-1)
    omega = torch.acos(cos)  # [..., 1]
    sin = torch.sin(omega)
    parallel = sin.abs() < 1e-6  # (anti)parallel endpoints: the great circle is undefined, use lerp
    safe_sin = torch.where(parallel, torch.ones_like(sin), sin)
    a = torch.where(parallel, 1.0 - t, torch.sin((1.0 - t) * omega) / safe_sin)
    b = torch.where(parallel, t, torch.sin(t * omega) / safe_sin)
    return a * start.unsqueeze(0) + b * end.unsqueeze(0)


def latent_arithmetic(
    a: Tensor,
    b: Tensor,
    c: Tensor,
    *,
    variations: int = 0,
    noise: float = 0.25,
    generator: torch.Generator | None = None,
) -> Tensor:
    """DCGAN's face arithmetic (§6.3.2, Figure 7): Y = mean(A) − mean(B) + mean(C).

    "smiling woman" − "neutral woman" + "neutral man" ≈ "smiling man": each concept is the mean
    latent of a few samples showing it (the paper averages three), which is far more stable than
    single latents.

    Args:
        a, b, c: latents of each set, ``[n_a, d]``, ``[n_b, d]``, ``[n_c, d]``.
        variations: also return this many copies of Y with uniform noise in [−noise, noise] added
            (the paper's 8 neighbours with noise ±0.25).
        noise: the scale of that noise.
        generator: a ``torch.Generator`` for reproducible noise.

    Returns:
        ``[1 + variations, d]``: Y first, then its noisy neighbours; feed to ``model.sample(z=...)``.
    """
    for name, z in (("a", a), ("b", b), ("c", c)):
        if z.ndim != 2 or z.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty [n, latent_dim] batch, got {tuple(z.shape)}")
    if not a.shape[1] == b.shape[1] == c.shape[1]:
        raise ValueError(f"latent sizes differ: {a.shape[1]}, {b.shape[1]}, {c.shape[1]}")
    y = a.mean(0) - b.mean(0) + c.mean(0)  # [d]
    device = generator.device if generator is not None else y.device
    jitter = torch.rand((variations, y.shape[0]), generator=generator, device=device).to(y)
    return torch.cat([y.unsqueeze(0), y + (2.0 * jitter - 1.0) * noise])
