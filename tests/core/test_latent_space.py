"""Latent walks and vector arithmetic against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo import interpolate, latent_arithmetic


def test_linear_interpolation_hits_both_ends_and_the_midpoint():
    a, b = torch.tensor([[0.0, 2.0]]), torch.tensor([[4.0, -2.0]])
    path = interpolate(a, b, 5)
    assert path.shape == (5, 1, 2)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(path[2], torch.tensor([[2.0, 0.0]]))
    assert torch.allclose(path[1], torch.tensor([[1.0, 1.0]]))  # (1 − ¼)·a + ¼·b


def test_spherical_interpolation_follows_the_great_circle():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])  # Ω = π/2
    path = interpolate(a, b, 3, spherical=True)
    s = math.sin(math.pi / 4) / math.sin(math.pi / 2)
    assert torch.allclose(path[1], torch.tensor([s, s]))  # norm 1, where lerp gives norm 0.707
    assert torch.allclose(path[0], a) and torch.allclose(path[2], b)
    assert torch.allclose(interpolate(a, b, 3)[1].norm(), torch.tensor(math.sqrt(0.5)))


def test_spherical_interpolation_of_parallel_latents_falls_back_to_a_line():
    a = torch.tensor([1.0, 1.0])
    assert torch.allclose(interpolate(a, 3 * a, 3, spherical=True)[1], 2 * a)


def test_interpolation_checks_its_arguments():
    with pytest.raises(ValueError, match="steps >= 2"):
        interpolate(torch.zeros(2), torch.ones(2), 1)
    with pytest.raises(ValueError, match="differ in shape"):
        interpolate(torch.zeros(2), torch.ones(3), 4)


def test_latent_arithmetic_is_mean_a_minus_mean_b_plus_mean_c():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    b = torch.tensor([[1.0, 5.0]])  # mean (1, 5)
    c = torch.tensor([[0.0, 2.0], [2.0, 0.0], [4.0, 1.0]])  # mean (2, 1)
    assert torch.allclose(latent_arithmetic(a, b, c), torch.tensor([[3.0, -1.0]]))


def test_latent_arithmetic_variations_are_uniform_noise_around_y():
    a = b = c = torch.zeros(3, 4)
    out = latent_arithmetic(a, b, c, variations=500, noise=0.25, generator=torch.Generator().manual_seed(0))
    assert out.shape == (501, 4)
    assert torch.equal(out[0], torch.zeros(4))
    assert out[1:].abs().max() <= 0.25 and out[1:].abs().max() > 0.24  # fills [−0.25, 0.25]
    again = latent_arithmetic(a, b, c, variations=500, noise=0.25, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_latent_arithmetic_checks_shapes():
    with pytest.raises(ValueError, match="latent sizes differ"):
        latent_arithmetic(torch.zeros(1, 2), torch.zeros(1, 3), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="non-empty"):
        latent_arithmetic(torch.zeros(0, 2), torch.zeros(1, 2), torch.zeros(1, 2))
