"""SinGAN: the pyramid, the noise-amplitude rule, the reconstruction path, freezing, resuming at a
scale, arbitrary sizes and the applications."""

from __future__ import annotations

import itertools
import math

import pytest
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from conftest import make_trainer

from gan_zoo.cli import main
from gan_zoo.data import SingleImage
from gan_zoo.data.single_image import resize
from gan_zoo.losses import PixelGradientPenalty, Wasserstein
from gan_zoo.models import SinGAN
from gan_zoo.models.singan import pyramid_sizes, scale_widths, soft_mask


def tiny(**overrides) -> SinGAN:
    """Two scales, (12, 12) and (16, 16), one D and one G update per iteration."""
    kwargs = {"image_shape": (1, 16, 16), "min_size": 12, "width": 8, "iterations_per_scale": 2}
    return SinGAN(**{**kwargs, "n_critic": 1, "g_steps": 1, **overrides})


def image_data(steps_per_epoch: int = 4) -> SingleImage:
    return SingleImage(image="camera", max_size=16, channels=1, steps_per_epoch=steps_per_epoch)


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.state_dict().items()}


def same(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return all(torch.equal(before[name], p) for name, p in module.state_dict().items())


class RecordScale(pl.Callback):
    def __init__(self):
        self.scales: list[int] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.scales.append(pl_module.scale)


# ------------------------------------------------------------------------------------ the pyramid
def test_pyramid_sizes_match_hand_computed_values():
    # 64×96, r = 0.75, coarsest 25: N = ⌈log(25/64) / log 0.75⌉ = ⌈3.27⌉ = 4 downscalings, and the
    # factor becomes (25/64)^(1/4) = 0.7906, so the scales are 64·0.7906^(4−n) × 96·0.7906^(4−n).
    assert pyramid_sizes(64, 96) == [(25, 38), (32, 47), (40, 60), (51, 76), (64, 96)]
    # 250×167 (the paper's size): ⌈log(25/167) / log 0.75⌉ = ⌈6.60⌉ = 7 → 8 scales, coarsest side 25.
    sizes = pyramid_sizes(167, 250)
    assert len(sizes) == 8 and sizes[0] == (25, 37) and sizes[-1] == (167, 250)
    assert all(a < b for (a, _), (b, _) in itertools.pairwise(sizes))
    assert pyramid_sizes(20, 30, min_size=25) == [(20, 30)]  # already small: one scale


def test_widths_double_every_four_scales_up_to_the_cap():
    assert scale_widths(10) == [32, 32, 32, 32, 64, 64, 64, 64, 128, 128]
    assert scale_widths(13, width=32, max_width=64)[-1] == 64


def test_paper_defaults():
    model = SinGAN()
    assert model.effective_scale_factor == pytest.approx((25 / 167) ** (1 / 7))
    assert isinstance(model.loss, Wasserstein)
    assert isinstance(model.regularizers[0], PixelGradientPenalty) and model.regularizers[0].weight == 0.1
    assert (model.iterations_per_scale, model.n_critic, model.g_steps) == (2000, 3, 3)
    assert (model.reconstruction_weight, model.noise_amplitude) == (10.0, 0.1)
    g_opt, d_opt = model.configure_optimizers()[0]
    assert g_opt.defaults["lr"] == 5e-4 and g_opt.defaults["betas"] == (0.5, 0.999)
    assert len(g_opt.param_groups) == len(d_opt.param_groups) == model.num_scales


def test_generator_is_residual_and_discriminator_scores_11x11_patches():
    model = tiny()
    previous = torch.randn(2, 1, 12, 12)
    with torch.no_grad():
        model.generator[0].body[-2].weight.zero_()
        model.generator[0].body[-2].bias.zero_()  # ψ = tanh(0) = 0 → G(x, x̃↑) = x̃↑
        out = model.generator[0](torch.randn(2, 1, 12, 12), previous)
    assert torch.equal(out, previous)
    assert model.discriminator[1](torch.randn(3, 1, 16, 16)).shape == (3, 1, 6, 6)


# ------------------------------------------------------------------------------------ training
def test_noise_amplitude_is_proportional_to_the_reconstruction_rmse(tmp_path):
    model = tiny(iterations_per_scale=1, noise_amplitude=0.1)
    make_trainer(tmp_path, limit_train_batches=2).fit(model, datamodule=image_data())
    assert model.scale == 1
    assert model.noise_amplitudes[0] == 1.0  # σ at the coarsest scale
    image = model.reference
    model.generator.eval()
    with torch.no_grad():
        z_star = model.reconstruction_noise
        coarse = model.generator[0](z_star, torch.zeros_like(z_star))  # G_0(z*), σ_0 = 1
    upsampled = resize(coarse, (16, 16))
    expected = 0.1 * torch.sqrt(torch.mean((resize(image, (16, 16)) - upsampled) ** 2))
    assert model.noise_amplitudes[1].item() == pytest.approx(expected.item(), rel=1e-5)


def test_reconstruction_path_is_deterministic_and_follows_the_fixed_noise(tmp_path):
    model = tiny(iterations_per_scale=1)
    trainer = make_trainer(tmp_path, limit_train_batches=2)
    trainer.fit(model, datamodule=image_data())
    first, second = model.reconstruct(), model.reconstruct()
    assert torch.equal(first, second)
    model.generator.eval()
    with torch.no_grad():  # {z*, 0}: G_1(0 · σ_1 + x̃↑, x̃↑) on top of G_0(z*)
        coarse = model.generator[0](model.reconstruction_noise, torch.zeros(1, 1, 12, 12))
        up = resize(coarse, (16, 16))
        expected = model.generator[1](up, up).clamp(-1, 1)
    assert torch.allclose(first, expected, atol=1e-6)
    assert not torch.equal(model.sample(1, generator=torch.Generator().manual_seed(0)), first)
    trainer.save_checkpoint(tmp_path / "m.ckpt")
    assert torch.equal(SinGAN.load_from_checkpoint(tmp_path / "m.ckpt").reconstruct(), first)


def test_reconstruction_loss_is_alpha_times_mse(tmp_path):
    model = tiny()
    model._prepare_scale(torch.rand(1, 1, 16, 16) * 2 - 1)
    step = model.make_step(model.reference)
    terms = model.generator_step(step)
    with torch.no_grad():
        rebuilt = model.generator[0](model.reconstruction_noise, torch.zeros(1, 1, 12, 12))
    mse = F.mse_loss(rebuilt, resize(model.reference, (12, 12)))
    assert terms["reconstruction"].item() == pytest.approx(mse.item(), rel=1e-5)
    adversarial = -model.discriminate(step.fake).mean()
    assert terms["loss"].item() == pytest.approx((adversarial + 10 * mse).item(), rel=1e-5)


def test_earlier_scales_are_frozen_while_the_next_one_trains(tmp_path):
    model = tiny(iterations_per_scale=2)
    make_trainer(tmp_path, limit_train_batches=2).fit(model, datamodule=image_data())  # scale 0 done
    g0, d0, g1_initial = (
        snapshot(model.generator[0]),
        snapshot(model.discriminator[0]),
        snapshot(model.generator[1]),
    )
    flags: list[tuple[bool, bool]] = []

    class Flags(pl.Callback):
        def on_before_optimizer_step(self, trainer, pl_module, optimizer):
            flags.append(
                (
                    any(p.requires_grad for p in pl_module.generator[0].parameters()),
                    pl_module.generator[0].training,
                )
            )

    make_trainer(tmp_path, limit_train_batches=2, callbacks=[Flags()]).fit(model, datamodule=image_data())
    assert model.scale == 1
    assert same(g0, model.generator[0]) and same(d0, model.discriminator[0])
    assert not same(g1_initial, model.generator[1])  # the scale being trained learns
    assert flags and all(f == (False, False) for f in flags)  # frozen and in eval mode


def test_a_scale_starts_from_the_weights_of_the_one_below_when_widths_match():
    model = tiny(iterations_per_scale=1)
    model.scale_updates = 1  # scale 0 is done
    model._prepare_scale(torch.rand(1, 1, 16, 16))
    assert model.scale == 1 and same(snapshot(model.generator[0]), model.generator[1])
    assert same(snapshot(model.discriminator[0]), model.discriminator[1])


def test_training_stops_after_the_finest_scale(tmp_path):
    model = tiny(iterations_per_scale=1, n_critic=2, g_steps=3)
    recorder = RecordScale()
    trainer = make_trainer(tmp_path, max_epochs=-1, limit_train_batches=None, callbacks=[recorder])
    trainer.fit(model, datamodule=image_data(steps_per_epoch=3))
    # 2 scales × 1 iteration × n_critic = 4 D updates and 2 × 1 × 3 = 6 G updates, then one batch to stop
    assert recorder.scales == [0, 0, 1, 1, 1]
    assert model.updates == {"discriminator": 4, "generator": 6}
    assert (model.scale, model.scale_updates) == (1, 2)


def test_learning_rate_drops_at_the_milestone_of_each_scale(tmp_path):
    model = tiny(iterations_per_scale=3, lr_milestone=2)
    trainer = make_trainer(tmp_path, limit_train_batches=2)
    trainer.fit(model, datamodule=image_data())
    for optimizer in trainer.optimizers:
        assert [group["lr"] for group in optimizer.param_groups] == pytest.approx([5e-5, 5e-4])


def test_resume_continues_at_the_saved_scale(tmp_path):
    model = tiny(iterations_per_scale=2)
    trainer = make_trainer(tmp_path, limit_train_batches=3)
    trainer.fit(model, datamodule=image_data())  # scale 0: 2 updates, scale 1: 1 update
    path = tmp_path / "mid.ckpt"
    trainer.save_checkpoint(path)
    assert torch.load(path, weights_only=False)["singan"] == {"scale": 1, "scale_updates": 1}
    g0 = snapshot(model.generator[0])

    resumed, recorder = tiny(iterations_per_scale=2), RecordScale()
    trainer = make_trainer(tmp_path, max_epochs=-1, limit_train_batches=None, callbacks=[recorder])
    trainer.fit(resumed, datamodule=image_data(), ckpt_path=path)
    assert recorder.scales[0] == 1  # not back at the coarsest scale
    assert (resumed.scale, resumed.scale_updates) == (1, 2)  # one more update finished scale 1
    assert same(g0, resumed.generator[0])
    assert torch.equal(resumed.noise_amplitudes, model.noise_amplitudes)


@pytest.mark.slow
def test_gan_zoo_fit_resumes_in_the_second_scale_bit_identical(tmp_path, monkeypatch):
    """Through the CLI, from the step checkpoint written after epoch 0's last batch (scale 1 has had one
    update): the resumed run goes on at scale 1 and ends with the uninterrupted run's exact tensors,
    although Lightning skips that epoch's end hooks on resume (the sample grid drew SinGAN noise there)."""
    monkeypatch.chdir(tmp_path)
    args = [
        "fit", "--seed_everything", "0", "--model", "SinGAN", "--model.min_size", "12",
        "--model.width", "8", "--model.iterations_per_scale", "3", "--model.n_critic", "1",
        "--model.g_steps", "1", "--data", "SingleImage", "--data.image", "camera",
        "--data.max_size", "16", "--data.channels", "1", "--data.steps_per_epoch", "4",
        "--trainer.max_epochs", "-1", "--trainer.deterministic", "true",
        "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
        "--checkpoint.every_n_train_steps", "1", "--checkpoint.save_top_k", "-1",
    ]  # fmt: skip
    main(args)  # uninterrupted: 3 updates of scale 0, 3 of scale 1, 2 optimizer steps each
    runs = tmp_path / "runs" / "singan-singleimage"
    step_checkpoint = runs / "version_0" / "checkpoints" / "epoch=0-step=8.ckpt"
    assert torch.load(step_checkpoint, weights_only=True)["singan"] == {"scale": 1, "scale_updates": 1}
    main([*args, "--ckpt_path", str(step_checkpoint)])  # a new run directory, version_1
    expected, resumed = (
        torch.load(runs / version / "checkpoints" / "last.ckpt", weights_only=True)
        for version in ("version_0", "version_1")
    )
    assert resumed["global_step"] == expected["global_step"] == 12
    assert resumed["singan"] == expected["singan"]
    assert [
        k for k, v in expected["state_dict"].items() if not torch.equal(v, resumed["state_dict"][k])
    ] == []
    for a, b in zip(expected["optimizer_states"], resumed["optimizer_states"], strict=True):
        for p, slots in a["state"].items():
            assert all(torch.equal(v, b["state"][p][k]) for k, v in slots.items())


def test_batches_of_another_image_size_are_refused():
    with pytest.raises(ValueError, match=r"built for images \(1, 16, 16\)"):
        tiny()._prepare_scale(torch.zeros(1, 1, 20, 20))
    with pytest.raises(ValueError, match="min_size must be >= 11"):
        tiny(min_size=8)


# ------------------------------------------------------------------------------------ generation
def test_samples_of_any_size_and_aspect_ratio():
    model = tiny()
    model.scale = 1  # both scales active
    assert model.sample(2, size=(16, 40)).shape == (2, 1, 16, 40)
    assert model.sample(3, size=(30, 12)).shape == (3, 1, 30, 12)
    wide = model.sample(z=torch.randn(2, 1, 12, 24))  # a noise map twice as wide → an image twice as wide
    assert wide.shape == (2, 1, 16, 32)
    assert model.sample(1).shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match="not both"):
        model.sample(z=torch.randn(1, 1, 12, 12), size=(16, 16))


def test_samples_from_a_finer_scale_keep_the_coarse_reconstruction():
    model = tiny()
    model.scale = 1
    g = torch.Generator().manual_seed(0)
    a, b = model.sample(2, start_scale=1, generator=g).unbind(0)
    assert not torch.equal(a, b)  # the finest scale still varies
    model.noise_amplitudes[1] = 0.0  # without noise at scale 1, starting there is the reconstruction
    assert torch.allclose(model.sample(1, start_scale=1), model.reconstruct())
    with pytest.raises(ValueError, match=r"start_scale must be in \[0, 1\]"):
        model.sample(1, start_scale=2)


def test_scales_not_trained_yet_pass_the_image_through():
    model = tiny()  # scale 0 only
    g = torch.Generator().manual_seed(1)
    z = model.sample_latent(2, generator=g)
    model.generator.eval()
    with torch.no_grad():
        expected = resize(model.generator[0](z, torch.zeros_like(z)), (16, 16)).clamp(-1, 1)
    assert torch.allclose(model.sample(z=z), expected)


def test_injection_blends_into_the_image_where_the_mask_is():
    model = tiny()
    model.scale = 1
    image = torch.rand(1, 1, 16, 16) * 2 - 1
    outside = model.inject(image, 1, mask=torch.zeros(16, 16))
    assert torch.allclose(outside, image)  # mask 0: the image itself
    seed = 3
    pure = model.inject(image, 1, generator=torch.Generator().manual_seed(seed))
    inside = model.inject(image, 1, mask=torch.ones(16, 16), generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(inside, pure)
    assert model.inject(image, 1, n=3).shape == (3, 1, 16, 16)
    assert model.harmonize(image[0], torch.ones(8, 8), 1).shape == (1, 1, 16, 16)
    with pytest.raises(ValueError, match=r"scale must be in \[1, 1\]"):
        model.paint_to_image(image, 0)


def test_super_resolution_repeats_the_finest_generator():
    model = tiny()
    model.scale = 1
    r = model.effective_scale_factor  # 12/16 = 0.75
    assert r == pytest.approx(0.75)
    calls = []
    model.generator[1].register_forward_hook(lambda module, args, out: calls.append(out.shape))
    out = model.super_resolve(torch.zeros(1, 1, 16, 16), factor=2.0)
    steps = round(math.log(2.0) / math.log(1 / r))  # 2.41 → 2 passes of ×√2
    assert out.shape == (1, 1, 32, 32) and len(calls) == steps
    assert calls[0] == (1, 1, 23, 23)


def test_soft_mask_dilates_with_a_disk_then_blurs():
    mask = torch.zeros(7, 7)
    mask[3, 3] = 1
    dilated = soft_mask(mask, (7, 7), dilation=1)[0, 0]
    assert dilated.sum() == 5 and dilated[3, 2] == 1 and dilated[2, 2] == 0  # a radius-1 disk: a plus
    blurred = soft_mask(mask, (7, 7), dilation=1, blur=1.0)[0, 0]
    assert 0 < blurred[2, 2] < 1 and blurred[3, 3] < 1
