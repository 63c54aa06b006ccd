"""Building blocks shared across model families."""

from gan_zoo.layers.features import feature_module, forward_with_features
from gan_zoo.layers.gaussian_noise import GaussianNoise
from gan_zoo.layers.init import init_normal_, init_uniform_
from gan_zoo.layers.maxout import Maxout
from gan_zoo.layers.minibatch_discrimination import MinibatchDiscrimination
from gan_zoo.layers.virtual_batch_norm import VirtualBatchNorm, reference_batch

__all__ = [
    "GaussianNoise",
    "Maxout",
    "MinibatchDiscrimination",
    "VirtualBatchNorm",
    "feature_module",
    "forward_with_features",
    "init_normal_",
    "init_uniform_",
    "reference_batch",
]
