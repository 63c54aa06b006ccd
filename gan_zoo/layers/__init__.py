"""Building blocks shared across model families."""

from gan_zoo.layers.conditional_batch_norm import ConditionalBatchNorm2d
from gan_zoo.layers.equalized import EqualizedConv2d, EqualizedLinear
from gan_zoo.layers.features import feature_module, forward_with_features
from gan_zoo.layers.gaussian_noise import GaussianNoise
from gan_zoo.layers.init import init_normal_, init_uniform_, init_weights_
from gan_zoo.layers.maxout import Maxout
from gan_zoo.layers.minibatch_discrimination import MinibatchDiscrimination
from gan_zoo.layers.minibatch_stddev import MinibatchStdDev
from gan_zoo.layers.pixel_norm import PixelNorm
from gan_zoo.layers.residual import ResidualDownBlock, ResidualUpBlock
from gan_zoo.layers.self_attention import SelfAttention2d
from gan_zoo.layers.spectral_norm import apply_spectral_norm, raw_weight
from gan_zoo.layers.text_encoders import (
    TEXT_ENCODERS,
    CharCNNEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
)
from gan_zoo.layers.virtual_batch_norm import VirtualBatchNorm, reference_batch

__all__ = [
    "TEXT_ENCODERS",
    "CharCNNEncoder",
    "ConditionalBatchNorm2d",
    "EqualizedConv2d",
    "EqualizedLinear",
    "GaussianNoise",
    "Maxout",
    "MinibatchDiscrimination",
    "MinibatchStdDev",
    "PixelNorm",
    "ResidualDownBlock",
    "ResidualUpBlock",
    "SelfAttention2d",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "VirtualBatchNorm",
    "apply_spectral_norm",
    "feature_module",
    "forward_with_features",
    "init_normal_",
    "init_uniform_",
    "init_weights_",
    "raw_weight",
    "reference_batch",
]
