"""On-disk cache of real-image features, keyed by (dataset, split, resolution, feature extractor).

Real statistics do not change between runs, and on a CPU they are the expensive half of an FID
(60 000 training images through Inception-v3 take about an hour). The cache stores the features of a
split once (one ``.pt`` file per key, so one pass serves FID, KID and MiFID) and every later
evaluation of the same key reads them back.

The key holds everything the features depend on:

* the dataset: data module class, split, number of images and a content hash of up to 64 images
  spread over the split (a different ``val_split`` or seed changes it);
* the resolution: ``(C, H, W)`` of the images;
* the feature extractor: its name and fingerprint (a hash of its weights and settings such as the
  Inception resize mode).

The file name is derived from a hash of the whole key, so a changed key misses and recomputes; the key
is also stored inside the file and checked on reading. Entries are never deleted: remove the directory
to reclaim space. Location: ``cache_dir``, else ``$GAN_ZOO_CACHE_DIR``, else
``$XDG_CACHE_HOME/gan_zoo/real_features`` (``~/.cache/gan_zoo/real_features``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

FORMAT_VERSION = 1
CACHE_ENV = "GAN_ZOO_CACHE_DIR"


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gan_zoo" / "real_features"


def cache_key(
    dataset: str,
    split: str,
    resolution: tuple[int, int, int],
    num_images: int,
    content: str,
    extractor: str,
    extractor_fingerprint: str,
) -> dict[str, Any]:
    """The key of one cache entry; equal keys mean equal features."""
    return {
        "format": FORMAT_VERSION,
        "dataset": dataset,
        "split": split,
        "resolution": list(resolution),
        "num_images": num_images,
        "content": content,
        "extractor": extractor,
        "extractor_fingerprint": extractor_fingerprint,
    }


class RealFeatureCache:
    """Real-image features ``[N, D]`` on disk, one file per :func:`cache_key`.

    Args:
        directory: where the files go (default: :func:`default_cache_dir`).
    """

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()

    def path(self, key: dict[str, Any]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        dataset = key["dataset"].rsplit(".", 1)[-1].lower()
        c, h, w = key["resolution"]
        return self.directory / f"{dataset}-{key['split']}-{c}x{h}x{w}-{key['extractor']}-{digest}.pt"

    def load(self, key: dict[str, Any]) -> Tensor | None:
        """The cached features for ``key``, or ``None`` (missing, unreadable, or stored under another key)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a truncated or foreign file: recompute and replace it
            return None
        return entry["features"] if entry.get("key") == key else None

    def save(self, key: dict[str, Any], features: Tensor) -> Path:
        """Write atomically (a temporary file renamed into place), so readers never see half a file."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        torch.save({"key": key, "features": features.detach().cpu().contiguous()}, temporary)
        temporary.replace(path)
        return path
