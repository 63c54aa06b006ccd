"""BigGAN: hierarchical latent, shared embedding, orthogonal regularization, EMA, truncation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import build_tiny
from hand_computed import numpy_batch_norm
from torch.nn.utils import parametrize

from gan_zoo.layers import ConditionalBatchNorm2d
from gan_zoo.losses import OrthogonalRegularization
from gan_zoo.models import BigGAN


def test_latent_is_split_into_one_chunk_per_resolution():
    model = BigGAN(image_shape=(3, 128, 128), num_classes=5, g_width=1, d_width=1, attention_resolutions=())
    chunks = model.generator.split_latent(torch.randn(2, 120))
    assert [c.shape[1] for c in chunks] == [20] * 6  # Appendix B: 120 = 6 × 20
    uneven = build_tiny("BigGAN").generator.split_latent(torch.arange(8.0).view(1, 8))
    assert [c.tolist()[0] for c in uneven] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    with pytest.raises(ValueError, match="latent_dim=2 is too small"):
        build_tiny("BigGAN", latent_dim=2)


def test_each_block_is_conditioned_on_the_shared_embedding_and_its_own_chunk():
    model = build_tiny("BigGAN")
    generator = model.generator
    z, y = torch.randn(3, 8), torch.tensor([1, 4, 9])
    seen: list[torch.Tensor] = []
    for block in generator.trunk.blocks:
        block.bn1.register_forward_pre_hook(lambda _, inputs: seen.append(inputs[1]))
    linear_input = []
    generator.trunk.linear.register_forward_pre_hook(lambda _, inputs: linear_input.append(inputs[0]))
    generator(z, y)
    z0, z1, z2 = generator.split_latent(z)
    assert torch.equal(linear_input[0], z0)
    shared = generator.shared(y)
    assert [torch.equal(c, torch.cat([shared, z_i], 1)) for c, z_i in zip(seen, (z1, z2), strict=True)] == [
        True
    ] * 2
    assert sum(isinstance(m, torch.nn.Embedding) for m in generator.modules()) == 1  # one table for all


def test_spectral_norm_everywhere_but_the_shared_embedding():
    model = build_tiny("BigGAN")
    assert not parametrize.is_parametrized(model.generator.shared)
    cbn = next(m for m in model.generator.modules() if isinstance(m, ConditionalBatchNorm2d))
    assert parametrize.is_parametrized(cbn.gain, "weight")  # BigGAN's code: SN on the projections
    assert parametrize.is_parametrized(model.discriminator.embed, "weight")


def test_conditional_norms_are_one_plus_an_orthogonal_projection_of_the_condition():
    # BigGAN's code (layers.ccbn): gain = 1 + W_γ c, bias = W_β c, c = [shared(y), z_i], with W_γ, W_β
    # spectrally normalized linear layers initialized orthogonally like every other layer of G. So,
    # unlike SAGAN's per-class tables, BigGAN's conditional norms are not plain batch norm at init:
    # the hierarchical z and the class modulate every block from the first step.
    torch.manual_seed(0)
    norms = [m for m in build_tiny("BigGAN").generator.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(norms) == 4
    for norm in norms:
        for projection in (norm.gain, norm.bias):
            projection.eval()  # spectral norm's power iteration stays put while W is read
            raw = projection.parametrizations.weight.original.detach().double()
            small = raw @ raw.T if raw.shape[0] <= raw.shape[1] else raw.T @ raw  # orthogonal: = I
            torch.testing.assert_close(small, torch.eye(len(small), dtype=torch.float64), atol=1e-6, rtol=0)
            # all singular values 1: spectral norm leaves an orthogonal W as it is
            torch.testing.assert_close(projection.weight.detach().double(), raw, rtol=1e-4, atol=1e-4)
        w_gain, w_bias = (
            norm.gain.weight.detach().double().numpy(),
            norm.bias.weight.detach().double().numpy(),
        )
        x, c = torch.randn(5, w_gain.shape[0], 4, 4), torch.randn(5, w_gain.shape[1])
        gain, bias = 1 + c.double().numpy() @ w_gain.T, c.double().numpy() @ w_bias.T
        normalized = numpy_batch_norm(x.double().numpy(), norm.norm.eps)
        expected = normalized * gain[:, :, None, None] + bias[:, :, None, None]
        np.testing.assert_allclose(norm(x, c).detach().numpy(), expected, rtol=1e-5, atol=1e-5)
        assert np.abs(gain - 1).max() > 0.1  # not the identity


def test_paper_defaults():
    model = BigGAN(image_shape=(1, 16, 16), num_classes=10, g_width=1, d_width=1, shared_dim=2)
    (regularizer,) = model.regularizers
    assert isinstance(regularizer, OrthogonalRegularization) and regularizer.weight == 1e-4
    assert (model.generator_ema.decay, model.generator_ema.start) == (0.9999, 20000)
    assert model.n_critic == 2 and type(model.loss).__name__ == "Hinge"
    g_opt, d_opt = model.configure_optimizers()[0]
    assert (g_opt.defaults["lr"], d_opt.defaults["lr"]) == (5e-5, 2e-4)
    assert g_opt.defaults["betas"] == (0.0, 0.999)


def test_truncation_keeps_latents_within_the_threshold_and_reduces_variance(digits, trainer_factory):
    model = build_tiny("BigGAN", g_width=4, ema_decay=0.5)
    trainer_factory(limit_train_batches=4).fit(model, datamodule=digits)
    latents: list[torch.Tensor] = []
    model.sampling_network("ema")  # its batch-norm statistics first: the hook sees the two samplings only
    model.generator_ema.module.register_forward_pre_hook(lambda _, inputs: latents.append(inputs[0]))
    labels = torch.full((256,), 3)
    free = model.sample(256, labels, generator=torch.Generator().manual_seed(0))
    truncated = model.sample(256, labels, truncation=0.3, generator=torch.Generator().manual_seed(0))
    assert latents[1].abs().max() <= 0.3 < latents[0].abs().max()
    assert truncated.var(dim=0).mean() < 0.5 * free.var(dim=0).mean()
