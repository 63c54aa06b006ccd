"""LSGAN (Mao et al. 2017): both codings through a model and from YAML, and the Figure 3 networks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from conftest import build_tiny
from torch import nn

from gan_zoo.core.step import Step
from gan_zoo.losses import LeastSquares
from gan_zoo.models import LSGAN

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("a", "b", "c"), [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)], ids=["0-1 (Eq. 9)", "-1/1/0 (Eq. 8)"]
)
@pytest.mark.parametrize("name", ["DCGAN", "LSGAN"])
def test_both_codings_through_a_model(name, a, b, c):
    model = build_tiny(name, loss=LeastSquares(a=a, b=b, c=c)).eval()
    real, fake = torch.rand(4, 1, 16, 16) * 2 - 1, torch.rand(4, 1, 16, 16) * 2 - 1
    d_real, d_fake = model.discriminate(real), model.discriminate(fake)
    # Eq. 2: min_D ½E(D(x) − b)² + ½E(D(G(z)) − a)²;  min_G ½E(D(G(z)) − c)²
    expected_d = 0.5 * ((d_real - b) ** 2).mean() + 0.5 * ((d_fake - a) ** 2).mean()
    expected_g = 0.5 * ((d_fake - c) ** 2).mean()
    step = Step(real, None, fake, None)
    assert model.discriminator_step(step)["loss"].item() == pytest.approx(expected_d.item(), rel=1e-5)
    assert model.generator_step(step)["loss"].item() == pytest.approx(expected_g.item(), rel=1e-5)


def test_lsgan_experiments_select_the_coding_from_yaml_alone():
    codings = set()
    for path in sorted((REPO / "experiments" / "lsgan").glob("*.yaml")):
        loss = yaml.safe_load(path.read_text())["model"]["init_args"]["loss"]
        assert loss["class_path"] == "gan_zoo.losses.LeastSquares", path
        codings.add(tuple(loss["init_args"][k] for k in "abc"))
    assert codings == {(0, 1, 1), (-1, 1, 0)}


def test_figure_3_generator_at_112():
    g = LSGAN().generator
    assert g.project.in_features == 1024 and g.project.out_features == 7 * 7 * 256
    deconvs = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in deconvs] == [256, 256, 256, 256, 128, 64, 3]
    assert [m.stride[0] for m in deconvs] == [2, 1, 2, 1, 2, 2, 1]
    assert all(m.kernel_size == (3, 3) for m in deconvs)
    assert g(torch.randn(2, 1024)).shape == (2, 3, 112, 112)


def test_figure_3_discriminator_at_112():
    d = LSGAN().discriminator
    convs = [m for m in d.net if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for m in convs] == [64, 128, 256, 512]
    assert all(m.kernel_size == (5, 5) and m.stride == (2, 2) for m in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.net) == 3  # none on the input layer
    assert d.net[-1].in_features == 512 * 7 * 7 and d.net[-1].out_features == 1
    assert not any(isinstance(m, nn.Sigmoid) for m in d.modules())  # D regresses codes
    assert d(torch.randn(2, 3, 112, 112)).shape == (2, 1)


def test_paper_defaults():
    model = LSGAN(image_shape=(1, 16, 16), g_width=4, d_width=4)
    assert isinstance(model.loss, LeastSquares) and (model.loss.a, model.loss.b, model.loss.c) == (0, 1, 1)
    assert model.latent_dim == 1024
    for opt in model.configure_optimizers()[0]:
        assert opt.defaults["lr"] == 1e-3 and opt.defaults["betas"] == (0.5, 0.999)


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 64, 48), (0, 32, 32)])
def test_sides_must_be_multiples_of_16(shape):
    with pytest.raises(ValueError, match="multiple of 16"):
        LSGAN(image_shape=shape)
