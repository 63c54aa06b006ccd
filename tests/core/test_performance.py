"""Speed switches (channels_last, compile, fused Adam) and the absence of per-step host syncs."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch
from conftest import build_tiny
from pytorch_lightning.callbacks import RichProgressBar

from gan_zoo.cli import build_cli
from gan_zoo.core.performance import Performance, apply_performance
from gan_zoo.data import Digits

#: Tensor methods that copy a value to the host: on a GPU each one waits for the queued kernels.
SYNCING_METHODS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__")


@contextlib.contextmanager
def count_host_reads(monkeypatch: pytest.MonkeyPatch):
    """Count every call of :data:`SYNCING_METHODS` on any tensor while the block runs."""
    calls: list[str] = []
    with monkeypatch.context() as patch:
        for name in SYNCING_METHODS:
            original = getattr(torch.Tensor, name)

            def counted(self, *args, _original=original, _name=name, **kwargs):
                calls.append(_name)
                return _original(self, *args, **kwargs)

            patch.setattr(torch.Tensor, name, counted)
        yield calls


def host_reads_during_fit(
    model, digits, trainer_factory, monkeypatch, batches: int, progress_bar: bool = False
) -> list[str]:
    # A logger that only writes at the end: per-step syncs would show up as reads growing with batches.
    trainer = trainer_factory(
        limit_train_batches=batches,
        log_every_n_steps=10_000,
        callbacks=[RichProgressBar()] if progress_bar else [],  # the bar gan-zoo fit shows
        enable_progress_bar=progress_bar,
    )
    digits.setup("fit")  # loading the data may read values; only the loop is under test
    with count_host_reads(monkeypatch) as calls:
        trainer.fit(model, datamodule=digits)
    return calls


def test_training_step_reads_nothing_back_from_the_device(digits, trainer_factory, monkeypatch):
    model = build_tiny("DCGAN", n_critic=2)  # batches with and without a G step
    calls: list[str] = []
    original_step = model.training_step

    def counted_step(*args, **kwargs):
        with count_host_reads(monkeypatch) as step_calls:
            original_step(*args, **kwargs)
        calls.extend(step_calls)

    monkeypatch.setattr(model, "training_step", counted_step)
    trainer_factory(limit_train_batches=4).fit(model, datamodule=digits)
    assert model.updates["discriminator"] == 4  # the patched step really ran
    assert calls == []


@pytest.mark.parametrize(("on_device", "progress_bar"), [(False, False), (True, False), (False, True)])
def test_fit_loop_adds_no_host_reads_per_batch(trainer_factory, monkeypatch, on_device, progress_bar):
    """Whatever Lightning reads back per epoch is fine; reads that grow with the batches are syncs."""
    reads = [
        host_reads_during_fit(
            build_tiny("DCGAN"),
            Digits(image_size=16, batch_size=16, on_device=on_device),
            trainer_factory,
            monkeypatch,
            batches,
            progress_bar,
        )
        for batches in (2, 6)
    ]
    assert len(reads[1]) == len(reads[0]), sorted(set(reads[1]))


def test_counter_sees_a_sync(monkeypatch):
    with count_host_reads(monkeypatch) as calls:
        bool(torch.ones(()) > 0)
        torch.ones(2).sum().item()
    assert calls == ["__bool__", "item"]


def test_channels_last_converts_weights_and_keeps_outputs():
    model = build_tiny("DCGAN")
    z, x = torch.randn(4, model.latent_dim), torch.rand(4, 1, 16, 16) * 2 - 1
    model.eval()
    before = model.generator(z), model.discriminator(x)
    apply_performance(model, channels_last=True)
    for network in (model.generator, model.discriminator):
        for weight in (p for p in network.parameters() if p.ndim == 4):
            assert weight.is_contiguous(memory_format=torch.channels_last)
    after = model.generator(z), model.discriminator(x)
    for old, new in zip(before, after, strict=True):
        torch.testing.assert_close(new, old, rtol=1e-4, atol=1e-5)


def test_compile_is_in_place_and_keeps_checkpoint_keys():
    model = build_tiny("DCGAN")
    keys = list(model.state_dict())
    apply_performance(model, compile=True)
    assert model.generator._compiled_call_impl is not None
    assert model.discriminator._compiled_call_impl is not None
    assert list(model.state_dict()) == keys  # no "_orig_mod." prefix: checkpoints stay interchangeable


def test_switches_are_off_by_default():
    model = build_tiny("DCGAN")
    apply_performance(model)
    assert model.generator._compiled_call_impl is None
    conv = next(p for p in model.discriminator.parameters() if p.ndim == 4 and p.shape[1] > 1)
    assert conv.is_contiguous() and not conv.is_contiguous(memory_format=torch.channels_last)


def test_performance_callback_applies_before_the_optimizers(digits, trainer_factory):
    model = build_tiny("DCGAN")
    before = [p.detach().clone() for p in model.discriminator.parameters()]
    trainer = trainer_factory(limit_train_batches=2, callbacks=[Performance(channels_last=True)])
    trainer.fit(model, datamodule=digits)
    conv = next(p for p in model.discriminator.parameters() if p.ndim == 4 and p.shape[1] > 1)
    assert conv.is_contiguous(memory_format=torch.channels_last)
    # the optimizer holds the converted parameters, so training still changed them
    assert any(not torch.equal(p, q) for p, q in zip(model.discriminator.parameters(), before, strict=True))


def test_default_optimizer_is_fused_adam_with_the_paper_settings():
    model = build_tiny("DCGAN")
    g_opt, d_opt = model.configure_optimizers()[0]
    for optimizer in (g_opt, d_opt):
        assert isinstance(optimizer, torch.optim.Adam)
        assert optimizer.defaults["fused"] is True
        assert optimizer.defaults["lr"] == 2e-4 and optimizer.defaults["betas"] == (0.5, 0.999)


def test_clipped_network_keeps_the_unfused_adam_lightning_can_clip():
    model = build_tiny("DCGAN", g_grad_clip=1.0)
    g_opt, d_opt = model.configure_optimizers()[0]
    assert not g_opt.defaults["fused"]  # Lightning cannot clip before a fused step unscales
    assert d_opt.defaults["fused"] is True


def test_bf16_layer_turns_on_bf16_mixed_with_channels_last(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    experiments = Path(__file__).parents[2] / "experiments"
    configs = [experiments / "_base" / "bf16.yaml", experiments / "quickstart.yaml"]
    cli = build_cli([arg for config in configs for arg in ("--config", str(config))], run=False)
    assert cli.trainer.precision == "bf16-mixed"
    (switches,) = [c for c in cli.trainer.callbacks if isinstance(c, Performance)]
    assert switches.channels_last and not switches.compile


AMD_AVX2 = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
SAPPHIRE_RAPIDS = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"
GRAVITON3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize(
    ("cpuinfo", "precision", "device", "warns"),
    [
        (AMD_AVX2, "bf16-mixed", "cpu", True),
        (AMD_AVX2, "bf16-true", "cpu", True),
        (AMD_AVX2, "32-true", "cpu", False),
        (AMD_AVX2, "bf16-mixed", "cuda", False),  # a GPU's bf16 is its own business
        (SAPPHIRE_RAPIDS, "bf16-mixed", "cpu", False),
        (GRAVITON3, "bf16-mixed", "cpu", False),
    ],
)
def test_bf16_on_a_cpu_without_bf16_instructions_gets_one_line(tmp_path, cpuinfo, precision, device, warns):
    from gan_zoo.core.performance import cpu_flags, slow_bf16_warning

    (tmp_path / "cpuinfo").write_text(cpuinfo)
    message = slow_bf16_warning(precision, device, cpu_flags(str(tmp_path / "cpuinfo")))
    assert (message is not None) == warns
    if warns:
        assert "\n" not in message and "32-true" in message


def test_no_warning_where_the_cpu_flags_are_unknown(tmp_path):
    from gan_zoo.core.performance import cpu_flags, slow_bf16_warning

    assert cpu_flags(str(tmp_path / "missing")) is None
    assert slow_bf16_warning("bf16-mixed", "cpu", None) is None


def test_a_bf16_fit_on_such_a_cpu_warns_once(digits, trainer_factory, monkeypatch):
    import gan_zoo.core.adversarial

    monkeypatch.setattr(gan_zoo.core.adversarial, "cpu_flags", lambda: {"avx2"})
    with pytest.warns(UserWarning, match="without bf16 instructions") as record:
        trainer_factory(limit_train_batches=1, precision="bf16-mixed").fit(
            build_tiny("DCGAN"), datamodule=digits
        )
    assert sum("bf16 instructions" in str(w.message) for w in record) == 1
