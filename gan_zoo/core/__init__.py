"""The shared training machinery: the adversarial schedule, EMA and latent sampling."""

from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.ema import ExponentialMovingAverage
from gan_zoo.core.growth import GrowthSchedule, GrowthState
from gan_zoo.core.latent import truncated_normal

__all__ = [
    "AdversarialModule",
    "ExponentialMovingAverage",
    "GrowthSchedule",
    "GrowthState",
    "truncated_normal",
]
