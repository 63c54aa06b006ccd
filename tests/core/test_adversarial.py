"""The schedule of ``AdversarialModule``: n_critic, EMA, clipping, schedulers, logging, checkpoint state."""

from __future__ import annotations

import pytest
import torch
from conftest import CountSteps, build_tiny
from torch import nn

from gan_zoo.core import AdversarialModule, ExponentialMovingAverage


@pytest.mark.parametrize(("n_critic", "batches", "g_steps"), [(1, 6, 6), (2, 6, 3), (5, 12, 2), (3, 2, 0)])
def test_n_critic_counts_d_and_g_updates(n_critic, batches, g_steps, digits, trainer_factory):
    counter = CountSteps()
    model = build_tiny("DCGAN", n_critic=n_critic)
    trainer = trainer_factory(limit_train_batches=batches, callbacks=[counter])
    trainer.fit(model, datamodule=digits)
    assert counter.steps == {"discriminator": batches, "generator": g_steps}
    # manual optimization: global_step counts optimizer steps (the documented max_steps quirk)
    assert trainer.global_step == batches + g_steps


def test_n_critic_phase_continues_across_epochs(digits, trainer_factory):
    counter = CountSteps()
    model = build_tiny("DCGAN", n_critic=3)
    trainer_factory(limit_train_batches=2, max_epochs=3, callbacks=[counter]).fit(model, datamodule=digits)
    assert counter.steps == {"discriminator": 6, "generator": 2}  # batches 3 and 6, not per-epoch resets


def test_schedule_state_is_saved_and_restored(digits, trainer_factory, tmp_path):
    model = build_tiny("DCGAN", n_critic=3)
    trainer = trainer_factory(limit_train_batches=4)
    trainer.fit(model, datamodule=digits)
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    checkpoint = torch.load(tmp_path / "m.ckpt", weights_only=False)
    assert checkpoint["adversarial_schedule"] == {"d_steps": 4, "g_steps": 1}
    restored = type(model).load_from_checkpoint(tmp_path / "m.ckpt")
    restored.on_load_checkpoint(checkpoint)
    assert restored._d_steps == 4


def test_logged_metric_names(digits, trainer_factory):
    trainer = trainer_factory()
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    logged = set(trainer.callback_metrics)
    for name in ("train/d_loss", "train/g_loss", "train/d_real", "train/d_fake"):
        assert name in logged or f"{name}_epoch" in logged


def test_d_real_and_d_fake_are_probabilities_for_sigmoid_losses(digits, trainer_factory):
    trainer = trainer_factory()
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    for key in ("train/d_real_epoch", "train/d_fake_epoch"):
        assert 0.0 < trainer.callback_metrics[key].item() < 1.0


def test_ema_is_off_by_default_and_follows_the_generator():
    assert build_tiny("DCGAN").generator_ema is None
    model = build_tiny("DCGAN", ema_decay=0.5)
    ema = model.generator_ema
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(1.0)
    before = [p.clone() for p in ema.module.parameters()]
    ema.update(model.generator)
    for old, new, src in zip(before, ema.module.parameters(), model.generator.parameters(), strict=True):
        torch.testing.assert_close(new, 0.5 * old + 0.5 * src)  # θ_ema ← β θ_ema + (1 − β) θ


def test_sample_uses_the_ema_weights(digits, trainer_factory):
    model = build_tiny("DCGAN", ema_decay=0.9)
    trainer_factory(limit_train_batches=3).fit(model, datamodule=digits)
    z = model.fixed_noise[:4]
    model.generator_ema.eval()
    ema_out = model.generator_ema.module(z).clamp(-1, 1)
    model.generator.eval()
    raw_out = model.generator(z).clamp(-1, 1)
    assert torch.allclose(model.sample(z=z), ema_out)
    assert not torch.allclose(model.sample(z=z), raw_out)


def test_ema_decay_must_be_a_fraction():
    with pytest.raises(ValueError, match="decay"):
        ExponentialMovingAverage(nn.Linear(2, 2), 1.5)


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
def test_gradient_clipping_per_network(precision, digits, trainer_factory):
    norms: dict[str, list[float]] = {"generator": [], "discriminator": []}

    class Probe(build_tiny("DCGAN").__class__):
        def on_before_optimizer_step(self, optimizer):
            super().on_before_optimizer_step(optimizer)
            grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
            norms[self._network_of(optimizer)].append(
                torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])).item()
            )

    model = Probe(
        image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, g_grad_clip=1e-3, d_grad_clip=None
    )
    trainer_factory(precision=precision).fit(model, datamodule=digits)
    assert max(norms["generator"]) <= 1e-3 * 1.01
    assert max(norms["discriminator"]) > 1e-3  # D is not clipped


def test_lr_schedulers_step_once_per_epoch(digits, trainer_factory):
    from functools import partial

    model = build_tiny(
        "DCGAN",
        g_lr_scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5),
        d_lr_scheduler=None,
    )
    trainer = trainer_factory(max_epochs=2)
    trainer.fit(model, datamodule=digits)
    g_opt, d_opt = trainer.optimizers
    assert g_opt.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.25)
    assert d_opt.param_groups[0]["lr"] == pytest.approx(2e-4)


def test_custom_optimizer_factories_are_used():
    from functools import partial

    model = build_tiny("DCGAN", g_optimizer=partial(torch.optim.RMSprop, lr=5e-5), d_optimizer=None)
    g_opt, d_opt = model.configure_optimizers()[0]
    assert isinstance(g_opt, torch.optim.RMSprop) and g_opt.defaults["lr"] == 5e-5
    assert isinstance(d_opt, torch.optim.Adam)


def test_sample_with_truncation():
    model = build_tiny("DCGAN")
    z = model.sample_latent(100, truncation=0.3)
    assert z.abs().max() <= 0.3
    assert model.sample(3, truncation=0.3).shape == (3, 1, 16, 16)


def test_fixed_noise_does_not_consume_the_global_rng():
    model = build_tiny("DCGAN")
    state = torch.random.get_rng_state()
    model._register_fixed_inputs(8)
    assert torch.equal(state, torch.random.get_rng_state())
    assert torch.equal(model.fixed_noise, build_tiny("DCGAN").fixed_noise)


def test_invalid_arguments_fail_at_construction():
    with pytest.raises(ValueError, match="n_critic must be a positive integer"):
        build_tiny("DCGAN", n_critic=0)


def test_adversarial_module_takes_any_networks(digits, trainer_factory):
    generator = nn.Sequential(nn.Linear(4, 256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(256, 1))
    model = AdversarialModule(generator, discriminator, image_shape=(1, 16, 16), latent_dim=4, loss="hinge")
    trainer_factory().fit(model, datamodule=digits)
    assert model.sample(2).shape == (2, 1, 16, 16)


@pytest.mark.parametrize("name", ["GAN", "CGAN", "DCGAN"])
def test_models_forward_every_shared_argument(name):
    from functools import partial

    model = build_tiny(name, n_critic=4, ema_decay=0.9, g_grad_clip=2.0, loss="hinge", grid_columns=3)
    assert model.n_critic == 4 and model.generator_ema is not None
    assert model._grad_clip == {"generator": 2.0, "discriminator": None}
    assert type(model.loss).__name__ == "Hinge" and model.fixed_noise.shape[0] % 3 == 0
    model = build_tiny(name, d_optimizer=partial(torch.optim.SGD, lr=0.5))
    assert isinstance(model.configure_optimizers()[0][1], torch.optim.SGD)


def test_make_step_builds_what_both_updates_see(digits, trainer_factory):
    from gan_zoo.models import DCGAN

    grad_enabled: list[bool] = []
    seen: dict[str, torch.Tensor] = {}

    class Probe(DCGAN):
        def make_step(self, batch):
            grad_enabled.append(torch.is_grad_enabled())
            return super().make_step(batch)

        def discriminator_step(self, step):
            seen["d"] = step.fake
            return super().discriminator_step(step)

        def generator_step(self, step):
            seen["g"] = step.fake
            return super().generator_step(step)

    model = Probe(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, n_critic=2)
    trainer_factory(limit_train_batches=2).fit(model, datamodule=digits)
    assert grad_enabled == [False, True]  # G's graph is built only on the batch where G steps
    assert torch.equal(seen["d"], seen["g"])  # one generated batch serves both updates
    assert seen["d"].grad_fn is None and seen["g"].grad_fn is not None  # D's copy is detached
