"""Stand-ins for the metric tests: a random classifier, models with known samples, constructed data."""

from __future__ import annotations

from typing import ClassVar

import pytorch_lightning as pl
import torch
from torch import Tensor

from gan_zoo.data import InMemoryImageDataModule
from gan_zoo.metrics import ClassifierFeatures, DomainClassifier


def random_classifier(image_size: int = 16, seed: int = 0, name: str = "random") -> ClassifierFeatures:
    """An untrained (but fixed) domain classifier: a deterministic feature map for tests."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = DomainClassifier(num_classes=10, width=4, feature_dim=16)
        for module in network.modules():  # non-trivial running statistics for eval-mode batch norm
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_var.uniform_(0.5, 2.0)
    return ClassifierFeatures(network, name, image_size, [str(i) for i in range(10)])


class ImageBank(pl.LightningModule):
    """An unconditional "generator" that hands out the images of ``bank`` ([-1, 1]) in order."""

    conditional = False
    num_classes = None

    def __init__(self, bank: Tensor) -> None:
        super().__init__()
        self.register_buffer("bank", bank)
        self.drawn = 0

    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        images = self.bank[self.drawn : self.drawn + n]
        self.drawn += n
        return images

    def test_step(self, batch, batch_idx) -> None:
        pass


class ClassPainter(pl.LightningModule):
    """A conditional "generator" whose image of class y is ``painted[y]`` (a function of y alone) plus
    ``noise[y]`` times uniform noise."""

    conditional = True

    def __init__(self, painted: Tensor, noise: Tensor) -> None:
        super().__init__()
        self.num_classes = painted.shape[0]
        self.register_buffer("painted", painted)  # [K, C, H, W] in [-1, 1]
        self.register_buffer("noise", noise)  # [K]

    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        y = y.to(self.device)
        jitter = torch.rand((n, *self.painted.shape[1:]), generator=generator) * 2 - 1
        return (self.painted[y] + self.noise[y].view(-1, 1, 1, 1) * jitter).clamp(-1, 1)


class Constructed(InMemoryImageDataModule):
    """A data module over given uint8 images and labels (the same tensors for every split)."""

    native_shape = (1, 16, 16)
    classes: ClassVar[tuple[str, ...]] = ("a", "b")

    def __init__(self, images: Tensor, labels: Tensor, batch_size: int = 16) -> None:
        super().__init__(batch_size=batch_size)
        self.images, self.labels = images, labels

    def load_split(self, split: str) -> tuple[Tensor, Tensor]:
        return self.images, self.labels
