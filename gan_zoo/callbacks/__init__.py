"""Callbacks: they rely only on ``pl_module.sample`` and the data module."""

from gan_zoo.callbacks.atomic_checkpoint import AtomicModelCheckpoint
from gan_zoo.callbacks.divergence_guard import DivergenceError, DivergenceGuard
from gan_zoo.callbacks.model_summary import ModelSummary
from gan_zoo.callbacks.preemption import Preempted, PreemptionCheckpoint
from gan_zoo.callbacks.random_state import RandomState
from gan_zoo.callbacks.sample_grid import SampleGrid
from gan_zoo.callbacks.sample_metrics import (
    FID,
    KID,
    InceptionScore,
    MiFID,
    PrecisionRecall,
    SampleMetricCallback,
)

__all__ = [
    "FID",
    "KID",
    "AtomicModelCheckpoint",
    "DivergenceError",
    "DivergenceGuard",
    "InceptionScore",
    "MiFID",
    "ModelSummary",
    "PrecisionRecall",
    "Preempted",
    "PreemptionCheckpoint",
    "RandomState",
    "SampleGrid",
    "SampleMetricCallback",
]
