"""MinibatchStdDev: one extra feature map, the group's average standard deviation (ProGAN §3)."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.layers import MinibatchStdDev


def test_minibatch_stddev_by_hand():
    x = torch.tensor([1.0, 2.0, 3.0, 5.0]).view(4, 1, 1, 1)
    out = MinibatchStdDev(group_size=2)(x)
    assert out.shape == (4, 2, 1, 1)
    assert torch.equal(out[:, :1], x)
    # groups by i mod 2: samples (0, 2) = (1, 3) → std 1; samples (1, 3) = (2, 5) → std 1.5
    assert out[:, 1].flatten().tolist() == pytest.approx([1.0, 1.5, 1.0, 1.5], abs=1e-6)


def test_value_is_the_mean_over_features_and_positions_replicated_everywhere():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 2, 2)
    out = MinibatchStdDev(group_size=8)(x)
    expected = (x.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    assert torch.allclose(out[:, 3], expected.expand(8, 2, 2), atol=1e-6)


@pytest.mark.parametrize(("batch", "group"), [(3, 3), (6, 3), (8, 4)])
def test_any_batch_size_splits_into_equal_groups(batch, group):
    x = torch.randn(batch, 2, 4, 4)
    out = MinibatchStdDev(group_size=4)(x)
    values = out[:, 2, 0, 0]
    assert values.unique().numel() == batch // group  # one value per group


def test_a_prime_batch_larger_than_the_group_falls_back_to_groups_of_one():
    out = MinibatchStdDev(group_size=4)(torch.randn(5, 2, 4, 4))
    assert torch.allclose(out[:, 2], torch.full((5, 4, 4), 1e-4))  # √(0 + 1e-8)
