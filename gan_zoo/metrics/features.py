"""``FeatureExtractor``: what the feature networks of the metrics share (Inception-v3, domain classifiers)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import torch
from torch import Tensor, nn


class FeatureExtractor(nn.Module):
    """uint8 images ``[N, C, H, W]`` → features ``[N, num_features]`` and class logits ``[N, num_logits]``.

    ``forward`` returns the features only, so an extractor can be handed straight to torchmetrics
    (``FrechetInceptionDistance(feature=extractor)``; torchmetrics reads :attr:`num_features`).
    :meth:`extract` returns both outputs of one pass: the features feed FID / KID / MiFID, the logits
    the Inception Score and classifier accuracy. Extractors never train: they stay in eval mode.

    Subclasses set :attr:`name`, :attr:`num_features`, :attr:`num_logits` and implement :meth:`extract`;
    :meth:`config` lists whatever besides the weights changes the output (e.g. the resize mode).
    """

    name: str
    num_features: int
    num_logits: int

    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Features ``[N, num_features]`` and logits ``[N, num_logits]`` (float32) of uint8 images."""
        raise NotImplementedError

    def forward(self, images: Tensor) -> Tensor:
        return self.extract(images)[0]

    def config(self) -> dict[str, Any]:
        """Settings other than the weights that change the output; part of :meth:`fingerprint`."""
        return {}

    def train(self, mode: bool = True) -> FeatureExtractor:
        return super().train(False)  # BatchNorm / dropout must never switch to training behaviour

    def fingerprint(self) -> str:
        """A hash of the name, :meth:`config` and every weight: equal fingerprints give equal features.

        Keys the cache of real-data features, so new weights or settings never reuse stale statistics.
        """
        if getattr(self, "_fingerprint", None) is None:
            digest = hashlib.sha256(json.dumps([self.name, self.config()], sort_keys=True).encode())
            for key, tensor in sorted(self.state_dict().items()):
                digest.update(key.encode())
                digest.update(tensor.detach().cpu().reshape(-1).view(torch.uint8).numpy().tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint


def check_images(images: Tensor) -> None:
    """Raise unless ``images`` is a uint8 batch ``[N, C, H, W]`` (what data modules yield)."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(
            f"feature extractors take uint8 images [N, C, H, W] in [0, 255], got {images.dtype} "
            f"{tuple(images.shape)}; convert generated images with gan_zoo.data.to_uint8"
        )
