"""Behaviour every registered model must show; parametrized over ``MODELS`` so new models are covered."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import IMAGE_SHAPE, NUM_CLASSES, OWN_INTERFACE, TINY, build_tiny, tiny_data

from gan_zoo.models import MODELS

ALL = MODELS.names()
LATENT_VECTOR = [name for name in ALL if name not in OWN_INTERFACE]


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> bool:
    return any(not torch.equal(before[name], p) for name, p in module.named_parameters())


def test_every_model_has_a_tiny_config():
    assert set(ALL) == set(TINY), "add a tiny config for each new model to tests/conftest.py"


@pytest.mark.parametrize("name", ALL)
def test_fit_updates_both_networks(name, trainer_factory):
    model = build_tiny(name)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    trainer_factory().fit(model, datamodule=tiny_data(name))
    assert changed(g_before, model.generator)
    assert changed(d_before, model.discriminator)


@pytest.mark.parametrize("name", ALL)
def test_discriminator_phase_leaves_the_generator_alone(name, trainer_factory):
    # n_critic = 2 and one batch: only the D update happens.
    model = build_tiny(name, n_critic=2)
    g_before, d_before = snapshot(model.generator), snapshot(model.discriminator)
    trainer_factory(limit_train_batches=1).fit(model, datamodule=tiny_data(name))
    assert changed(d_before, model.discriminator)
    assert not changed(g_before, model.generator)


@pytest.mark.parametrize("name", ALL)
def test_each_update_writes_only_its_own_gradients(name, trainer_factory):
    """At every optimizer step the owner has fresh gradients and the other network's are exactly
    what its own last update left (or None before it has stepped): no backward writes them."""
    import pytorch_lightning as pl

    def grads(network: torch.nn.Module) -> list[torch.Tensor | None]:
        return [None if p.grad is None else p.grad.clone() for p in network.parameters()]

    def same(a: list, b: list) -> bool:
        return all((x is None and y is None) or (x is not None and y is not None and torch.equal(x, y))
                   for x, y in zip(a, b, strict=True))  # fmt: skip

    owners: list[str] = []
    untouched: list[bool] = []

    class Record(pl.Callback):
        def __init__(self) -> None:
            self.left = {"generator": None, "discriminator": None}  # grads at each network's last step

        def on_before_optimizer_step(self, trainer, pl_module, optimizer):
            owner = pl_module.network_of(optimizer)
            other = "discriminator" if owner == "generator" else "generator"
            networks = {"generator": pl_module.generator, "discriminator": pl_module.discriminator}
            now = grads(networks[other])
            before = self.left[other] if self.left[other] is not None else [None] * len(now)
            untouched.append(same(now, before))
            owners.append(owner)
            assert any(g is not None for g in grads(networks[owner]))
            self.left[owner] = grads(networks[owner])

    model = build_tiny(name)
    trainer_factory(callbacks=[Record()]).fit(model, datamodule=tiny_data(name))
    assert owners == ["discriminator", "generator"] * 2
    assert all(untouched)


@pytest.mark.parametrize("name", ALL)
def test_sample_shape_and_range(name):
    model = build_tiny(name)
    images = model.sample(5)
    assert images.shape == (5, *IMAGE_SHAPE)
    assert images.min() >= -1 and images.max() <= 1
    assert model.generator.training, "sample() must restore the training mode"


@pytest.mark.parametrize("name", ALL)
def test_sample_is_reproducible_with_a_generator(name):
    model = build_tiny(name)
    a = model.sample(4, generator=torch.Generator().manual_seed(3))
    b = model.sample(4, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("name", ALL)
def test_checkpoint_round_trip_gives_identical_samples(name, trainer_factory, tmp_path):
    model = build_tiny(name)
    trainer = trainer_factory()
    trainer.fit(model, datamodule=tiny_data(name))
    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    restored = MODELS.get(name).load_from_checkpoint(path)
    assert torch.equal(restored.fixed_noise, model.fixed_noise)
    assert torch.equal(restored.fixed_labels, model.fixed_labels)
    seed = torch.Generator().manual_seed(0)
    expected = model.sample(6, generator=seed)
    assert torch.equal(restored.sample(6, generator=torch.Generator().manual_seed(0)), expected)


@pytest.mark.parametrize("name", LATENT_VECTOR)
def test_fixed_noise_is_a_checkpointed_buffer(name):
    model = build_tiny(name)
    state = model.state_dict()
    assert "fixed_noise" in state and "fixed_labels" in state
    rows = NUM_CLASSES if model.conditional else 8
    assert model.fixed_noise.shape == (rows * 8, 8)


def test_load_from_checkpoint_in_a_fresh_process(digits, trainer_factory, tmp_path):
    model = build_tiny("DCGAN")
    trainer = trainer_factory()
    trainer.fit(model, datamodule=digits)
    path = tmp_path / "dcgan.ckpt"
    trainer.save_checkpoint(path)
    expected = model.sample(z=model.fixed_noise)
    torch.save(expected, tmp_path / "expected.pt")
    script = (
        "import sys, torch\n"
        "from gan_zoo import DCGAN\n"
        f"m = DCGAN.load_from_checkpoint(r'{path}')\n"
        f"expected = torch.load(r'{tmp_path / 'expected.pt'}')\n"
        "sys.exit(0 if torch.equal(m.sample(z=m.fixed_noise), expected) else 1)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


@pytest.mark.parametrize("name", [n for n in ALL if MODELS.get(n).conditional])
def test_conditional_models_need_classes(name):
    with pytest.raises(ValueError, match="class-conditional and needs labelled data"):
        build_tiny(name, num_classes=None)


@pytest.mark.parametrize("name", [n for n in ALL if MODELS.get(n).conditional])
def test_conditional_samples_follow_the_label(name):
    model = build_tiny(name)
    z = model.sample_latent(1).expand(2, -1)
    images = model.sample(z=z, y=torch.tensor([0, 1]))
    assert not torch.equal(images[0], images[1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        model.sample(2, y=torch.tensor([0, 10]))


@pytest.mark.parametrize("name", [n for n in LATENT_VECTOR if not MODELS.get(n).conditional])
def test_unconditional_models_refuse_labels(name):
    with pytest.raises(ValueError, match="unconditional"):
        build_tiny(name).sample(2, y=1)


@pytest.mark.parametrize("name", LATENT_VECTOR)
def test_networks_are_plain_modules(name):
    model = build_tiny(name)
    z = torch.randn(3, 8)
    y = torch.tensor([0, 1, 2])
    args = (y,) if model.conditional else ()
    images = model.generator(z, *args)
    assert images.shape == (3, *IMAGE_SHAPE)
    assert isinstance(model.discriminator, torch.nn.Module)
    assert model.discriminate(images, *args).shape == (3,)  # one real/fake score per image
