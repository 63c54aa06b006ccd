"""The one evaluator of the scoreboard and the DCGAN reference comparison.

FID, KID, Inception Score (the classifier's logits) and improved precision/recall (Kynkäänniemi et al.
2019, k = 3) of ``num_samples`` generated images against the 10 000 images of the real Fashion-MNIST test
split at 32×32, all in the feature space of the ``fashion_mnist`` domain classifier that ships with
gan_zoo (128-d features, offline). Samples of another size are resized to 32×32 (bilinear, antialiased,
as the data modules resize real images) before they are scored.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.data import FashionMNIST
from gan_zoo.metrics import SAMPLE_METRICS, RealFeatureCache, build_feature_extractor, evaluate_model

#: What every row is scored with, in this order.
METRICS = ("fid", "kid", "is", "precision_recall")
IMAGE_SIZE = 32
REAL_SPLIT = "test"


class Resized(nn.Module):
    """``sample(n, y, generator=...)`` of ``model`` at ``size × size`` (gray): what the evaluator reads.

    Args:
        model: anything with ``sample(n, y=None, *, generator=None)`` returning ``[n, C, H, W]`` in
            [-1, 1] and a ``device``.
        size: the side the evaluator needs.
    """

    conditional = False
    num_classes = None

    def __init__(self, model: nn.Module, size: int = IMAGE_SIZE) -> None:
        super().__init__()
        self.model, self.size = model, size

    @property
    def device(self) -> torch.device:
        return self.model.device

    @torch.no_grad()
    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        images = self.model.sample(n, y, generator=generator)
        if images.shape[1] == 3:  # ITU-R 601 luma, as the classifier reads RGB images
            images = (
                images * torch.tensor([0.299, 0.587, 0.114], device=images.device).view(1, 3, 1, 1)
            ).sum(1, keepdim=True)
        if images.shape[-1] != self.size or images.shape[-2] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", antialias=True)
        return images.clamp(-1.0, 1.0)


class TrainingImages(nn.Module):
    """Real training images in place of a generator's samples: what the evaluator gives data itself.

    ``sample(n)`` returns the next ``n`` images of a seeded permutation of the 60 000 training images
    (at 32×32, resized as the data module resizes them, in [-1, 1]), so no image is drawn twice.
    """

    conditional = False
    num_classes = None

    def __init__(self, data_dir: str = "data", seed: int = 0) -> None:
        super().__init__()
        data = FashionMNIST(data_dir=data_dir, image_size=IMAGE_SIZE)
        images = data.make_dataset("train").images
        self.images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))]
        self.next = 0

    @property
    def device(self) -> torch.device:
        return self.images.device

    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        if self.next + n > len(self.images):
            raise ValueError(f"only {len(self.images)} training images; asked for {self.next + n}")
        batch = self.images[self.next : self.next + n]
        self.next += n
        return batch.float() / 127.5 - 1.0


def score(
    model: nn.Module,
    num_samples: int = 10_000,
    *,
    batch_size: int = 250,
    seed: int = 0,
    kid_subset_size: int = 1000,
    data_dir: str = "data",
) -> dict[str, float]:
    """``{"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall"}`` of ``model``'s
    samples (see the module docstring). Real features are cached (``~/.cache/gan_zoo``)."""
    extractor = build_feature_extractor("fashion_mnist")
    data = FashionMNIST(data_dir=data_dir, image_size=IMAGE_SIZE, batch_size=batch_size)
    builders = dict(SAMPLE_METRICS)
    metrics = [
        builders[name](extractor, subset_size=kid_subset_size) if name == "kid" else builders[name](extractor)
        for name in METRICS
    ]
    return evaluate_model(
        Resized(model),
        data,
        metrics,
        extractor,
        num_samples=num_samples,
        real_split=REAL_SPLIT,
        batch_size=min(batch_size, num_samples),
        seed=seed,
        cache=RealFeatureCache(),
    )
