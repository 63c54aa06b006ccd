"""Discriminability (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier
GANs", §4.1): how often a classifier trained on real data recognises the class a conditional generator
was asked for — overall and per class. For reference, the same classifier's accuracy on real test
images is recorded beside its weights (``ClassifierFeatures.record["test_accuracy"]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytorch_lightning as pl
import torch
from torchmetrics.classification import MulticlassAccuracy

from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.streams import generated_batches


@dataclass
class Discriminability:
    """Accuracy of the classifier on generated samples.

    Attributes:
        overall: fraction of all samples classified as their requested class.
        per_class: the same within each requested class, ``[num_classes]``.
        samples_per_class: samples generated for each class.
    """

    overall: float
    per_class: list[float]
    samples_per_class: int


def check_conditional(model: pl.LightningModule, analysis: str) -> int:
    """``model.num_classes`` of a class-conditional model; a clear error for any other model."""
    if not getattr(model, "conditional", False):
        raise ValueError(
            f"{analysis} needs a class-conditional model; {type(model).__name__} is unconditional"
        )
    return int(model.num_classes)


def discriminability(
    model: pl.LightningModule,
    classifier: FeatureExtractor,
    samples_per_class: int = 1000,
    *,
    batch_size: int = 250,
    seed: int = 0,
    show_progress: bool = False,
) -> Discriminability:
    """Generate ``samples_per_class`` images of every class and classify them (``argmax`` of the logits).

    Args:
        model: a class-conditional model with ``sample(n, y, generator=...)`` and ``num_classes``.
        classifier: a domain classifier of the same classes, e.g. ``build_feature_extractor("digits")``.
        samples_per_class: images per class.
        batch_size: images per generation batch.
        seed: selects the latents.
    """
    num_classes = check_conditional(model, "discriminability")
    if classifier.num_logits != num_classes:
        raise ValueError(
            f"classifier '{classifier.name}' knows {classifier.num_logits} classes, the model {num_classes}"
        )
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    per_class = MulticlassAccuracy(num_classes, average=None).to(model.device)
    overall = MulticlassAccuracy(num_classes, average="micro").to(model.device)
    classifier.to(model.device)
    batches = generated_batches(
        model, len(labels), batch_size, seed, labels=labels, show_progress=show_progress
    )
    for images, y in batches:
        predicted = classifier.extract(images)[1].argmax(dim=1)
        per_class.update(predicted, y.to(predicted.device))
        overall.update(predicted, y.to(predicted.device))
    return Discriminability(float(overall.compute()), per_class.compute().tolist(), samples_per_class)
