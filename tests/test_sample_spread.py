"""benchmarks/sample_spread.py: the spread of a set of features, on points whose answer is known."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_spread():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        path = REPO / "benchmarks" / "sample_spread.py"
        spec = importlib.util.spec_from_file_location("sample_spread", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


def one_hot_logits(classes: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(classes), 10).double()


def test_points_on_a_line_spread_by_their_spacing(sample_spread):
    """Points 0, 1, …, 9 on a line: the 3rd nearest other point is 2 away at the ends' neighbours and
    inside, 3 at the ends; median 2. Against a real radius of 4 the ratio is 0.5; no point is closer than
    a tenth of a real nearest distance of 1 to another."""
    points = torch.arange(10, dtype=torch.float64)[:, None]
    result = sample_spread.spread(points, one_hot_logits([0, 1] * 5), real_radius=4.0, real_nearest=1.0)
    assert result == {"radius_ratio": pytest.approx(0.5), "near_copies": 0.0, "classes": 2}


def test_copies_have_no_spread(sample_spread):
    """Five points, each twice, 0.01 apart: every point has a near-copy, and the 3rd nearest other
    point is the next pair's, 0.99 to 1.01 away (median 1.0)."""
    base = torch.arange(5, dtype=torch.float64)[:, None]
    points = torch.cat([base, base + 0.01])
    result = sample_spread.spread(points, one_hot_logits([3] * 10), real_radius=2.0, real_nearest=1.0)
    assert result["near_copies"] == 1.0 and result["classes"] == 1
    assert result["radius_ratio"] == pytest.approx(0.5)
