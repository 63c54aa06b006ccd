"""DCGAN §5.1's analysis: pooled discriminator features and the L2-SVM, checked against hand computations."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.data import to_uint8
from gan_zoo.metrics.linear_probe import (
    LabelledSplits,
    PooledFeatures,
    estimate_batch_norm,
    feature_layers,
    labelled_subsets,
    pixel_features,
    probe,
    untrained_discriminator,
)

sys.path.insert(0, str(Path(__file__).parent.parent))
from conftest import build_tiny


def images(n: int, side: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randint(
        0, 256, (n, 1, side, side), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed)
    )


def test_pooled_features_are_each_activation_max_pooled_to_4x4_in_order():
    discriminator = build_tiny("DCGAN").discriminator.eval()  # 16×16: conv 8×8×8, conv 4×4×16, 1×1 logit
    x = images(5)
    expected, h = [], x.float() / 127.5 - 1
    for module in discriminator.net:  # a hand loop over the layers
        h = module(h)
        if isinstance(module, nn.LeakyReLU):
            side = h.shape[-1]
            expected.append(F.max_pool2d(h.clone(), kernel_size=side // 4).reshape(5, -1))
    features = PooledFeatures(discriminator)
    got = features(x)
    assert feature_layers(discriminator) == ["net.1", "net.4"]
    assert features.layers_seen == [("net.1", 8 * 16), ("net.4", 16 * 16)]  # the 1×1 logit is left out
    assert got.shape == (5, 8 * 16 + 16 * 16)
    assert torch.allclose(got, torch.cat(expected, dim=1), atol=1e-6)


def test_a_network_without_activation_modules_gives_its_convolutions():
    network = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Conv2d(3, 2, 3, stride=2, padding=1))
    x = images(2, side=8)
    features = PooledFeatures(network)(x)
    first = network[0](x.float() / 127.5 - 1)
    second = network[1](first)
    expected = torch.cat(
        [F.max_pool2d(first, 2).flatten(1), second.flatten(1)], dim=1
    )  # 8×8 → 4×4; 4×4 as is
    assert torch.allclose(features, expected, atol=1e-6)
    with pytest.raises(ValueError, match="no modules"):
        PooledFeatures(network, ["head"])


def test_batch_norm_statistics_are_the_mean_of_the_batches_statistics():
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.LeakyReLU(0.2))
    before = {k: v.clone() for k, v in network.state_dict().items()}
    batches = [images(4, seed=1), images(6, seed=2)]
    estimated = estimate_batch_norm(network, batches)
    with torch.no_grad():
        outputs = [network[0](b.float() / 127.5 - 1) for b in batches]
    means = [o.mean(dim=(0, 2, 3)) for o in outputs]
    variances = [o.transpose(0, 1).reshape(3, -1).var(dim=1, unbiased=True) for o in outputs]
    norm = estimated[1]
    assert torch.allclose(norm.running_mean, (means[0] + means[1]) / 2, atol=1e-5)
    assert torch.allclose(norm.running_var, (variances[0] + variances[1]) / 2, atol=1e-5)
    assert not norm.training and not estimated.training
    assert all(torch.equal(v, network.state_dict()[k]) for k, v in before.items()), (
        "the original is untouched"
    )


def test_untrained_discriminator_has_the_architecture_but_fresh_weights():
    model = build_tiny("DCGAN")
    with torch.no_grad():
        for p in model.discriminator.parameters():
            p.add_(1.0)  # as if trained
    twin = untrained_discriminator(model, seed=3)
    trained, fresh = model.discriminator.state_dict(), twin.state_dict()
    assert {k: v.shape for k, v in trained.items()} == {k: v.shape for k, v in fresh.items()}
    assert not torch.equal(trained["net.0.weight"], fresh["net.0.weight"])
    assert torch.equal(
        fresh["net.0.weight"], untrained_discriminator(model, seed=3).state_dict()["net.0.weight"]
    )
    assert float(fresh["net.0.weight"].std()) == pytest.approx(0.02, rel=0.3)  # DCGAN's N(0, 0.02) init


def test_labelled_subsets_draw_the_count_of_every_class():
    labels = torch.arange(3).repeat(20)
    subsets = labelled_subsets(labels, 4, repeats=3, num_classes=3, seed=0)
    for subset in subsets:
        assert torch.bincount(labels[subset], minlength=3).tolist() == [4, 4, 4]
    assert len({tuple(s.sort().values.tolist()) for s in subsets}) == 3
    assert torch.equal(labelled_subsets(labels, None, 3, 3, 0)[0], torch.arange(60))


def blobs(n_per_class: int, seed: int, shuffle: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Three well-separated Gaussian blobs in 6 dimensions (as float "images" [N, 1, 2, 3])."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(3).repeat_interleave(n_per_class)
    centres = 20 * torch.eye(3, 6)  # 28 standard deviations apart
    points = centres[labels] + torch.randn(len(labels), 6, generator=g)
    if shuffle:
        labels = labels[torch.randperm(len(labels), generator=g)]
    return points.view(-1, 1, 2, 3), labels


def flat(x: torch.Tensor) -> torch.Tensor:
    return x.flatten(1)


def test_svm_separates_separable_classes_and_is_at_chance_on_shuffled_labels():
    separable = LabelledSplits(blobs(30, 0), blobs(20, 1), blobs(100, 2), num_classes=3)
    [result] = probe("blobs", flat, separable, [5], repeats=3, c_grid=[0.01, 1.0])
    assert result.test_accuracy == [1.0, 1.0, 1.0]
    assert result.dimension == 6 and result.labels_per_class == 5

    shuffled = LabelledSplits(blobs(30, 0, True), blobs(20, 1, True), blobs(300, 2, True), num_classes=3)
    [chance] = probe("shuffled", flat, shuffled, [10], repeats=3, c_grid=[0.01, 1.0])
    assert abs(chance.mean - 1 / 3) < 0.08


def test_c_is_chosen_by_mean_validation_accuracy_and_its_test_accuracies_reported():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    g = torch.Generator().manual_seed(0)
    points = torch.randn(400, 6, generator=g)
    labels = (points[:, 0] + 0.8 * torch.randn(400, generator=g) > 0).long()  # noisy: C matters
    x = points.view(-1, 1, 2, 3)
    splits = LabelledSplits(
        (x[:200], labels[:200]), (x[200:300], labels[200:300]), (x[300:], labels[300:]), 2
    )
    grid = [1e-4, 1e-2, 1.0]
    [result] = probe("noisy", flat, splits, [10], repeats=4, c_grid=grid, seed=5)

    validation, test = np.zeros((4, 3)), np.zeros((4, 3))  # an independent loop over subsets and C
    for r in range(4):
        chosen = labelled_subsets(labels[:200], 10, 4, 2, 5)[r]
        for j, c in enumerate(grid):
            svm = make_pipeline(StandardScaler(), LinearSVC(C=c, max_iter=5000, random_state=5))
            svm.fit(points[chosen].numpy(), labels[chosen].numpy())
            validation[r, j] = np.mean(svm.predict(points[200:300].numpy()) == labels[200:300].numpy())
            test[r, j] = np.mean(svm.predict(points[300:].numpy()) == labels[300:].numpy())
    best = int(np.argmax(validation.mean(axis=0)))
    assert result.c == grid[best]
    assert result.test_accuracy == pytest.approx(test[:, best].tolist())
    assert result.validation_accuracy == pytest.approx(validation[:, best].mean())


def test_pixel_features_are_the_image_in_minus_one_to_one():
    x = to_uint8(torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3))
    assert pixel_features(x)[0].tolist() == pytest.approx([-1.0, 1 / 255, 1.0], abs=1e-6)
