"""The EMA of G: a plain copy for its first ``start`` updates, an average afterwards."""

from __future__ import annotations

import pytest
import torch
from conftest import module_around
from torch import nn

from gan_zoo.core import ExponentialMovingAverage


def test_ema_copies_the_source_before_start_then_averages():
    source = nn.Linear(2, 2)
    ema = ExponentialMovingAverage(source, decay=0.9, start=2)
    for step in range(2):
        with torch.no_grad():
            source.weight.add_(1.0)
        ema.update(source, step=step)
        assert torch.equal(ema.module.weight, source.weight)
    before = ema.module.weight.clone()
    with torch.no_grad():
        source.weight.add_(1.0)
    ema.update(source, step=2)
    torch.testing.assert_close(ema.module.weight, 0.9 * before + 0.1 * source.weight)


def test_module_counts_generator_updates_for_the_ema_start(digits, trainer_factory):
    generator = nn.Sequential(nn.Linear(4, 256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(256, 1))
    model = module_around(
        generator, discriminator, image_shape=(1, 16, 16), latent_dim=4, ema_decay=0.5, ema_start=3
    )
    assert model.generator_ema.start == 3
    trainer_factory(limit_train_batches=3).fit(model, datamodule=digits)  # three G updates: copies
    for ema_p, p in zip(model.generator_ema.module.parameters(), generator.parameters(), strict=True):
        assert torch.equal(ema_p, p)
    trainer_factory(limit_train_batches=1).fit(model, datamodule=digits)  # the fourth averages
    ema_weight, weight = model.generator_ema.module[0].weight, generator[0].weight
    assert not torch.equal(ema_weight, weight)


def test_negative_start_is_refused():
    with pytest.raises(ValueError, match="start"):
        ExponentialMovingAverage(nn.Linear(1, 1), 0.9, start=-1)
