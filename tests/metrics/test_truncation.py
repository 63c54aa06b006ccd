"""BigGAN §3.1's truncation sweep: one row per ψ, each FID equal to a numpy Fréchet distance."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import linalg

from gan_zoo.data import Digits, to_uint8
from gan_zoo.metrics.streams import batch_seed
from gan_zoo.metrics.truncation import truncation_sweep

sys.path.insert(0, str(Path(__file__).parent))
from metric_helpers import random_classifier

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import build_tiny


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^½), in float64 (Heusel et al. 2017)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mean_a - mean_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


@pytest.mark.filterwarnings("ignore:Matrix is singular")  # features of dead ReLUs are constant
def test_one_row_per_truncation_with_the_frechet_distance_of_its_samples():
    torch.manual_seed(0)
    model = build_tiny("BigGAN").eval()
    extractor = random_classifier(16)
    data = Digits(image_size=16, batch_size=16)
    truncations, n, batch, seed = [0.3, 1.0, None], 40, 16, 4
    points = truncation_sweep(
        model, data, extractor, truncations, num_samples=n, num_real=200, batch_size=batch, seed=seed
    )
    assert [p.psi for p in points] == truncations

    data.setup("fit")
    real = extractor.extract(data.train_set.images[:200])[0].numpy()
    for point, psi in zip(points, truncations, strict=True):
        fakes = []  # the documented stream: batch b drawn with a generator seeded batch_seed(seed, b)
        for b in range(math.ceil(n / batch)):
            size = min(batch, n - b * batch)
            generator = torch.Generator().manual_seed(batch_seed(seed, b))
            fakes.append(to_uint8(model.sample(size, truncation=psi, generator=generator)))
        fake = extractor.extract(torch.cat(fakes))[0].numpy()
        assert point.fid == pytest.approx(frechet_distance(real, fake), rel=1e-4), psi
    assert len({round(p.fid, 6) for p in points}) == 3  # the threshold changes the samples


def test_truncation_needs_a_normal_prior():
    model = build_tiny("CGAN")  # z uniform in the unit hypercube
    with pytest.raises(ValueError, match="needs a model with a normal prior; CGAN draws z from a uniform"):
        truncation_sweep(model, Digits(image_size=16), random_classifier(16), [0.5], num_samples=10)
