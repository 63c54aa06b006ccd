"""ProGAN: growing stage by stage, fade-in continuity, the schedule as training state, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import build_tiny

from gan_zoo.cli import main
from gan_zoo.models import ProGAN

REPO = Path(__file__).resolve().parents[1]


def at(network, stage: int, alpha: float = 1.0):
    network.stage, network.alpha = stage, alpha
    return network


@pytest.mark.parametrize("stage", [0, 1, 2])
def test_shapes_at_each_stage(stage):
    model = build_tiny("ProGAN")
    resolution = 4 * 2**stage
    z = torch.randn(5, 8)
    for alpha in (0.5, 1.0) if stage else (1.0,):
        generator = at(model.generator, stage, alpha)
        assert generator.native(z).shape == (5, 1, resolution, resolution)
        assert generator(z).shape == (5, 1, 16, 16)  # upsampled to the final size
        discriminator = at(model.discriminator, stage, alpha)
        assert discriminator(torch.randn(5, 1, resolution, resolution)).shape == (5,)
        assert discriminator(torch.randn(5, 1, 16, 16)).shape == (5,)
    if stage:
        with pytest.raises(ValueError, match="smaller than the current resolution"):
            model.discriminator(torch.randn(5, 1, 2, 2))


@pytest.mark.parametrize("stage", [1, 2])
def test_a_new_stage_at_alpha_zero_is_the_upsampled_previous_stage(stage):
    torch.manual_seed(0)
    model = build_tiny("ProGAN")
    z = torch.randn(6, 8)
    previous = at(model.generator, stage - 1).native(z)
    faded_in = at(model.generator, stage, 0.0).native(z)
    assert torch.equal(faded_in, F.interpolate(previous, scale_factor=2, mode="nearest"))
    assert not torch.equal(at(model.generator, stage, 0.5).native(z), faded_in)

    x = torch.randn(6, 1, 16, 16)
    d_previous = at(model.discriminator, stage - 1)(x)
    torch.testing.assert_close(at(model.discriminator, stage, 0.0)(x), d_previous)


def test_reals_are_pooled_to_the_current_resolution_and_faded():
    model = build_tiny("ProGAN")
    x = torch.rand(2, 1, 16, 16)
    model._show(model.growth.at(0))  # 4×4
    expected = F.interpolate(F.avg_pool2d(x, 4), scale_factor=4, mode="nearest")
    torch.testing.assert_close(model.reals_at_current_resolution(x), expected)
    model._show(model.growth.at(24))  # fading in 8×8 with α = 0.5
    assert (model.growth_state.resolution, model.growth_state.alpha) == (8, 0.5)
    x8 = F.avg_pool2d(x, 2)
    blurred = F.interpolate(F.avg_pool2d(x8, 2), scale_factor=2, mode="nearest")
    expected = F.interpolate(0.5 * blurred + 0.5 * x8, scale_factor=2, mode="nearest")
    torch.testing.assert_close(model.reals_at_current_resolution(x), expected)


def test_training_follows_the_schedule_in_images(digits, trainer_factory):
    # phases of 16 images, 8 images per step: 4×4 for two steps, then the 8×8 fade-in
    model = build_tiny("ProGAN")
    seen = []
    model.generator.register_forward_pre_hook(lambda m, _: seen.append((m.stage, m.alpha)))
    trainer_factory(limit_train_batches=5).fit(model, datamodule=digits)  # loader batches of 16
    assert model.images_seen == 5 * 8  # each step takes the scheduled batch, not the loader's
    # two G passes a step (D's fake batch, then G's own: fresh latents, as in the authors' code)
    assert seen == [state for state in [(0, 1.0), (0, 1.0), (1, 0.0), (1, 0.5), (1, 1.0)] for _ in range(2)]
    assert (model.growth_state.resolution, model.growth_state.alpha) == (8, 1.0)  # ready for step 6
    assert model.generator_ema.module.stage == model.discriminator.stage == 1


def test_optimizer_moments_restart_with_each_phase(digits, trainer_factory):
    model = build_tiny("ProGAN")
    trainer = trainer_factory(limit_train_batches=2)
    trainer.fit(model, datamodule=digits)  # 16 images: the 8×8 fade-in is next
    g_opt, d_opt = trainer.optimizers
    assert len(g_opt.state) == 0 and len(d_opt.state) == 0
    model = build_tiny("ProGAN", reset_optimizer_state=False)
    trainer = trainer_factory(limit_train_batches=2)
    trainer.fit(model, datamodule=digits)
    assert len(trainer.optimizers[0].state) > 0


def test_a_batch_smaller_than_the_schedule_is_a_clear_error(digits, trainer_factory):
    model = build_tiny("ProGAN", batch_sizes={4: 32, 8: 8, 16: 8})
    with pytest.raises(
        ValueError, match=r"batches of 32 at 4×4 .* gives 16; set data.batch_size to at least 32"
    ):
        trainer_factory(limit_train_batches=1).fit(model, datamodule=digits)


def test_validation_sees_reals_at_the_current_resolution(trainer_factory):
    from gan_zoo.data import Digits

    model = build_tiny("ProGAN")
    seen = []
    model.discriminator.register_forward_pre_hook(lambda _, inputs: seen.append(inputs[0]))
    data = Digits(image_size=16, batch_size=16, val_split=0.1)
    trainer = trainer_factory(limit_val_batches=1)
    trainer.validate(model, datamodule=data)
    assert torch.isfinite(trainer.callback_metrics["val/d_loss"])
    real = seen[0]  # at 4×4, pooled then upsampled: constant over each 4×4 block
    torch.testing.assert_close(real, F.interpolate(F.avg_pool2d(real, 4), scale_factor=4, mode="nearest"))


def test_checkpoint_holds_the_growth_state(digits, trainer_factory, tmp_path):
    model = build_tiny("ProGAN")
    trainer = trainer_factory(limit_train_batches=3)
    trainer.fit(model, datamodule=digits)
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    saved = torch.load(tmp_path / "m.ckpt", weights_only=False)["progressive_growing"]
    assert saved == {"images_seen": 24, "resolution": 8, "alpha": 0.5}
    restored = ProGAN.load_from_checkpoint(tmp_path / "m.ckpt")
    assert restored.growth_state == model.growth_state and restored.images_seen == 24
    assert (restored.generator_ema.module.stage, restored.generator_ema.module.alpha) == (1, 0.5)
    z = model.fixed_noise[:4]
    assert torch.equal(restored.sample(z=z), model.sample(z=z))


def test_gan_zoo_fit_resumes_mid_growth_at_the_same_stage_and_alpha(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    steps: list[tuple[int, int, float]] = []
    original = ProGAN.training_step

    def recording(self, batch, batch_idx):
        steps.append((self.images_seen, self.growth_state.resolution, self.growth_state.alpha))
        return original(self, batch, batch_idx)

    monkeypatch.setattr(ProGAN, "training_step", recording)
    args = [
        "fit", "--config", str(REPO / "experiments" / "progan" / "digits.yaml"),
        "--model.latent_dim", "8", "--model.fmap_base", "32", "--model.fmap_max", "8",
        "--model.phase_images", "64", "--model.batch_sizes", "{4: 16, 8: 16, 16: 16}",
        "--data.batch_size", "16", "--trainer.limit_train_batches", "6",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
    ]  # fmt: skip
    main([*args, "--trainer.max_epochs", "1"])  # 96 images: halfway through the 8×8 fade-in
    checkpoint = tmp_path / "runs" / "progan-digits" / "version_0" / "checkpoints" / "last.ckpt"
    saved = torch.load(checkpoint, weights_only=False)["progressive_growing"]
    assert saved == {"images_seen": 96, "resolution": 8, "alpha": 0.5}

    steps.clear()
    main([*args, "--trainer.max_epochs", "2", "--ckpt_path", str(checkpoint)])
    assert steps[0] == (96, 8, 0.5)  # the first step after resuming: same stage, same α
    assert steps[-1] == (176, 8, 1.0)  # and the schedule carries on from there (8×8 stable)
