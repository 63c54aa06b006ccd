"""Feature extractors by name: ``inception``, a shipped domain classifier, or a classifier file."""

from __future__ import annotations

import os
from pathlib import Path

from gan_zoo.metrics.classifier import ClassifierFeatures, load_shipped_classifier, shipped_classifiers
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.inception import InceptionV3
from gan_zoo.registry import UnknownNameError


def feature_extractor_names() -> list[str]:
    return ["inception", *shipped_classifiers()]


def build_feature_extractor(
    name: str | FeatureExtractor,
    weights_path: str | os.PathLike | None = None,
    antialias: bool = False,
) -> FeatureExtractor:
    """The extractor called ``name``.

    Args:
        name: ``"inception"`` (the FID Inception-v3), the name of a shipped domain classifier
            (``"digits"``, ``"fashion_mnist"``), a ``.pt`` file written by
            ``experiments/evaluators/train_classifier.py``, or an extractor (returned as is).
        weights_path: Inception only: a local copy of its weights.
        antialias: Inception only: see :class:`~gan_zoo.metrics.inception.InceptionV3`.
    """
    if isinstance(name, FeatureExtractor):
        return name
    if name == "inception":
        return InceptionV3(weights_path, antialias=antialias)
    if weights_path is not None:
        raise ValueError(f"weights_path is for the Inception network; '{name}' carries its own weights")
    if name in shipped_classifiers():
        return load_shipped_classifier(name)
    if Path(name).suffix == ".pt":
        if not Path(name).is_file():
            raise FileNotFoundError(f"classifier file {name} does not exist")
        return ClassifierFeatures.load(name)
    raise UnknownNameError(
        f"Unknown feature extractor '{name}'. Valid names: {', '.join(feature_extractor_names())}, or a "
        "classifier file (.pt) written by experiments/evaluators/train_classifier.py."
    )
