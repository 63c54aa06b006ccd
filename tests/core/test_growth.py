"""The progressive-growing schedule: resolution, α, phase and batch size after n images."""

from __future__ import annotations

import pytest

from gan_zoo.core import GrowthSchedule
from gan_zoo.core.growth import PAPER_BATCH_SIZES

SCHEDULE = GrowthSchedule(16, phase_images=100, batch_sizes={4: 32, 8: 16, 16: 8})


@pytest.mark.parametrize(
    ("images", "resolution", "alpha", "phase", "batch"),
    [
        (0, 4, 1.0, 0, 32),  # 4×4, stable
        (99, 4, 1.0, 0, 32),
        (100, 8, 0.0, 1, 16),  # 8×8 fade-in starts at α = 0
        (125, 8, 0.25, 1, 16),
        (199, 8, 0.99, 1, 16),
        (200, 8, 1.0, 2, 16),  # 8×8 stable
        (350, 16, 0.5, 3, 8),  # 16×16 fade-in
        (400, 16, 1.0, 4, 8),  # grown
        (10_000, 16, 1.0, 4, 8),  # and stays there
    ],
)
def test_schedule(images, resolution, alpha, phase, batch):
    state = SCHEDULE.at(images)
    assert (state.resolution, state.phase, state.batch_size) == (resolution, phase, batch)
    assert state.alpha == pytest.approx(alpha)
    assert state.fading == (alpha < 1)


def test_growth_takes_fade_and_stabilization_per_doubling():
    assert SCHEDULE.growth_images == 500  # 4×4, then (fade + stable) × 2
    assert GrowthSchedule(4, 10, {4: 1}).at(10**6).resolution == 4


def test_paper_batch_sizes_cover_every_resolution_up_to_1024():
    schedule = GrowthSchedule(1024, 800_000, PAPER_BATCH_SIZES)
    assert [schedule.batch_sizes[r] for r in (4, 128, 256, 512, 1024)] == [16, 16, 14, 6, 3]


def test_bad_schedules_are_refused():
    with pytest.raises(ValueError, match=r"missing \[16\]"):
        GrowthSchedule(16, 100, {4: 8, 8: 8})
    with pytest.raises(ValueError, match="power-of-two"):
        GrowthSchedule(24, 100, {4: 8})
    with pytest.raises(ValueError, match="phase_images"):
        GrowthSchedule(16, 0, {4: 8, 8: 8, 16: 8})
