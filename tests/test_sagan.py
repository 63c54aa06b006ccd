"""SAGAN: spectral norm everywhere, attention where asked, TTUR, hinge, conditional projection D."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import build_tiny
from hand_computed import numpy_batch_norm
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


class FixedFeatures(nn.Module):
    """A stand-in for D's last block: the same known feature maps whatever its input."""

    def __init__(self, maps: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("maps", maps)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.maps


def test_conditional_sagan_needs_classes_and_its_generator_reads_the_label():
    with pytest.raises(ValueError, match="class-conditional and needs labelled data"):
        build_tiny("SAGAN", conditional=True, num_classes=None)
    model = build_tiny("SAGAN", conditional=True)
    assert model.conditional and not SAGAN.conditional
    z = model.sample_latent(1).expand(2, -1)
    images = model.sample(z=z, y=torch.tensor([0, 1]))
    assert torch.equal(
        images[0], images[1]
    )  # every class's γ = 1, β = 0 at init: the label has no effect yet
    with torch.no_grad():  # once the class tables have learned something, it does
        for norm in (m for m in model.generator.modules() if isinstance(m, ConditionalBatchNorm2d)):
            norm.bias.weight.normal_()
    images = model.sample(z=z, y=torch.tensor([0, 1]))
    assert not torch.equal(images[0], images[1])


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([3, 7], [1.5 + 10.0, -1.5 + 3.0]),  # e₃·φ₀ = 2·3 + 1·4, e₇·φ₁ = −1·1 + 1·4
        ([7, 3], [1.5 - 1.0, -1.5 + 2.0]),  # e₇·φ₀ = −3 + 2, e₃·φ₁ = 2·1
        ([0, 0], [1.5, -1.5]),  # a zero embedding leaves ψ(φ(x))
    ],
)
def test_projection_discriminator_adds_the_label_embedding_times_the_features(labels, expected):
    # Miyato & Koyama 2018, Eq. (3): D(x, y) = yᵀVφ(x) + ψ(φ(x)), φ(x) = Σ_positions ReLU(h(x)).
    model = build_tiny("SAGAN", conditional=True)
    d = model.discriminator
    maps = torch.tensor(
        [
            [[1, 2, -5, 0], [0.5, 0.5, 0.5, 0.5], [-1, -1, -1, -1], [4, 0, 0, 0]],  # φ₀ = (3, 2, 0, 4)
            [[0, 0, 0, 1], [-3, 1, 1, 2], [2, 0, 0, 0], [0, 0, 0, 0]],  # φ₁ = (1, 4, 2, 0)
        ]
    ).view(2, 4, 2, 2)
    d.last_block = FixedFeatures(maps)
    d.linear = nn.Linear(4, 1)  # ψ(φ) = (1, −1, 0.5, 0)·φ + 0.5: ψ(φ₀) = 1.5, ψ(φ₁) = −1.5
    d.embed = nn.Embedding(10, 4)
    with torch.no_grad():
        d.linear.weight.copy_(torch.tensor([[1.0, -1.0, 0.5, 0.0]]))
        d.linear.bias.fill_(0.5)
        d.embed.weight.zero_()
        d.embed.weight[3] = torch.tensor([2.0, 0.0, 0.0, 1.0])
        d.embed.weight[7] = torch.tensor([-1.0, 1.0, 0.0, 0.0])
    logits = model.discriminate(torch.randn(2, 1, 16, 16), torch.tensor(labels))
    assert logits.tolist() == pytest.approx(expected)


def test_every_conditional_batch_norm_is_plain_batch_norm_at_init():
    # SAGAN's code: per-class gamma = 1, beta = 0 (not Glorot-initialized like the convolutions)
    torch.manual_seed(0)
    norms = [
        m
        for m in build_tiny("SAGAN", conditional=True).generator.modules()
        if isinstance(m, ConditionalBatchNorm2d)
    ]
    assert len(norms) == 4  # two per up-block
    for norm in norms:
        assert not norm.gain.weight.any() and not norm.bias.weight.any()
        channels = norm.gain.out_features
        x = torch.randn(5, channels, 4, 4) * 2 + 3
        classes = F.one_hot(torch.tensor([0, 3, 9, 3, 1]), 10).float()
        expected = numpy_batch_norm(x.double().numpy(), norm.norm.eps)
        np.testing.assert_allclose(norm(x, classes).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


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
