"""The shared training machinery: the adversarial schedule, EMA, latent sampling and data-parallel
training."""

from gan_zoo.core.adversarial import AdversarialModule
from gan_zoo.core.distributed import AdversarialDDPStrategy
from gan_zoo.core.ema import ExponentialMovingAverage
from gan_zoo.core.latent import truncated_normal

__all__ = [
    "AdversarialDDPStrategy",
    "AdversarialModule",
    "ExponentialMovingAverage",
    "truncated_normal",
]
