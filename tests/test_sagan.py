"""SAGAN: spectral norm everywhere, attention where asked, TTUR, hinge, conditional projection D."""

from __future__ import annotations

import pytest
import torch
from conftest import build_tiny
from torch import nn
from torch.nn.utils import parametrize

from gan_zoo.layers import ConditionalBatchNorm2d, SelfAttention2d
from gan_zoo.losses import Hinge
from gan_zoo.models import SAGAN


def weighted_layers(network: nn.Module) -> list[nn.Module]:
    return [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]


def attention_inputs(network: nn.Module, *args) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = []
    hooks = [
        m.register_forward_pre_hook(lambda _, inputs: shapes.append(tuple(inputs[0].shape[1:])))
        for m in network.modules()
        if isinstance(m, SelfAttention2d)
    ]
    network(*args)
    for hook in hooks:
        hook.remove()
    return shapes


def test_spectral_norm_on_every_layer_of_both_networks_but_the_class_tables():
    model = build_tiny("SAGAN", conditional=True)
    for network in (model.generator, model.discriminator):
        for layer in weighted_layers(network):
            in_class_table = any(
                layer in list(cbn.modules())
                for cbn in network.modules()
                if isinstance(cbn, ConditionalBatchNorm2d)
            )
            assert parametrize.is_parametrized(layer, "weight") != in_class_table, layer


def test_self_attention_sits_on_the_requested_feature_maps():
    model = SAGAN(image_shape=(1, 32, 32), latent_dim=8, g_width=2, d_width=2, attention_resolutions=(8, 16))
    z, x = torch.randn(2, 8), torch.randn(2, 1, 32, 32)
    assert [shape[1:] for shape in attention_inputs(model.generator, z)] == [(8, 8), (16, 16)]
    assert [shape[1:] for shape in attention_inputs(model.discriminator, x)] == [(16, 16), (8, 8)]
    assert all(m.gamma.item() == 0 for m in model.modules() if isinstance(m, SelfAttention2d))


def test_default_attention_is_at_32_or_half_the_image():
    for size, expected in [(128, 32), (64, 32), (32, 16), (16, 8)]:
        model = SAGAN(image_shape=(1, size, size), latent_dim=4, g_width=1, d_width=1)
        assert list(model.generator.trunk.attention) == [str(expected)]
        assert list(model.discriminator.attention) == [str(expected)]


def test_impossible_attention_resolutions_are_refused():
    with pytest.raises(ValueError, match=r"self-attention at \[32\] is impossible .* sizes \[8\]"):
        build_tiny("SAGAN", attention_resolutions=(32,))
    with pytest.raises(ValueError, match="power of two"):
        build_tiny("SAGAN", image_shape=(1, 24, 24))


def test_paper_defaults_hinge_and_ttur():
    model = build_tiny("SAGAN")
    assert isinstance(model.loss, Hinge)
    g_opt, d_opt = model.configure_optimizers()[0]
    assert (g_opt.defaults["lr"], d_opt.defaults["lr"]) == (1e-4, 4e-4)
    assert g_opt.defaults["betas"] == d_opt.defaults["betas"] == (0.0, 0.9)


def test_widths_follow_the_128px_network():
    model = SAGAN(image_shape=(3, 128, 128), latent_dim=4, g_width=1, d_width=1)
    up_blocks = model.generator.trunk.blocks
    assert [b.conv1.out_channels for b in up_blocks] == [16, 8, 4, 2, 1]  # 8×8 … 128×128
    assert model.generator.trunk.linear.out_features == 16 * 4 * 4
    assert [b.conv1.out_channels for b in model.discriminator.blocks] == [1, 2, 4, 8, 16]  # 64×64 … 4×4


def test_conditional_sagan_needs_classes_and_projects_labels_in_d():
    with pytest.raises(ValueError, match="class-conditional and needs labelled data"):
        build_tiny("SAGAN", conditional=True, num_classes=None)
    model = build_tiny("SAGAN", conditional=True)
    assert model.conditional and not SAGAN.conditional
    model.discriminator.eval()  # spectral norm's power iteration stays put between the calls below
    x = torch.randn(2, 1, 16, 16)
    phi = {}
    model.discriminator.last_block.register_forward_hook(
        lambda m, i, out: phi.update(h=out.relu().sum((2, 3)))
    )
    y = torch.tensor([3, 7])
    logits = model.discriminator(x, y)
    d = model.discriminator
    expected = d.linear(phi["h"]).squeeze(1) + (d.embed(y) * phi["h"]).sum(1)  # ψ(φ(x)) + embed(y)ᵀ φ(x)
    torch.testing.assert_close(logits, expected)
    assert not torch.allclose(logits, model.discriminator(x, torch.tensor([4, 1])))
    images = model.sample(z=model.sample_latent(1).expand(2, -1), y=torch.tensor([0, 1]))
    assert not torch.equal(images[0], images[1])


def test_conditional_sagan_round_trips_through_a_checkpoint(digits, trainer_factory, tmp_path):
    model = build_tiny("SAGAN", conditional=True)
    trainer = trainer_factory(limit_train_batches=1)
    trainer.fit(model, datamodule=digits)
    trainer.save_checkpoint(tmp_path / "sagan.ckpt")
    restored = SAGAN.load_from_checkpoint(tmp_path / "sagan.ckpt")
    assert restored.conditional and restored.fixed_labels.numel() == restored.fixed_noise.shape[0]
    labels = torch.tensor([2, 5, 9])
    z = model.fixed_noise[:3]
    assert torch.equal(restored.sample(z=z, y=labels), model.sample(z=z, y=labels))
