"""Inception-v3 of the FID reference implementation, through torchmetrics / torch-fidelity, usable offline.

The network is torch-fidelity's port of the TensorFlow graph behind the original FID code (Heusel et al.
2017, TTUR repository) — the one published FIDs are computed with — run by torchmetrics'
``NoTrainInceptionV3``. Features: the 2048-d pool3 activations (FID, KID, MiFID); logits: the
1008 ``logits_unbiased`` (Inception Score, as torch-fidelity and torchmetrics compute it).

**Weights.** Looked for, in order: ``weights_path``; the file named by ``$GAN_ZOO_INCEPTION_WEIGHTS``;
torch.hub's cache (``$TORCH_HOME/hub/checkpoints/``, where torch-fidelity and torchmetrics keep it);
otherwise downloaded once into that cache. Without a network and without the file, a
:class:`InceptionWeightsNotFoundError` says where to get it and where to put it.

**Resizing to 299×299** (``antialias``). ``False`` (default) resizes like TensorFlow 1's
``resize_bilinear`` (torch-fidelity's ``interpolate_bilinear_2d_like_tensorflow1x``): what the TTUR
reference code and torch-fidelity do, so numbers are comparable with published FIDs. ``True`` uses
PyTorch's antialiased bilinear filter, torchmetrics' default and closer in spirit to clean-fid
(Parmar et al. 2022); its FIDs differ from the reference ones and must not be compared with them.
Small images are *up*sampled, where antialiasing changes nothing, but the two resamplers still place
their sample points differently (TF1 has no half-pixel offset), so the setting matters at every size.
Gray images are repeated to three channels.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3
from torchmetrics.image.fid import NoTrainInceptionV3

from gan_zoo.errors import GanZooError
from gan_zoo.metrics.features import FeatureExtractor, check_images

WEIGHTS_ENV = "GAN_ZOO_INCEPTION_WEIGHTS"
WEIGHTS_URL = URL_INCEPTION_V3
WEIGHTS_FILE = WEIGHTS_URL.rsplit("/", 1)[-1]


class InceptionWeightsNotFoundError(GanZooError, FileNotFoundError):
    """The Inception-v3 weights are neither on disk nor downloadable (its message says what to do)."""


def hub_weights_path() -> Path:
    """Where torch.hub (and so torch-fidelity / torchmetrics) caches the weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def resolve_weights(weights_path: str | os.PathLike | None = None) -> Path:
    """The local weights file: ``weights_path``, ``$GAN_ZOO_INCEPTION_WEIGHTS``, torch.hub's cache, or a
    fresh download into that cache."""
    for given, source in ((weights_path, "weights_path"), (os.environ.get(WEIGHTS_ENV), f"${WEIGHTS_ENV}")):
        if given:
            if not Path(given).is_file():
                raise InceptionWeightsNotFoundError(
                    f"Inception-v3 weights file {given} (from {source}) does not exist."
                )
            return Path(given)
    cached = hub_weights_path()
    if not cached.is_file():
        made = [d for d in (cached.parent, *cached.parent.parents) if not d.exists()]
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(WEIGHTS_URL, str(cached), progress=True)
        except Exception as error:  # no network, proxy, DNS, permissions: all end the same way
            for directory in made:  # a failed download leaves nothing behind
                if directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()
            raise InceptionWeightsNotFoundError(_offline_message(cached, error)) from error
    return cached


def _offline_message(cached: Path, error: Exception) -> str:
    return (
        f"Inception-v3 weights are not on this machine and could not be downloaded ({type(error).__name__}: "
        f"{error}). FID, KID, IS and MiFID with feature_extractor='inception' need the FID Inception "
        f"weights of the TensorFlow reference code as converted by torch-fidelity, {WEIGHTS_FILE} (about "
        f"95 MB): fetch {WEIGHTS_URL} on a machine with internet access, then either put it at {cached} "
        f"(torch.hub's cache, also used by torch-fidelity and torchmetrics), or keep it anywhere and set "
        f"{WEIGHTS_ENV}=/path/to/{WEIGHTS_FILE} or pass weights_path (gan-zoo evaluate: "
        "--inception_weights). "
        "Offline, the domain classifiers need no download: feature_extractor='fashion_mnist' or 'digits'."
    )


class InceptionV3(FeatureExtractor):
    """The FID Inception-v3: uint8 images of any size → pool3 features ``[N, 2048]``, logits ``[N, 1008]``.

    Args:
        weights_path: a local copy of the weights (see the module docstring for the search order).
        antialias: resize to 299×299 with PyTorch's antialiased bilinear filter instead of the
            TensorFlow-1 resampling of the reference implementation (default ``False``: comparable
            with published numbers).
    """

    name = "inception"
    num_features = 2048
    num_logits = 1008

    def __init__(self, weights_path: str | os.PathLike | None = None, antialias: bool = False) -> None:
        super().__init__()
        self.antialias = antialias
        self.net = NoTrainInceptionV3(
            name="inception-v3-compat",
            features_list=[str(self.num_features), "logits_unbiased"],
            feature_extractor_weights_path=str(resolve_weights(weights_path)),
            antialias=antialias,
        )

    def config(self) -> dict[str, Any]:
        return {"antialias": self.antialias}

    @torch.no_grad()
    def extract(self, images: Tensor) -> tuple[Tensor, Tensor]:
        check_images(images)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        # One pass for both outputs; torchmetrics' forward would return only the first.
        features, logits = self.net._torch_fidelity_forward(images)
        return features.reshape(images.shape[0], -1), logits
