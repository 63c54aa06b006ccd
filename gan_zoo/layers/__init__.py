"""Building blocks shared across model families."""

from gan_zoo.layers.init import init_normal_, init_uniform_
from gan_zoo.layers.maxout import Maxout
from gan_zoo.layers.text_encoders import (
    TEXT_ENCODERS,
    CharCNNEncoder,
    SentenceTransformerEncoder,
    TextEncoder,
)

__all__ = [
    "TEXT_ENCODERS",
    "CharCNNEncoder",
    "Maxout",
    "SentenceTransformerEncoder",
    "TextEncoder",
    "init_normal_",
    "init_uniform_",
]
