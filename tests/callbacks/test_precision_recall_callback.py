"""The PrecisionRecall callback: the numbers of a naive loop on the same features, logged by name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from gan_zoo.callbacks import PrecisionRecall
from gan_zoo.data import to_uint8

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from metric_helpers import ImageBank, random_classifier
from test_precision_recall import naive_precision_recall

N, REAL = 90, 150


def test_callback_equals_the_naive_loop_in_the_extractors_feature_space(tmp_path, digits, trainer_factory):
    path = tmp_path / "random.pt"
    random_classifier().save(path)
    # Half the bank are real training images (on the manifold), half noise (off it).
    digits.setup("fit")
    real = digits.train_set.images[:REAL]
    noise = torch.rand(N // 2, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    bank = torch.cat([digits.train_set.images[REAL : REAL + N // 2].float() / 127.5 - 1, noise])
    callback = PrecisionRecall(
        k=3,
        feature_extractor=str(path),
        num_samples=N,
        batch_size=30,
        num_real_samples=REAL,
        use_cache=False,
        progress_bar=False,
    )
    trainer_factory(callbacks=[callback]).test(ImageBank(bank), datamodule=digits)

    extractor = random_classifier()
    real_features = extractor.extract(real)[0].double().numpy()
    fake_features = extractor.extract(to_uint8(bank))[0].double().numpy()
    precision, recall = naive_precision_recall(real_features, fake_features, 3)
    assert callback.results["eval/random/precision"] == pytest.approx(precision, abs=1e-9)
    assert callback.results["eval/random/recall"] == pytest.approx(recall, abs=1e-9)
    assert 0.3 < precision < 0.9  # the noise half is off the manifold, the real half mostly on it
