"""Under DDP each process generates its share; FID, KID, IS and MiFID equal the single-process values."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from conftest import build_tiny, make_trainer

from gan_zoo.callbacks import FID, KID, InceptionScore, MiFID
from gan_zoo.data import Digits

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from metric_helpers import random_classifier


def callbacks(classifier: str, cache_dir: Path | None) -> list:
    shared = {
        "feature_extractor": classifier,
        "num_samples": 300,  # 6 batches: 3 per process, the second process's batches are samples 150–299
        "batch_size": 50,
        "num_real_samples": 500,  # real features 0–249 on one process, 250–499 on the other
        "use_cache": cache_dir is not None,
        "cache_dir": str(cache_dir) if cache_dir else None,
        "progress_bar": False,
    }
    return [
        FID(**shared),
        KID(subsets=5, subset_size=100, **shared),
        InceptionScore(splits=3, **shared),
        MiFID(**shared),
    ]


def evaluate(
    model, tmp_path: Path, classifier: str, cache_dir: Path | None, **trainer_options
) -> dict[str, float]:
    trainer = make_trainer(tmp_path, callbacks=callbacks(classifier, cache_dir), **trainer_options)
    trainer.test(model, datamodule=Digits(image_size=16, batch_size=64))
    return {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("eval/")}


@pytest.mark.filterwarnings("ignore:Metric `.*` will save all extracted features")
def test_two_processes_equal_one(tmp_path):
    classifier = tmp_path / "random.pt"
    random_classifier().save(classifier)
    cache = tmp_path / "cache"
    model = build_tiny("DCGAN", ema_decay=0.9)  # the averaged G is scored, and the raw one as <metric>_raw

    two = evaluate(
        model, tmp_path, str(classifier), cache, strategy="ddp_spawn", accelerator="cpu", devices=2
    )
    # Lightning gives each of the two processes one thread; so does the single process here, so the
    # convolutions do the same arithmetic and only the metrics' reductions could differ.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = evaluate(model, tmp_path, str(classifier), None, accelerator="cpu", devices=1)
    finally:
        torch.set_num_threads(threads)
    assert (
        set(two)
        == set(one)
        == {
            f"eval/random/{name}{suffix}"
            for name in ("fid", "kid_mean", "kid_std", "is_mean", "is_std", "mifid")
            for suffix in ("", "_raw")
        }
    )
    for name, value in one.items():
        assert two[name] == pytest.approx(value, rel=1e-6), name

    # Rank 0 wrote the real features the two processes extracted together; one process reads them back.
    assert len(list(cache.glob("*.pt"))) == 1
    assert evaluate(model, tmp_path, str(classifier), cache, accelerator="cpu", devices=1) == pytest.approx(
        one, rel=1e-5
    )
