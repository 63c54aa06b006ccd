"""The schedule of ``AdversarialModule``: n_critic, EMA, clipping, schedulers, logging, checkpoint state."""

from __future__ import annotations

import itertools
import warnings

import pytest
import torch
from conftest import CountSteps, build_tiny, module_around
from torch import nn

from gan_zoo.core import AdversarialModule, ExponentialMovingAverage
from gan_zoo.core.step import Step
from gan_zoo.losses import FeatureMatching, HistoricalAveraging, Regularizer


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
    assert restored.updates == {"discriminator": 4, "generator": 1}


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
    ema.update(model.generator, step=20)  # past the warm-up: min(0.5, 21 / 30) = 0.5
    for old, new, src in zip(before, ema.module.parameters(), model.generator.parameters(), strict=True):
        torch.testing.assert_close(new, 0.5 * old + 0.5 * src)  # θ_ema ← β θ_ema + (1 − β) θ


def test_sample_uses_the_ema_weights_unless_asked_for_the_raw_ones(digits, trainer_factory):
    model = build_tiny("DCGAN", ema_decay=0.9)
    trainer_factory(limit_train_batches=3).fit(model, datamodule=digits)
    z = model.fixed_noise[:4]
    images = model.sample(z=z)  # recomputes the average's batch-norm statistics first
    ema_out = model.generator_ema.module.eval()(z).clamp(-1, 1)
    raw_out = model.generator.eval()(z).clamp(-1, 1)
    assert torch.allclose(images, ema_out) and torch.allclose(model.sample(z=z, weights="ema"), ema_out)
    assert torch.allclose(model.sample(z=z, weights="raw"), raw_out)
    assert not torch.allclose(images, raw_out)
    with model.sampling_from("raw"):  # for code that calls sample() without the argument
        assert torch.allclose(model.sample(z=z), raw_out)
        assert torch.allclose(model.sample(z=z, weights="ema"), ema_out)
    assert model.chosen_weights() == "ema"
    with pytest.raises(ValueError, match="'ema' or 'raw'"):
        model.sample(z=z, weights="average")
    plain = build_tiny("DCGAN")
    assert plain.chosen_weights() == "raw"
    with pytest.raises(
        ValueError, match=r"no average of G's weights to sample from \(ema_decay is not set\)"
    ):
        plain.sample(2, weights="ema")


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
            norms[self.network_of(optimizer)].append(
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


def test_an_epoch_without_a_g_step_steps_g_schedule_without_a_warning(digits, trainer_factory):
    """n_critic 5 over 2 batches an epoch: G's first step is in the third epoch. Its per-epoch schedule
    still counts every epoch (lr halved three times) and torch's order warning is not shown."""
    from functools import partial

    model = build_tiny(
        "DCGAN",
        n_critic=5,
        g_lr_scheduler=partial(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5),
        d_lr_scheduler=None,
    )
    trainer = trainer_factory(max_epochs=3, limit_train_batches=2)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*lr_scheduler")
        trainer.fit(model, datamodule=digits)
    assert model.updates == {"generator": 1, "discriminator": 6}
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5**3)


def test_custom_optimizer_factories_are_used():
    from functools import partial

    model = build_tiny("DCGAN", g_optimizer=partial(torch.optim.RMSprop, lr=5e-5), d_optimizer=None)
    g_opt, d_opt = model.configure_optimizers()[0]
    assert isinstance(g_opt, torch.optim.RMSprop) and g_opt.defaults["lr"] == 5e-5
    assert isinstance(d_opt, torch.optim.Adam)


def test_sample_with_truncation():
    model = build_tiny("DCGAN", latent_prior="normal")
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
    model = module_around(generator, discriminator, image_shape=(1, 16, 16), latent_dim=4, loss="hinge")
    trainer_factory().fit(model, datamodule=digits)
    assert model.sample(2).shape == (2, 1, 16, 16)


def test_reused_latents_give_g_the_fake_batch_d_saw(digits, trainer_factory):
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

    model = Probe(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, n_critic=2, g_latents="reuse")
    trainer_factory(limit_train_batches=2).fit(model, datamodule=digits)
    assert grad_enabled == [False, True]  # G's graph is built only on the batch where G steps
    assert torch.equal(seen["d"], seen["g"])  # one generated batch serves both updates
    assert seen["d"].grad_fn is None and seen["g"].grad_fn is not None  # D's copy is detached


class ScheduleProbe:
    """Mixin recording what each update of a model sees."""

    def make_step(self, batch):
        self.record.append(("make_step", torch.is_grad_enabled()))
        return super().make_step(batch)

    def discriminator_step(self, step):
        self.record.append(("d", step.fake.detach().clone(), step.latent.clone()))
        return super().discriminator_step(step)

    def generator_step(self, step):
        self.record.append(("g", step.fake.detach().clone(), step.latent.clone()))
        return super().generator_step(step)


def probe(name: str, **arguments) -> AdversarialModule:
    from gan_zoo.models import MODELS

    cls = type(f"Probe{name}", (ScheduleProbe, MODELS.get(name)), {})
    model = cls(image_shape=(1, 16, 16), latent_dim=8, g_width=8, d_width=8, **arguments)
    model.record = []
    return model


def test_fresh_latents_draw_a_new_batch_for_g(digits, trainer_factory):
    """Goodfellow et al. 2014, Algorithm 1: G's update samples its own minibatch of noise."""
    model = probe("WGAN", n_critic=2, g_latents="fresh")
    trainer_factory(limit_train_batches=2).fit(model, datamodule=digits)
    kinds = [entry[0] for entry in model.record]
    assert kinds == ["make_step", "d", "make_step", "d", "make_step", "g"]
    grads = [entry[1] for entry in model.record if entry[0] == "make_step"]
    assert grads == [False, False, True]  # only G's own batch keeps G's graph
    (_, _, d_latent), (_, _, g_latent) = model.record[3], model.record[5]
    assert not torch.equal(d_latent, g_latent)


def test_several_g_steps_regenerate_the_fake_from_the_same_latents(digits, trainer_factory):
    """SinGAN's schedule: after D's update, k G updates on the same noise, each through G as it is now."""
    model = probe("DCGAN", n_critic=1, g_steps=3, g_latents="reuse")
    trainer_factory(limit_train_batches=1).fit(model, datamodule=digits)
    d, *gs = [entry for entry in model.record if entry[0] in "dg"]
    assert [entry[0] for entry in gs] == ["g", "g", "g"]
    assert all(torch.equal(entry[2], d[2]) for entry in gs)  # one z throughout the round
    assert torch.equal(gs[0][1], d[1])  # the first G update trains on D's very fake batch
    assert not torch.equal(gs[1][1], gs[0][1]) and not torch.equal(gs[2][1], gs[1][1])  # G moved between
    assert model.updates == {"discriminator": 1, "generator": 3}


class ConstantPenalty(Regularizer):
    """A penalty of a fixed value, so that how penalties combine is checked with hand numbers."""

    network = "generator"

    def __init__(self, name: str, value: float, weight: float, replaces: bool = False) -> None:
        super().__init__(weight)
        self.name, self.value, self.replaces_loss = name, value, replaces

    def penalty(self, module, step):
        return torch.tensor(self.value)


class FixedAdversarial(AdversarialModule):
    def build_networks(self):
        return nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, (1, 2, 2))), nn.Sequential(
            nn.Flatten(), nn.Linear(4, 1)
        )

    def generator_step(self, step):
        return {"loss": torch.tensor(10.0)}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_penalties_add_in_any_order_and_a_replacing_one_stands_in_for_the_adversarial_term(order):
    """loss = (replacement or adversarial) + Σ weighted penalties, whatever the order of the list:
    here 0.5·7 + 3·2 + 1·5 = 14.5, and 10 + 6 + 5 = 21 without the replacing one."""
    penalties = [
        ConstantPenalty("a", 2.0, weight=3.0),
        ConstantPenalty("b", 5.0, weight=1.0),
        ConstantPenalty("r", 7.0, weight=0.5, replaces=True),
    ]
    step = Step(torch.zeros(1, 1, 2, 2), None, torch.zeros(1, 1, 2, 2), None)
    model = FixedAdversarial(image_shape=(1, 2, 2), latent_dim=2, regularizers=[penalties[i] for i in order])
    terms = model.losses("generator", step)
    assert terms["loss"].item() == pytest.approx(14.5)
    assert {k: terms[k].item() for k in ("adversarial", "a", "b", "r")} == {
        "adversarial": 10.0,
        "a": 2.0,
        "b": 5.0,
        "r": 7.0,
    }
    additive_only = [p for p in (penalties[i] for i in order) if not p.replaces_loss]
    model = FixedAdversarial(image_shape=(1, 2, 2), latent_dim=2, regularizers=additive_only)
    assert model.losses("generator", step)["loss"].item() == pytest.approx(21.0)


@pytest.mark.parametrize("reverse", [False, True])
def test_feature_matching_keeps_the_historical_average_penalty_listed_before_it(reverse, digits):
    """Salimans et al. 2016 use feature matching as G's objective *and* historical averaging: with both
    on G, the loss optimised is FM + λ·HA in either order, and it is what the log shows."""
    regularizers = [HistoricalAveraging("generator"), FeatureMatching()]
    model = build_tiny("DCGAN", regularizers=regularizers[::-1] if reverse else regularizers)
    (history,) = [r for r in model.regularizers if isinstance(r, HistoricalAveraging)]
    for _ in range(3):  # a past: θ, θ + 0.01, θ + 0.02, … (the average then lags θ)
        history.after_step(model)
        with torch.no_grad():
            for p in model.generator.parameters():
                p.add_(0.01)
    digits.setup("fit")
    real = next(iter(digits.train_dataloader()))[0].float() / 127.5 - 1
    step = model.make_step((real, None))
    fm, ha = FeatureMatching().penalty(model, step).item(), history.penalty(model, step).item()
    terms = model.losses("generator", step)
    assert ha > 1.0 and terms["loss"].item() == pytest.approx(fm + ha, rel=1e-5)
    assert terms["historical_averaging"].item() == pytest.approx(ha)
    assert terms["feature_matching"].item() == pytest.approx(fm, rel=1e-5)


def test_your_own_networks_train_with_the_zoo_schedule_and_checkpoint(digits, trainer_factory, tmp_path):
    generator = nn.Sequential(nn.Linear(4, 256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(256, 1))
    model = AdversarialModule.from_networks(
        generator, discriminator, image_shape=(1, 16, 16), latent_dim=4, n_critic=2
    )
    assert (
        model.generator is generator and "generator" not in model.hparams and model.hparams["n_critic"] == 2
    )
    trainer = trainer_factory(limit_train_batches=2)
    trainer.fit(model, datamodule=digits)
    assert model.updates == {"discriminator": 2, "generator": 1}
    trainer.save_checkpoint(tmp_path / "own.ckpt")
    again = AdversarialModule.from_networks(
        nn.Sequential(nn.Linear(4, 256), nn.Tanh(), nn.Unflatten(1, (1, 16, 16))),
        nn.Sequential(nn.Flatten(), nn.Linear(256, 1)),
        image_shape=(1, 16, 16),
        latent_dim=4,
    )
    again.load_state_dict(torch.load(tmp_path / "own.ckpt", weights_only=True)["state_dict"])
    assert torch.equal(again.generator[0].weight, generator[0].weight)
