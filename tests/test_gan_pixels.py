"""GAN and CGAN: the discriminator reads pixels on the paper's [0, 1] scale (pylearn2's MNIST)."""

from __future__ import annotations

import torch

from gan_zoo.models import CGAN, GAN


def _first_layer_input(discriminator: torch.nn.Module, layer: torch.nn.Module, x, *args) -> torch.Tensor:
    seen = []
    handle = layer.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    discriminator.eval()(x, *args)
    handle.remove()
    return seen[0]


def test_gan_discriminator_sees_black_as_0_and_white_as_1():
    model = GAN(image_shape=(1, 2, 2), g_hidden=4, d_hidden=3, d_pieces=2)
    x = torch.tensor([[[[-1.0, 1.0], [0.0, 0.5]]]])  # black, white, grey, light grey in [-1, 1]
    first = next(m for m in model.discriminator.modules() if hasattr(m, "weight"))
    assert torch.equal(
        _first_layer_input(model.discriminator, first, x), torch.tensor([[0.0, 1.0, 0.5, 0.75]])
    )


def test_cgan_discriminator_sees_black_as_0_and_white_as_1():
    model = CGAN(image_shape=(1, 2, 2), num_classes=3)
    x = torch.tensor([[[[-1.0, 1.0], [0.0, 0.5]]]])
    first = next(m for m in model.discriminator.x_path.modules() if hasattr(m, "weight"))
    seen = _first_layer_input(model.discriminator, first, x, torch.tensor([2]))
    assert torch.equal(seen.flatten(1), torch.tensor([[0.0, 1.0, 0.5, 0.75]]))
