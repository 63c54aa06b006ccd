"""Discriminability (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier
GANs", §4.1): how often a classifier trained on real data recognises the class a conditional generator
was asked for — overall and per class. For reference, the same classifier's accuracy on real test
images is recorded beside its weights (``ClassifierFeatures.record["test_accuracy"]``).

A text-to-image model is asked with captions rather than labels: :func:`caption_discriminability`
generates one image per caption and checks it against the class the caption names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytorch_lightning as pl
import torch
from torch import Tensor
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
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    overall, per_class = _accuracy(model, classifier, labels, labels, batch_size, seed, show_progress)
    return Discriminability(overall, per_class, samples_per_class)


def caption_discriminability(
    model: pl.LightningModule,
    classifier: FeatureExtractor,
    captions: Sequence[str],
    classes: Tensor,
    *,
    batch_size: int = 250,
    seed: int = 0,
    show_progress: bool = False,
) -> Discriminability:
    """One image per caption, each classified and compared with the class its caption names.

    Args:
        model: a text-conditioned model with ``sample(n, y=list of captions, generator=...)``, such as
            :class:`~gan_zoo.models.TextToImageGAN`.
        classifier: a domain classifier of the dataset the captions describe (``"fashion_mnist"``).
        captions: the captions ``[N]``.
        classes: the class each caption names, ``[N]`` (long).
        batch_size: images per generation batch.
        seed: selects the latents.

    Returns:
        The accuracies; ``samples_per_class`` is the fewest captions naming any one class.
    """
    if len(captions) != len(classes):
        raise ValueError(f"{len(captions)} captions but {len(classes)} classes; give one class per caption")
    overall, per_class = _accuracy(
        model, classifier, list(captions), classes, batch_size, seed, show_progress
    )
    counts = torch.bincount(classes, minlength=classifier.num_logits)
    return Discriminability(overall, per_class, int(counts.min()))


def _accuracy(
    model: pl.LightningModule,
    classifier: FeatureExtractor,
    conditions: Tensor | list[str],
    classes: Tensor,
    batch_size: int,
    seed: int,
    show_progress: bool,
) -> tuple[float, list[float]]:
    """Overall and per-class accuracy of ``classifier`` on images generated for ``conditions`` (labels
    or captions, one per image) against ``classes`` ``[N]``."""
    num_classes = classifier.num_logits
    model_classes = getattr(model, "num_classes", None)
    if model_classes is not None and model_classes != num_classes:
        raise ValueError(
            f"classifier '{classifier.name}' knows {num_classes} classes, the model {model_classes}"
        )
    per_class = MulticlassAccuracy(num_classes, average=None).to(model.device)
    overall = MulticlassAccuracy(num_classes, average="micro").to(model.device)
    classifier.to(model.device)
    # The stream hands each process its share of the positions; the position gives the class wanted.
    positions = torch.arange(len(classes))
    batches = generated_batches(
        _ByPosition(model, conditions), len(classes), batch_size, seed, labels=positions,
        show_progress=show_progress,
    )  # fmt: skip
    for images, position in batches:
        predicted = classifier.extract(images)[1].argmax(dim=1)
        wanted = classes[position].to(predicted.device)
        per_class.update(predicted, wanted)
        overall.update(predicted, wanted)
    return float(overall.compute()), per_class.compute().tolist()


class _ByPosition:
    """``model`` asked by position in ``conditions`` (labels or captions) instead of by condition."""

    def __init__(self, model: pl.LightningModule, conditions: Tensor | list[str]) -> None:
        self.model, self.conditions = model, conditions

    def sample(self, n: int, y: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        if torch.is_tensor(self.conditions):
            asked: Tensor | list[str] = self.conditions[y]
        else:
            asked = [self.conditions[i] for i in y.tolist()]
        return self.model.sample(n, asked, generator=generator)
