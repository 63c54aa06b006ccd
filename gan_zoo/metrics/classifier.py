"""Domain classifiers: small CNNs that stand in for Inception-v3 on MNIST-family data, offline on a CPU.

Inception-v3 sees ImageNet photographs at 299×299; on 32×32 gray digits or clothes it needs a 94 MB
download and ~6 GFLOPs per image. A classifier trained on the dataset itself is a feature space made
for those images (the "domain FID" of e.g. Lucic et al. 2018 §5 uses a LeNet on MNIST): its
penultimate layer gives FID / KID / MiFID features, its logits the Inception Score and the accuracy of
the AC-GAN analyses. Numbers in such a space compare runs on the same dataset; they are not comparable
with Inception FIDs.

Weights for Digits and Fashion-MNIST ship in ``gan_zoo/metrics/weights/``, each with a JSON record of
how it was trained and its accuracy on the real test split; ``experiments/evaluators/train_classifier.py``
trains them (and one for MNIST, which needs the download).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.metrics.features import FeatureExtractor, check_images

WEIGHTS_DIR = Path(__file__).parent / "weights"

#: ITU-R 601 luma, to read RGB images with a gray-image classifier.
_LUMA = (0.299, 0.587, 0.114)


class DomainClassifier(nn.Module):
    """Three conv blocks, global average pooling and a two-layer head.

    ``[N, C, S, S]`` in [-1, 1] → conv3×3(w)·BN·ReLU·pool → conv3×3(2w)·… → conv3×3(4w)·… → mean over
    space ``[N, 4w]`` → Linear·ReLU (the features, ``[N, feature_dim]``) → Linear (logits
    ``[N, num_classes]``). About 33 k parameters with the defaults; any ``S`` divisible by 8.

    Args:
        num_classes: classes of the dataset.
        channels: image channels (1 for the MNIST family).
        width: channels of the first block.
        feature_dim: size of the penultimate layer, the feature space of the metrics.
    """

    def __init__(
        self, num_classes: int = 10, channels: int = 1, width: int = 16, feature_dim: int = 128
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        c_in = channels
        for c_out in (width, 2 * width, 4 * width):
            blocks += [
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            c_in = c_out
        self.body = nn.Sequential(*blocks)
        self.hidden = nn.Sequential(nn.Linear(c_in, feature_dim), nn.ReLU(inplace=True))
        self.head = nn.Linear(feature_dim, num_classes)

    def features_and_logits(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.hidden(self.body(x).mean(dim=(2, 3)))  # [N, feature_dim]
        return features, self.head(features)  # [N, num_classes]

    def forward(self, x: Tensor) -> Tensor:
        return self.features_and_logits(x)[1]


class ClassifierFeatures(FeatureExtractor):
    """A trained :class:`DomainClassifier` as a feature extractor for uint8 images of any size.

    Images are brought to the classifier's input: RGB → gray by luma when it reads gray images, then
    antialiased bilinear resizing to ``image_size`` (the filter the data modules use, so images already
    at that size — 32×32 Fashion-MNIST, say — pass unchanged), then [0, 255] → [-1, 1].

    Args:
        classifier: the network.
        name: shown in logs and keys the real-feature cache (e.g. ``"fashion_mnist"``).
        image_size: side of the square images it was trained on.
        classes: class names, in label order.
        record: the training record written beside the weights (test accuracy, …), if known.
    """

    def __init__(
        self,
        classifier: DomainClassifier,
        name: str,
        image_size: int,
        classes: list[str],
        record: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.classifier = classifier.eval().requires_grad_(False)
        self.name = name
        self.image_size = image_size
        self.classes = list(classes)
        self.record = record or {}
        self.channels = classifier.body[0].in_channels
        self.num_features = classifier.hidden[0].out_features
        self.num_logits = classifier.head.out_features

    def config(self) -> dict[str, Any]:
        return {"image_size": self.image_size, "channels": self.channels}

    def prepare(self, images: Tensor) -> Tensor:
        """uint8 ``[N, C, H, W]`` → the classifier's input ``[N, channels, size, size]`` in [-1, 1]."""
        check_images(images)
        x = images.float()
        if x.shape[1] == 3 and self.channels == 1:
            x = (x * x.new_tensor(_LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif x.shape[1] != self.channels:
            raise ValueError(f"{self.name} classifier reads {self.channels}-channel images, got {x.shape[1]}")
        if x.shape[-2:] != (self.image_size, self.image_size):
            size = (self.image_size, self.image_size)
            x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
        return x / 127.5 - 1.0

    @torch.no_grad()
    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        return self.classifier.features_and_logits(self.prepare(images))

    @torch.no_grad()
    def predict(self, images: Tensor) -> Tensor:
        """Predicted labels ``[N]`` of uint8 images."""
        return self.extract(images)[1].argmax(dim=1)

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> None:
        """Write the weights and settings to ``path`` (a ``.pt`` file that :meth:`load` reads)."""
        torch.save(
            {
                "state_dict": self.classifier.state_dict(),
                "architecture": architecture_of(self.classifier),
                "name": self.name,
                "image_size": self.image_size,
                "classes": self.classes,
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path) -> ClassifierFeatures:
        """A classifier saved by :meth:`save`; its JSON record (``<path>.json`` stem) is read if present."""
        path = Path(path)
        saved = torch.load(path, map_location="cpu", weights_only=True)
        classifier = DomainClassifier(**saved["architecture"])
        classifier.load_state_dict(saved["state_dict"])
        record_path = path.with_suffix(".json")
        record = json.loads(record_path.read_text()) if record_path.is_file() else None
        return cls(classifier, saved["name"], saved["image_size"], saved["classes"], record)


def architecture_of(classifier: DomainClassifier) -> dict[str, int]:
    """The constructor arguments that rebuild ``classifier``."""
    return {
        "num_classes": classifier.head.out_features,
        "channels": classifier.body[0].in_channels,
        "width": classifier.body[0].out_channels,
        "feature_dim": classifier.hidden[0].out_features,
    }


def shipped_classifiers() -> list[str]:
    """Names of the classifiers whose weights ship with gan_zoo (``digits``, ``fashion_mnist``)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))


def load_shipped_classifier(name: str) -> ClassifierFeatures:
    """The shipped classifier ``name`` (see :func:`shipped_classifiers`)."""
    path = WEIGHTS_DIR / f"{name}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"no classifier named '{name}' ships with gan_zoo; have: {shipped_classifiers()}"
        )
    return ClassifierFeatures.load(path)
