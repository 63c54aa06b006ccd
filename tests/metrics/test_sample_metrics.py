"""FID, KID, IS and MiFID against their formulas, computed independently here."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.linalg
import torch

from gan_zoo.metrics import evaluate_model, evaluate_samples, fid, inception_score, kid, mifid
from gan_zoo.metrics.streams import generated_batches

sys.path.insert(0, str(Path(__file__).parent))
from metric_helpers import random_classifier


def extractor_of(num_features: int = 0, num_logits: int = 0) -> SimpleNamespace:
    """All the metric builders read from an extractor."""
    return SimpleNamespace(num_features=num_features, num_logits=num_logits)


def features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    """``n`` draws of one correlated Gaussian in ``d`` dimensions (the same for every seed), shifted."""
    mixing = torch.randn(d, d, generator=torch.Generator().manual_seed(d)) / d**0.5
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed)) @ mixing + shift


def feed(metric, real: torch.Tensor, fake: torch.Tensor, num_real=None, num_fake=None) -> dict[str, float]:
    metric.update(real, None, real=True)
    metric.update(fake, None)
    return metric.compute(num_real or len(real), num_fake or len(fake))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^½) with unbiased covariances (Heusel et al. 2017, Eq. 6)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_fid_of_a_set_against_itself_is_zero():
    f = features(400, 8, seed=0)
    assert feed(fid(extractor_of(8)), f, f)["fid"] == pytest.approx(0.0, abs=1e-3)


def test_fid_equals_the_closed_form_frechet_distance():
    real, fake = features(500, 6, seed=1), features(300, 6, seed=2, shift=0.5) * 1.5
    expected = frechet_distance(real.double().numpy(), fake.double().numpy())
    assert expected > 1.0
    assert feed(fid(extractor_of(6)), real, fake)["fid"] == pytest.approx(expected, rel=1e-4)


def test_fid_of_one_dimensional_gaussians_by_hand():
    real = torch.tensor([[0.0], [2.0]])  # mean 1, unbiased variance 2
    fake = torch.tensor([[3.0], [5.0], [7.0]])  # mean 5, unbiased variance 4
    # (1 − 5)² + 2 + 4 − 2·√(2·4) = 22 − 4√2
    assert feed(fid(extractor_of(1)), real, fake)["fid"] == pytest.approx(22 - 4 * 2**0.5, rel=1e-5)


def test_kid_of_a_set_against_itself_is_near_zero_and_grows_with_the_gap():
    real = features(300, 8, seed=3)
    same = feed(kid(extractor_of(8), subsets=20, subset_size=100), real, features(300, 8, seed=4))
    apart = feed(kid(extractor_of(8), subsets=20, subset_size=100), real, features(300, 8, seed=4, shift=2.0))
    assert abs(same["kid_mean"]) < 0.05
    assert apart["kid_mean"] > 20 * max(abs(same["kid_mean"]), 1e-3)


def test_kid_subset_size_is_capped_at_the_sample_counts():
    metric = kid(extractor_of(4), subsets=3, subset_size=1000)
    result = feed(metric, features(50, 4, seed=5), features(30, 4, seed=6))
    assert metric.metric.subset_size == 30 and np.isfinite(result["kid_mean"])


@pytest.mark.filterwarnings(r"ignore:std\(\)")  # one split has no spread
def test_inception_score_of_confident_balanced_logits_is_the_number_of_classes():
    labels = torch.arange(200) % 10
    logits = 50.0 * torch.nn.functional.one_hot(labels, 10).float()
    metric = inception_score(extractor_of(num_logits=10), splits=1)
    metric.update(torch.empty(200, 0), logits)
    assert metric.compute(0, 200)["is_mean"] == pytest.approx(10.0, rel=1e-4)
    metric.update(torch.empty(200, 0), torch.zeros(200, 10))  # p(y|x) = p(y): no information
    assert metric.compute(0, 200)["is_mean"] == pytest.approx(1.0, rel=1e-6)


def kaggle_memorization_distance(generated: np.ndarray, real: np.ndarray) -> float:
    """Mean over generated images of the minimum cosine distance to a real image (Kaggle's MiFID)."""
    g = generated / np.linalg.norm(generated, axis=1, keepdims=True)
    r = real / np.linalg.norm(real, axis=1, keepdims=True)
    return float((1.0 - np.abs(g @ r.T)).min(axis=1).mean())


def test_mifid_divides_fid_by_the_memorization_distance_of_generated_images():
    real = features(300, 32, seed=7).abs()
    noise = 0.02 * features(200, 32, seed=8).abs()
    generated = real[:100].repeat(2, 1) + noise  # near-copies of training images
    distance = kaggle_memorization_distance(generated.double().numpy(), real.double().numpy())
    assert 0 < distance < 0.1
    expected = frechet_distance(real.double().numpy(), generated.double().numpy()) / distance
    assert feed(mifid(extractor_of(32)), real, generated)["mifid"] == pytest.approx(expected, rel=1e-3)


def test_mifid_catches_a_generator_that_copies_a_few_training_images():
    real = features(400, 64, seed=9).abs()
    copies = real[:4].repeat(50, 1)  # 200 samples, all exact copies of 4 training images
    plain_fid = feed(fid(extractor_of(64)), real, copies)["fid"]
    assert feed(mifid(extractor_of(64)), real, copies)["mifid"] > 1e6 * plain_fid
    # torchmetrics' own orientation (nearest generated image for each real one) sees no memorization:
    unswapped = mifid(extractor_of(64))
    unswapped.swap_sides = False
    assert feed(unswapped, real, copies)["mifid"] == pytest.approx(plain_fid, rel=1e-4)


def test_evaluate_samples_refuses_metrics_without_real_features():
    with pytest.raises(ValueError, match="need the features of real images"):
        evaluate_samples([fid(extractor_of(4))], None, [], num_fake=2, real=None)


@pytest.mark.filterwarnings("ignore:Metric `.*` will save all extracted features")
def test_evaluation_is_reproducible_and_leaves_the_global_rng_alone(tiny_model, digits):
    model, extractor = tiny_model("DCGAN"), random_classifier()

    def evaluate() -> dict[str, float]:
        metrics = [fid(extractor), kid(extractor, subsets=5, subset_size=50)]
        return evaluate_model(model, digits, metrics, extractor, num_samples=100, batch_size=50, num_real=300)

    torch.manual_seed(123)
    first = evaluate()
    after = torch.rand(1)
    torch.manual_seed(7)  # another global RNG state: the same result
    assert evaluate() == first
    torch.manual_seed(123)
    assert torch.equal(torch.rand(1), after)


def test_generated_batches_are_reproducible_and_independent_of_the_call(tiny_model):
    model = tiny_model("DCGAN")
    first = torch.cat([images for images, _ in generated_batches(model, 10, 4, seed=3)])
    again = torch.cat([images for images, _ in generated_batches(model, 10, 4, seed=3)])
    other = torch.cat([images for images, _ in generated_batches(model, 10, 4, seed=4)])
    assert first.dtype == torch.uint8 and first.shape == (10, 1, 16, 16)
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_the_ema_generator_is_the_one_evaluated(tiny_model, digits):
    model, extractor = tiny_model("DCGAN", ema_decay=0.999), random_classifier()
    with torch.no_grad():  # G drifts away from its average
        for p in model.generator.parameters():
            p.add_(0.5 * torch.randn_like(p))

    def evaluate() -> float:
        return evaluate_model(
            model, digits, [fid(extractor)], extractor, num_samples=60, batch_size=30, num_real=300
        )["fid"]

    with_ema = evaluate()
    model.generator.load_state_dict(model.generator_ema.module.state_dict())
    model.generator_ema = None
    assert evaluate() == pytest.approx(with_ema, rel=1e-6)


def test_progress_bar_on_request(tiny_model, digits, capsys):
    model, extractor = tiny_model("DCGAN"), random_classifier()
    options = {"num_samples": 40, "batch_size": 20, "num_real": 100}
    evaluate_model(model, digits, [fid(extractor)], extractor, show_progress=True, **options)
    err = capsys.readouterr().err
    assert "generating" in err and "train features" in err
    evaluate_model(model, digits, [fid(extractor)], extractor, **options)
    assert "generating" not in capsys.readouterr().err
