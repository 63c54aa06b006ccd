"""Callbacks: they rely only on ``pl_module.sample`` and the data module."""

from gan_zoo.callbacks.sample_grid import SampleGrid
from gan_zoo.callbacks.sample_metrics import FID, KID, InceptionScore, MiFID, SampleMetricCallback

__all__ = ["FID", "KID", "InceptionScore", "MiFID", "SampleGrid", "SampleMetricCallback"]
