"""Callbacks: they rely only on ``pl_module.sample`` and the data module."""

from gan_zoo.callbacks.sample_grid import SampleGrid

__all__ = ["SampleGrid"]
