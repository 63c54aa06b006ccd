"""The shared training machinery: the adversarial schedule, EMA, latent sampling, data-parallel
training, checkpoint loading and latent-space walks."""

from gan_zoo.checkpoints import load_model
from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.distributed import AdversarialDDPStrategy
from gan_zoo.core.ema import ExponentialMovingAverage
from gan_zoo.core.growth import GrowthSchedule, GrowthState
from gan_zoo.core.latent import truncated_normal
from gan_zoo.core.latent_space import interpolate, latent_arithmetic

__all__ = [
    "AdversarialDDPStrategy",
    "AdversarialModule",
    "ExponentialMovingAverage",
    "GrowthSchedule",
    "GrowthState",
    "interpolate",
    "latent_arithmetic",
    "load_model",
    "truncated_normal",
]
