"""Discriminability (Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier
GANs", §4.1): how often a classifier trained on real data recognises the class a conditional generator
was asked for — overall and per class. For reference, the same classifier's accuracy on real test
images is recorded beside its weights (``ClassifierFeatures.record["test_accuracy"]``).

A text-to-image model is asked with captions rather than labels: :func:`caption_discriminability`
generates one image per caption and checks it against the class the caption names.

Discriminability against resolution (§4.1, Figure 2): :func:`discriminability_by_resolution` resizes
the same samples down to lower resolutions and back up before classifying them, and
:func:`real_accuracy_by_resolution` does the same to real images, the curve's reference. If a model's
samples lose accuracy as their resolution drops, its full resolution carries class information.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import Subset
from torchmetrics.classification import MulticlassAccuracy

from gan_zoo.data.transforms import resize_uint8
from gan_zoo.metrics.features import FeatureExtractor
from gan_zoo.metrics.streams import as_uint8, generated_batches, quiet_loader, split_dataset


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
    [(overall, per_class)] = _accuracy(model, classifier, labels, labels, batch_size, seed, show_progress)
    return Discriminability(overall, per_class, samples_per_class)


def resize_down_up(images: Tensor, size: int) -> Tensor:
    """uint8 ``[N, C, H, W]`` resized to ``size × size`` and back to ``H × W``: the artificially lowered
    resolution of §4.1 ("resizing them down … and then bilinearly resizing back up").

    Both resizes are antialiased bilinear (the data modules' filter) and the small image is rounded to
    uint8, as a real low-resolution image would be. ``size == H`` returns the images unchanged.
    """
    return resize_uint8(resize_uint8(images, size), images.shape[-1])


def discriminability_by_resolution(
    model: pl.LightningModule,
    classifier: FeatureExtractor,
    sizes: Sequence[int],
    samples_per_class: int = 1000,
    *,
    batch_size: int = 250,
    seed: int = 0,
    show_progress: bool = False,
) -> list[Discriminability]:
    """:func:`discriminability` of the same samples at each of ``sizes`` (see :func:`resize_down_up`).

    The samples are generated once; each resolution sees the same images. Returns one result per size.
    """
    num_classes = check_conditional(model, "discriminability")
    labels = torch.arange(num_classes).repeat_interleave(samples_per_class)
    views = [partial(resize_down_up, size=size) for size in sizes]
    results = _accuracy(model, classifier, labels, labels, batch_size, seed, show_progress, views)
    return [Discriminability(overall, per_class, samples_per_class) for overall, per_class in results]


def real_accuracy_by_resolution(
    datamodule: pl.LightningDataModule,
    classifier: FeatureExtractor,
    sizes: Sequence[int],
    *,
    split: str = "test",
    num_images: int | None = None,
    batch_size: int = 250,
    device: torch.device | str = "cpu",
) -> list[Discriminability]:
    """The classifier's accuracy on the first ``num_images`` (default: all) real images of ``split`` at
    each of ``sizes``; ``samples_per_class`` is the fewest images of any class."""
    dataset, collate_fn = split_dataset(datamodule, split)
    n = len(dataset) if num_images is None else min(num_images, len(dataset))
    batches = [
        (as_uint8(images), labels)
        for images, labels in quiet_loader(Subset(dataset, range(n)), batch_size, collate_fn)
    ]
    counts = torch.bincount(torch.cat([labels for _, labels in batches]), minlength=classifier.num_logits)
    views = [partial(resize_down_up, size=size) for size in sizes]
    results = view_accuracies(classifier, batches, views, device)
    return [Discriminability(overall, per_class, int(counts.min())) for overall, per_class in results]


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
    [(overall, per_class)] = _accuracy(
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
    views: Sequence[Callable[[Tensor], Tensor]] | None = None,
) -> list[tuple[float, list[float]]]:
    """Overall and per-class accuracy of ``classifier`` on images generated for ``conditions`` (labels
    or captions, one per image) against ``classes`` ``[N]``: one pair for each of ``views`` (uint8
    images → uint8 images; default: the images as generated) of the same images."""
    num_classes = classifier.num_logits
    model_classes = getattr(model, "num_classes", None)
    if model_classes is not None and model_classes != num_classes:
        raise ValueError(
            f"classifier '{classifier.name}' knows {num_classes} classes, the model {model_classes}"
        )
    # The stream hands each process its share of the positions; the position gives the class wanted.
    positions = torch.arange(len(classes))
    batches = generated_batches(
        _ByPosition(model, conditions), len(classes), batch_size, seed, labels=positions,
        show_progress=show_progress,
    )  # fmt: skip
    labelled = ((images, classes[position]) for images, position in batches)
    return view_accuracies(classifier, labelled, views or [_unchanged], model.device)


def view_accuracies(
    classifier: FeatureExtractor,
    batches: Iterable[tuple[Tensor, Tensor]],
    views: Sequence[Callable[[Tensor], Tensor]],
    device: torch.device | str = "cpu",
) -> list[tuple[float, list[float]]]:
    """Overall and per-class accuracy of ``classifier`` on each view of labelled uint8 batches.

    Args:
        classifier: a domain classifier.
        batches: ``(uint8 images [B, C, H, W], classes [B])``.
        views: functions of a uint8 batch (e.g. a resize down and back up); one result per view.
        device: where the classifier runs.
    """
    num_classes = classifier.num_logits
    classifier.to(device)
    per_class = [MulticlassAccuracy(num_classes, average=None).to(device) for _ in views]
    overall = [MulticlassAccuracy(num_classes, average="micro").to(device) for _ in views]
    for images, wanted in batches:
        wanted = wanted.to(device)
        for view, one_class, every_class in zip(views, per_class, overall, strict=True):
            predicted = classifier.extract(view(images).to(device))[1].argmax(dim=1)
            one_class.update(predicted, wanted)
            every_class.update(predicted, wanted)
    return [(float(o.compute()), p.compute().tolist()) for o, p in zip(overall, per_class, strict=True)]


def _unchanged(images: Tensor) -> Tensor:
    return images


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
