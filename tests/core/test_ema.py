"""The average of G: its warm-up and hard start against hand-computed decays, batch-norm statistics that
belong to the averaged weights, and checkpoints written before either."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import build_tiny, module_around
from torch import nn

from gan_zoo import load_model
from gan_zoo.core import ExponentialMovingAverage
from gan_zoo.core.adversarial import STATISTICS_SEED
from gan_zoo.layers import ConditionalBatchNorm2d


def averaged_by_hand(sources: list[np.ndarray], decays: list[float]) -> np.ndarray:
    """θ_ema after one update per source, starting from anything (the first decay is 0)."""
    average = np.zeros_like(sources[0])
    for source, decay in zip(sources, decays, strict=True):
        average = decay * average + (1.0 - decay) * source
    return average


@pytest.mark.parametrize(
    ("start", "warmup", "decays"),
    [
        # β_t = min(β, (1 + t) / (10 + t)) after a first copy: 0, 2/11, 3/12, 4/13 > β = 0.3 caps it
        (0, True, [0.0, 2 / 11, 3 / 12, 0.3, 0.3]),
        # copies for t < 2, then the warm-up's value at the global t, not restarted at the start
        (2, True, [0.0, 0.0, 3 / 12, 0.3, 0.3]),
        (2, False, [0.0, 0.0, 0.3, 0.3, 0.3]),  # the hard start alone (BigGAN's code)
    ],
)
def test_decay_schedule(start, warmup, decays):
    source = nn.Linear(3, 2)
    ema = ExponentialMovingAverage(source, decay=0.3, start=start, warmup=warmup)
    weights = []
    for step in range(len(decays)):
        with torch.no_grad():
            source.weight.copy_(torch.randn(2, 3))
        weights.append(source.weight.detach().double().numpy().copy())
        ema.update(source, step=step)
        expected = averaged_by_hand(weights, decays[: step + 1])
        np.testing.assert_allclose(ema.module.weight.double().numpy(), expected, rtol=1e-5, atol=1e-6)
    # TensorFlow's ExponentialMovingAverage(0.999, num_updates=t) on the way: (1 + t) / (10 + t) until
    # it reaches β at t = 8 990 (0.999 = 8 991 / 9 000)
    ema = ExponentialMovingAverage(source, 0.999)
    assert [ema.decay_at(t) for t in (1, 80, 890, 8_990, 100_000)] == pytest.approx(
        [0.18181818, 0.9, 0.99, 0.999, 0.999], abs=1e-8
    )


def test_after_one_update_the_average_is_the_generator_not_its_initialization(digits, trainer_factory):
    model = build_tiny("DCGAN", ema_decay=0.999)
    initial = [p.clone() for p in model.generator.parameters()]
    trainer_factory(limit_train_batches=1).fit(model, datamodule=digits)
    for ema_p, p in zip(model.generator_ema.module.parameters(), model.generator.parameters(), strict=True):
        assert torch.equal(ema_p, p)
    assert not torch.equal(model.generator.net[0].weight, initial[0])  # G did move


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


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="start"):
        ExponentialMovingAverage(nn.Linear(1, 1), 0.9, start=-1)
    with pytest.raises(ValueError, match="ema_bn_batch_size >= 2"):
        build_tiny("DCGAN", ema_decay=0.9, ema_bn_batch_size=1)


# ------------------------------------------------------------------ batch-norm statistics
def capture_calibration(model: nn.Module, norm_type: type) -> tuple[list, dict]:
    """Hooks on the averaged G: its inputs, and each batch norm's inputs while it is in training mode
    (only the recalibration puts it there)."""
    network = model.generator_ema.module
    inputs: list[tuple] = []
    activations: dict[nn.Module, list[np.ndarray]] = {}
    network.register_forward_pre_hook(lambda _, args: inputs.append(args) if _calibrating(network) else None)
    for norm in (m for m in network.modules() if isinstance(m, norm_type)):
        bn = norm.norm if isinstance(norm, ConditionalBatchNorm2d) else norm
        activations[bn] = []

        def keep(module, args, store=activations[bn]):
            if module.training:
                store.append(args[0].double().numpy().copy())

        bn.register_forward_pre_hook(keep)
    return inputs, activations


def _calibrating(network: nn.Module) -> bool:
    return any(m.training for m in network.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm))


def assert_statistics_of(activations: dict[nn.Module, list[np.ndarray]], batches: int) -> None:
    """Running mean = mean of the per-batch means; running var = mean of the per-batch unbiased
    variances, per channel (over the batch and the spatial positions)."""
    assert activations
    for bn, batches_seen in activations.items():
        assert len(batches_seen) == batches
        axes = (0, 2, 3)
        means = [a.mean(axis=axes) for a in batches_seen]
        variances = [a.var(axis=axes, ddof=1) for a in batches_seen]
        np.testing.assert_allclose(bn.running_mean.double().numpy(), np.mean(means, 0), rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(
            bn.running_var.double().numpy(), np.mean(variances, 0), rtol=1e-4, atol=1e-6
        )


def drift(model: nn.Module) -> None:
    """Make the average differ from G (and G's running statistics foreign to it)."""
    with torch.no_grad():
        for p in model.generator_ema.module.parameters():
            p.add_(0.3 * torch.randn_like(p))


def test_recalibrated_statistics_are_those_of_the_averaged_generators_own_activations():
    model = build_tiny("DCGAN", ema_decay=0.9, ema_bn_batches=3, ema_bn_batch_size=8)
    drift(model)
    live = {k: v.clone() for k, v in model.generator.state_dict().items()}
    inputs, activations = capture_calibration(model, nn.BatchNorm2d)
    model.generator_ema.module.train()  # as during training: the modes must come back as they were
    images = model.sample(4)
    assert_statistics_of(activations, batches=3)
    # The latents are z ~ U[-1, 1]^8 (DCGAN's prior) from a stream of their own.
    stream = torch.Generator().manual_seed(STATISTICS_SEED)
    for (z,) in inputs:
        torch.testing.assert_close(z, torch.rand(8, 8, generator=stream) * 2 - 1)
    assert all(m.training for m in model.generator_ema.module.modules())
    assert all(torch.equal(v, model.generator.state_dict()[k]) for k, v in live.items())  # G untouched
    # Cached: sampling again recomputes nothing and gives the same images; an update of the average
    # makes the statistics stale.
    assert torch.equal(
        model.sample(4, generator=torch.Generator().manual_seed(0)),
        model.sample(4, generator=torch.Generator().manual_seed(0)),
    )
    assert len(inputs) == 3 and images.shape == (4, 1, 16, 16)
    model.generator_ema.update(model.generator, step=100)
    model.sample(1)
    assert len(inputs) == 6


@pytest.mark.parametrize("name", ["BigGAN", "SAGAN"])
def test_conditional_batch_norm_is_recalibrated_through_the_class_path(name):
    extra = {"conditional": True} if name == "SAGAN" else {}
    model = build_tiny(name, ema_decay=0.9, ema_bn_batches=2, ema_bn_batch_size=10, **extra)
    drift(model)  # the class projections (gain, bias) become non-zero, so labels change activations
    inputs, activations = capture_calibration(model, ConditionalBatchNorm2d)
    model.sample(2, y=3)
    assert_statistics_of(activations, batches=2)
    # Labels are drawn uniformly as in training, after each batch's z (normal prior), from one stream.
    stream = torch.Generator().manual_seed(STATISTICS_SEED)
    for z, y in inputs:
        torch.testing.assert_close(z, torch.randn(10, model.latent_dim, generator=stream))
        assert torch.equal(y, torch.randint(10, (10,), generator=stream))
    # The statistics depend on the labels: all of class 0 gives others.
    before = [bn.running_mean.clone() for bn in activations]
    model.generator_ema.invalidate()
    model.sample_labels = lambda n, generator=None: torch.zeros(n, dtype=torch.long)
    model.sample(2, y=3)
    assert any(not torch.allclose(bn.running_mean, old) for bn, old in zip(activations, before, strict=True))


def test_sync_batch_norm_is_recalibrated_without_a_collective(monkeypatch):
    """Under DDP the sample grid is drawn on rank 0 alone: a SyncBatchNorm's all-reduce there would wait
    for the other processes forever."""
    model = build_tiny("DCGAN", ema_decay=0.9, ema_bn_batches=2, ema_bn_batch_size=6)
    model.generator_ema.module = nn.SyncBatchNorm.convert_sync_batchnorm(model.generator_ema.module)
    drift(model)
    _, activations = capture_calibration(model, nn.SyncBatchNorm)
    # What SyncBatchNorm.forward sees inside a process group; it would reach for the collective (and,
    # on the CPU, refuse the input) if it ran.
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    model.sample(2)
    assert_statistics_of(activations, batches=2)
    assert all("forward" not in vars(m) for m in activations)  # the layers' own forward is back


def test_generators_without_batch_norm_skip_it():
    model = build_tiny("ProGAN", ema_decay=0.9)
    drawn = []
    model.generator_inputs = lambda n, generator=None: drawn.append(n) or (model.sample_latent(n),)
    model.sample(2)
    assert drawn == []


# ------------------------------------------------------------------ checkpoints from before
def test_checkpoints_from_before_the_warm_up_load_and_resume_averaging_as_they_began(
    digits, trainer_factory, tmp_path
):
    model = build_tiny("DCGAN", ema_decay=0.999)
    trainer = trainer_factory(limit_train_batches=2)
    trainer.fit(model, datamodule=digits)
    trainer.save_checkpoint(tmp_path / "new.ckpt")
    checkpoint = torch.load(tmp_path / "new.ckpt", weights_only=True)
    # The layout the code before the warm-up wrote: the average under generator_ema.module.*, no
    # counter of its own (the count of G updates is in the schedule), no arguments for the new parts.
    assert all(
        not k.startswith("generator_ema.") or k.startswith("generator_ema.module.")
        for k in checkpoint["state_dict"]
    )
    for key in ("ema_warmup", "ema_bn_batches", "ema_bn_batch_size"):
        del checkpoint["hyper_parameters"][key]
    torch.save(checkpoint, tmp_path / "old.ckpt")

    restored = load_model(tmp_path / "old.ckpt")
    saved = checkpoint["state_dict"]
    for name, p in restored.generator_ema.module.named_parameters():
        assert torch.equal(p, saved[f"generator_ema.module.{name}"])
    assert restored.generator_ema.warmup is False and restored.ema_bn_batches == 16
    assert restored.sample(3).shape == (3, 1, 16, 16)

    # Resumed, the old run goes on with β = 0.999 (the warm-up would give 3 / 12 at its third update).
    resumed = build_tiny("DCGAN", ema_decay=0.999)
    trainer_factory(limit_train_batches=1, max_epochs=2).fit(
        resumed, datamodule=digits, ckpt_path=tmp_path / "old.ckpt"
    )
    old = saved["generator_ema.module.net.0.weight"]
    expected = 0.999 * old + 0.001 * resumed.generator.net[0].weight
    torch.testing.assert_close(resumed.generator_ema.module.net[0].weight, expected)
