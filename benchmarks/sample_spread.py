"""How spread out a checkpoint's samples are, beside the real test images: what a low recall is made of.

    python benchmarks/sample_spread.py runs/scoreboard/*/runs/checkpoints/last.ckpt
    python benchmarks/sample_spread.py runs/scoreboard/CGAN/runs/checkpoints/last.ckpt --dropout-on

Improved recall (Kynkäänniemi et al. 2019) counts the real images inside balls around the samples, each
ball reaching its sample's 3rd nearest other sample. Samples that crowd together have small balls and
cover little, however good each one looks. Per checkpoint, in the ``fashion_mnist`` classifier's features
of ``--num-samples`` samples (the scoreboard's evaluator): the median 3-NN radius of the samples over that
of the 10 000 real test images (1: as spread as the data), the share of samples whose nearest other sample
is closer than a tenth of the real median nearest-neighbour distance (near-copies), and the share of
classes the classifier gives the samples (10: every class present).

``--dropout-on`` samples with G's dropout layers active, as they are in training: for a G that learned to
vary its output through dropout rather than through z (the CGAN paper puts dropout in G).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion_scores import REAL_SPLIT, Resized

from gan_zoo import load_model
from gan_zoo.data import FashionMNIST
from gan_zoo.metrics import build_feature_extractor
from gan_zoo.metrics.manifold import knn_radii
from gan_zoo.metrics.streams import generated_batches

K = 3


class DropoutOn(nn.Module):
    """``model.sample`` with the dropout layers of its generator in training mode."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model, self.conditional, self.num_classes = model, model.conditional, model.num_classes

    @property
    def device(self) -> torch.device:
        return self.model.device

    @torch.no_grad()
    def sample(self, n: int, y: Tensor | None = None, *, generator: torch.Generator | None = None) -> Tensor:
        network = self.model.generator.eval()
        for module in network.modules():
            if isinstance(module, nn.Dropout):
                module.train()
        z = self.model.sample_latent(n, generator=generator)
        y = self.model.labels_for(n, y, generator)
        return (network(z, y) if self.conditional else network(z)).float().clamp(-1.0, 1.0)


def features(extractor, images: Tensor) -> tuple[Tensor, Tensor]:
    parts = [extractor.extract(chunk) for chunk in images.split(500)]
    return torch.cat([f for f, _ in parts]).double(), torch.cat([logits for _, logits in parts])


def spread(sample_features: Tensor, classes: Tensor, real_radius: float, real_nearest: float) -> dict:
    nearest = knn_radii(sample_features, 1)  # each sample's nearest other sample
    return {
        "radius_ratio": knn_radii(sample_features, K).median().item() / real_radius,
        "near_copies": (nearest < 0.1 * real_nearest).double().mean().item(),
        "classes": int(classes.argmax(1).unique().numel()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--dropout-on", action="store_true", help="also sample with G's dropout active")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    extractor = build_feature_extractor("fashion_mnist")
    data = FashionMNIST(image_size=32)
    real, real_classes = features(extractor, data.make_dataset(REAL_SPLIT).images)
    real_radius = knn_radii(real, K).median().item()
    real_nearest = knn_radii(real, 1).median().item()
    print(f"real test images: {spread(real, real_classes, real_radius, real_nearest)}")
    for path in args.checkpoints:
        model = load_model(path)
        variants = {"eval": model} | ({"dropout on": DropoutOn(model)} if args.dropout_on else {})
        for name, sampler in variants.items():
            images = torch.cat([b for b, _ in generated_batches(Resized(sampler), args.num_samples, 500)])
            result = spread(*features(extractor, images), real_radius, real_nearest)
            print(f"{path} ({type(model).__name__}, {name}): {result}", flush=True)


if __name__ == "__main__":
    main()
