"""The shared training machinery: the adversarial schedule, EMA, latent sampling, optimizers,
data-parallel training and latent-space walks."""

from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.distributed import AdversarialDDPStrategy
from gan_zoo.core.ema import ExponentialMovingAverage, recalibrate_batch_norm
from gan_zoo.core.growth import GrowthSchedule, GrowthState
from gan_zoo.core.latent import draw_latent, truncated_normal
from gan_zoo.core.latent_space import interpolate, latent_arithmetic
from gan_zoo.core.optimizers import optimizer, scheduler

__all__ = [
    "AdversarialDDPStrategy",
    "AdversarialModule",
    "ExponentialMovingAverage",
    "GrowthSchedule",
    "GrowthState",
    "draw_latent",
    "interpolate",
    "latent_arithmetic",
    "optimizer",
    "recalibrate_batch_norm",
    "scheduler",
    "truncated_normal",
]
