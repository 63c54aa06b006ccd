"""The progressive-growing schedule (Karras et al. 2018, §3): which resolution, fade-in α and batch
size after a given number of real images."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

#: Appendix A.1: minibatch 16 for 4²–128², then 14, 6 and 3 (``preset-v1-1gpu`` in the authors'
#: ``config.py``).
PAPER_BATCH_SIZES: dict[int, int] = {4: 16, 8: 16, 16: 16, 32: 16, 64: 16, 128: 16, 256: 14, 512: 6, 1024: 3}


@dataclass(frozen=True)
class GrowthState:
    """Where training stands.

    Attributes:
        stage: 0 for 4×4, k for 4·2^k.
        alpha: weight of the newest stage during its fade-in, in [0, 1); 1 once it is stable.
        phase: index of the current phase (0: 4×4 stable, 1: fade-in of 8×8, 2: 8×8 stable, …).
        batch_size: real images per D step at this resolution.
    """

    stage: int
    alpha: float
    phase: int
    batch_size: int

    @property
    def resolution(self) -> int:
        return 4 * 2**self.stage

    @property
    def fading(self) -> bool:
        return self.alpha < 1.0


class GrowthSchedule:
    """§3 and Appendix A.1: train at 4×4, then for each doubling fade the new layers in over
    ``phase_images`` real images (α rising linearly from 0 to 1) and stabilize them for as many more;
    the last resolution then trains for as long as the run lasts.

        phase p = ⌊n / P⌋:  p = 0 → 4×4, α = 1;   p odd → stage (p + 1)/2, α = (n − pP)/P;
                            p even → stage p/2, α = 1

    Args:
        final_resolution: the image size (a power of two ≥ 4).
        phase_images: P, real images per fade-in and per stabilization phase (800k in the paper).
        batch_sizes: minibatch size for every resolution 4, 8, …, ``final_resolution``.
    """

    def __init__(self, final_resolution: int, phase_images: int, batch_sizes: Mapping[int, int]) -> None:
        if final_resolution < 4 or final_resolution & (final_resolution - 1):
            raise ValueError(
                f"progressive growing needs a power-of-two resolution >= 4, got {final_resolution}"
            )
        if phase_images < 1:
            raise ValueError(f"phase_images must be >= 1, got {phase_images}")
        self.last_stage = int(math.log2(final_resolution)) - 2
        self.phase_images = phase_images
        resolutions = [4 * 2**stage for stage in range(self.last_stage + 1)]
        missing = [r for r in resolutions if r not in batch_sizes]
        if missing:
            raise ValueError(
                f"batch_sizes needs an entry for every resolution {resolutions}; missing {missing}"
            )
        if any(batch_sizes[r] < 1 for r in resolutions):
            raise ValueError(f"batch sizes must be >= 1, got {dict(batch_sizes)}")
        self.batch_sizes = {r: int(batch_sizes[r]) for r in resolutions}

    def at(self, images_seen: int) -> GrowthState:
        """The state after ``images_seen`` real images."""
        phase = images_seen // self.phase_images
        if phase >= 2 * self.last_stage:  # grown: the final resolution, stable for good
            stage, alpha = self.last_stage, 1.0
        elif phase % 2:  # fading in stage (phase + 1) / 2
            stage, alpha = (phase + 1) // 2, (images_seen - phase * self.phase_images) / self.phase_images
        else:
            stage, alpha = phase // 2, 1.0
        return GrowthState(stage, alpha, min(phase, 2 * self.last_stage), self.batch_sizes[4 * 2**stage])

    @property
    def growth_images(self) -> int:
        """Real images until the final resolution is faded in and stabilized once."""
        return (2 * self.last_stage + 1) * self.phase_images
