"""The real-feature cache: computed once, reused, recomputed when the dataset, split, resolution or
feature extractor changes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from gan_zoo.data import Digits
from gan_zoo.metrics import RealFeatureCache, default_cache_dir, real_features

sys.path.insert(0, str(Path(__file__).parent))
from metric_helpers import random_classifier


def counting(extractor) -> list[int]:
    """Record the batch sizes the extractor sees."""
    calls: list[int] = []
    original = extractor.extract

    def extract(images):
        calls.append(images.shape[0])
        return original(images)

    extractor.extract = extract
    return calls


@pytest.fixture
def cache(tmp_path) -> RealFeatureCache:
    return RealFeatureCache(tmp_path / "cache")


def entries(cache: RealFeatureCache) -> list[str]:
    return sorted(p.name for p in cache.directory.glob("*.pt"))


def test_miss_then_hit(cache):
    extractor = random_classifier()
    calls = counting(extractor)
    first = real_features(Digits(image_size=16), "train", extractor, cache=cache, batch_size=500)
    assert sum(calls) == 1500 and first.shape == (1500, 16)
    assert len(entries(cache)) == 1 and entries(cache)[0].startswith("digits-train-1x16x16-random-")
    second = real_features(Digits(image_size=16), "train", extractor, cache=cache)
    assert sum(calls) == 1500, "a hit must not run the extractor"
    assert torch.equal(first, second)
    without = real_features(Digits(image_size=16), "train", extractor, cache=None)
    assert torch.allclose(first, without, atol=1e-5)


@pytest.mark.parametrize(
    "change",
    ["resolution", "split", "weights", "dataset content", "number of images"],
)
def test_each_part_of_the_key_invalidates(change, cache):
    extractor = random_classifier()
    real_features(Digits(image_size=16), "train", extractor, cache=cache)
    data, split, num_images = Digits(image_size=16), "train", None
    if change == "resolution":
        data = Digits(image_size=32)
    elif change == "split":
        split = "test"
    elif change == "weights":
        extractor = random_classifier()
        with torch.no_grad():
            extractor.classifier.head.weight[0, 0] += 1.0  # only the logits change; still a new key
    elif change == "dataset content":
        data = Digits(image_size=16, val_split=0.1)  # another training split
    elif change == "number of images":
        num_images = 1000
    calls = counting(extractor)
    real_features(data, split, extractor, cache=cache, num_images=num_images)
    assert sum(calls) > 0, f"a changed {change} must recompute"
    assert len(entries(cache)) == 2


def test_a_stale_or_broken_file_is_recomputed(cache):
    extractor = random_classifier()
    features = real_features(Digits(image_size=16), "test", extractor, cache=cache)
    path = cache.directory / entries(cache)[0]
    entry = torch.load(path)
    entry["key"]["content"] = "something else"  # same file name, another key inside
    torch.save(entry, path)
    calls = counting(extractor)
    assert torch.equal(real_features(Digits(image_size=16), "test", extractor, cache=cache), features)
    assert sum(calls) == 297
    path.write_bytes(b"truncated")
    assert torch.equal(real_features(Digits(image_size=16), "test", extractor, cache=cache), features)
    assert sum(calls) == 2 * 297


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("GAN_ZOO_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "gan_zoo" / "real_features"
    monkeypatch.setenv("GAN_ZOO_CACHE_DIR", str(tmp_path / "mine"))
    assert RealFeatureCache().directory == tmp_path / "mine"
