"""Improved precision and recall (Kynkäänniemi et al. 2019) against a naive loop and a hand example."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_zoo.metrics import ManifoldPrecisionRecall, precision_recall
from gan_zoo.metrics.manifold import knn_radii


def naive_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float]:
    """Eq. 1–2 written as loops: the k-th nearest *other* point sets each radius."""

    def radii(points: np.ndarray) -> list[float]:
        out = []
        for i, p in enumerate(points):
            others = sorted(math.dist(p, q) for j, q in enumerate(points) if j != i)
            out.append(others[k - 1])
        return out

    def share_inside(points: np.ndarray, centres: np.ndarray, r: list[float]) -> float:
        inside = 0
        for p in points:
            if any(math.dist(p, c) <= r[j] for j, c in enumerate(centres)):
                inside += 1
        return inside / len(points)

    return share_inside(fake, real, radii(real)), share_inside(real, fake, radii(fake))


def compute(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> dict[str, float]:
    metric = precision_recall(None, k=k)  # the builder reads nothing from the extractor
    metric.update(real, None, real=True)
    metric.update(fake, None)
    return metric.compute(len(real), len(fake))


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_and_recall_equal_a_naive_loop(k):
    generator = torch.Generator().manual_seed(k)
    real = torch.randn(60, 4, generator=generator)
    fake = torch.randn(45, 4, generator=generator) * 1.3 + 1.0  # overlapping, wider, shifted
    expected = naive_precision_recall(real.double().numpy(), fake.double().numpy(), k)
    result = compute(real, fake, k)
    assert 0.0 < expected[0] < 1.0 and 0.0 < expected[1] < 1.0  # neither trivially 0 nor 1
    assert (result["precision"], result["recall"]) == pytest.approx(expected, abs=1e-12)


def test_a_hand_example_on_a_line():
    # Real points on a line: 0, 1, 2, 3, 10. With k = 1 each radius is the nearest other point:
    # 1, 1, 1, 1 and 7 (10's nearest is 3). Fake: 0.5 (inside), 6 (inside 10's ball, |6 − 10| = 4 ≤ 7),
    # 20 (|20 − 10| = 10 > 7: outside), −1.5 (|−1.5 − 0| = 1.5 > 1: outside) → precision 2/4.
    # Fake radii (k = 1), sorted fakes −1.5, 0.5, 6, 20: 2, 2, 5.5, 14.
    # Real 0: |0 − 0.5| ≤ 2 in; 1: in; 2: |2 − 0.5| = 1.5 ≤ 2 in; 3: |3 − 6| = 3 ≤ 5.5 in;
    # 10: |10 − 6| = 4 ≤ 5.5 in → recall 5/5.
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0], [10.0]])
    fake = torch.tensor([[0.5], [6.0], [20.0], [-1.5]])
    assert knn_radii(real.double(), 1).tolist() == [1.0, 1.0, 1.0, 1.0, 7.0]
    assert compute(real, fake, k=1) == {"precision": 0.5, "recall": 1.0}


def test_a_collapsed_generator_keeps_precision_and_loses_recall():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(200, 3, generator=generator)
    collapsed = real[:1] + 0.01 * torch.randn(200, 3, generator=generator)  # one real mode, tiny spread
    result = compute(real, collapsed)
    expected = naive_precision_recall(real.double().numpy(), collapsed.double().numpy(), 3)
    assert (result["precision"], result["recall"]) == pytest.approx(expected, abs=1e-12)
    assert result["precision"] == 1.0 and result["recall"] < 0.05


@pytest.mark.filterwarnings(
    "ignore:The ``compute`` method of metric ManifoldPrecisionRecall was called before"
)
def test_the_metric_keeps_features_across_updates_and_resets():
    generator = torch.Generator().manual_seed(1)
    real, fake = torch.randn(30, 2, generator=generator), torch.randn(20, 2, generator=generator)
    metric = ManifoldPrecisionRecall(k=2)
    for chunk in real.split(7):
        metric.update(chunk, real=True)
    for chunk in fake.split(6):
        metric.update(chunk, real=False)
    expected = naive_precision_recall(real.double().numpy(), fake.double().numpy(), 2)
    values = metric.compute()
    assert (float(values["precision"]), float(values["recall"])) == pytest.approx(expected, abs=1e-12)
    metric.reset()
    with pytest.raises(ValueError, match="needs both real and generated"):
        metric.compute()


def test_too_few_samples_and_a_bad_k_are_refused():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        ManifoldPrecisionRecall(k=0)
    with pytest.raises(ValueError, match="more than 3 samples"):
        compute(torch.randn(3, 2), torch.randn(10, 2))
