"""Building blocks shared across model families."""

from gan_zoo.layers.init import init_normal_, init_uniform_
from gan_zoo.layers.maxout import Maxout

__all__ = ["Maxout", "init_normal_", "init_uniform_"]
