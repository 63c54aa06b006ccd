"""FID / KID / IS / MiFID callbacks: the same numbers as torchmetrics on the same images; when they run."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import torch
from conftest import build_tiny
from pytorch_lightning.loggers import CSVLogger
from torch import nn
from torchmetrics.image import (
    FrechetInceptionDistance,
    InceptionScore,
    KernelInceptionDistance,
    MemorizationInformedFrechetInceptionDistance,
)

from gan_zoo.callbacks import FID, KID, MiFID
from gan_zoo.callbacks import InceptionScore as ISCallback
from gan_zoo.data import Digits, to_uint8
from gan_zoo.metrics.streams import batch_seed

sys.path.insert(0, str(Path(__file__).parents[1] / "metrics"))
from metric_helpers import ImageBank, random_classifier

N = 120  # generated images
REAL = 400  # the first REAL training images are the real set


class Logits(nn.Module):
    """An extractor's logits as a torchmetrics feature network (for the direct IS call)."""

    def __init__(self, extractor: nn.Module) -> None:
        super().__init__()
        self.extractor = extractor

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.extractor.extract(images)[1]


@pytest.fixture
def classifier_file(tmp_path) -> str:
    path = tmp_path / "random.pt"
    random_classifier().save(path)
    return str(path)


def options(classifier_file: str, **overrides) -> dict:
    return {
        "feature_extractor": classifier_file,
        "num_samples": N,
        "batch_size": 50,
        "num_real_samples": REAL,
        "use_cache": False,
        "progress_bar": False,
        **overrides,
    }


def run_test(callback, bank, digits, trainer_factory) -> dict[str, float]:
    trainer_factory(callbacks=[callback]).test(ImageBank(bank), datamodule=digits)
    return callback.results


def direct(metric, real: torch.Tensor, fake: torch.Tensor, swap: bool = False) -> float:
    metric.update(real, real=not swap)
    metric.update(fake, real=swap)
    torch.manual_seed(0)  # the callbacks seed compute() with their seed, 0
    value = metric.compute()
    return float(value[0] if isinstance(value, tuple) else value)


@pytest.mark.filterwarnings("ignore:Metric `.*` will save all extracted features")
def test_callbacks_match_torchmetrics_on_the_same_images(classifier_file, digits, trainer_factory):
    bank = torch.rand(N, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fake = to_uint8(bank)
    digits.setup("fit")
    real = digits.train_set.images[:REAL]  # uint8 [REAL, 1, 16, 16]
    extractor = random_classifier()

    got = run_test(FID(**options(classifier_file)), bank, digits, trainer_factory)
    assert got["eval/random/fid"] == pytest.approx(
        direct(FrechetInceptionDistance(feature=extractor), real, fake), rel=1e-5
    )

    got = run_test(KID(subsets=7, subset_size=40, **options(classifier_file)), bank, digits, trainer_factory)
    expected = direct(KernelInceptionDistance(feature=extractor, subsets=7, subset_size=40), real, fake)
    assert got["eval/random/kid_mean"] == pytest.approx(expected, rel=1e-4)

    got = run_test(ISCallback(splits=3, **options(classifier_file)), bank, digits, trainer_factory)
    metric = InceptionScore(feature=Logits(extractor), splits=3)
    metric.update(fake)
    torch.manual_seed(0)
    assert got["eval/random/is_mean"] == pytest.approx(float(metric.compute()[0]), rel=1e-5)

    # MiFID feeds the sides swapped (Kaggle's orientation, see gan_zoo.metrics.mifid).
    got = run_test(MiFID(**options(classifier_file)), bank, digits, trainer_factory)
    expected = direct(MemorizationInformedFrechetInceptionDistance(feature=extractor), real, fake, swap=True)
    assert got["eval/random/mifid"] == pytest.approx(expected, rel=1e-5)


class CountingFID(FID):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.epochs_evaluated: list[int] = []

    def evaluate(self, trainer, pl_module):
        self.epochs_evaluated.append(trainer.current_epoch)
        return super().evaluate(trainer, pl_module)


def test_runs_every_n_epochs_and_at_fit_end_and_logs(classifier_file, digits, trainer_factory, tmp_path):
    every_two = CountingFID(**options(classifier_file, every_n_epochs=2))
    logger = CSVLogger(tmp_path, name="log")
    trainer = trainer_factory(max_epochs=3, limit_train_batches=1, callbacks=[every_two], logger=logger)
    trainer.fit(build_tiny("DCGAN"), datamodule=digits)
    assert every_two.epochs_evaluated == [1, 3]  # after the second epoch; at the end (epoch counter 3)
    assert "eval/random/fid" in trainer.callback_metrics
    rows = list(csv.DictReader((Path(logger.log_dir) / "metrics.csv").open()))
    logged = [float(r["eval/random/fid"]) for r in rows if r["eval/random/fid"]]
    assert len(logged) == 2 and logged[-1] == pytest.approx(every_two.results["eval/random/fid"])

    end_only = CountingFID(**options(classifier_file, every_n_epochs=1, at_fit_end=True))
    trainer_factory(max_epochs=2, limit_train_batches=1, callbacks=[end_only]).fit(
        build_tiny("DCGAN"), datamodule=digits
    )
    assert end_only.epochs_evaluated == [0, 1]  # the last epoch's value already is the final one


def test_the_averaged_and_the_raw_generator_are_scored_and_logged(
    classifier_file, digits, trainer_factory, tmp_path
):
    model = build_tiny("DCGAN", ema_decay=0.9)
    logger = CSVLogger(tmp_path, name="log")
    trainer = trainer_factory(
        limit_train_batches=2, callbacks=[FID(**options(classifier_file))], logger=logger
    )
    trainer.fit(model, datamodule=digits)
    rows = list(csv.DictReader((Path(logger.log_dir) / "metrics.csv").open()))
    logged = {k: float(v) for row in rows for k, v in row.items() if k.startswith("eval/") and v}
    assert set(logged) == {"eval/random/fid", "eval/random/fid_raw"}
    # torchmetrics' FID on each generator's images for the callback's latents (seed 0, batches of 50)
    digits.setup("fit")
    real = digits.train_set.images[:REAL]
    for weights, name in (("ema", "fid"), ("raw", "fid_raw")):
        batches = [
            model.sample(n, generator=torch.Generator().manual_seed(batch_seed(0, b)), weights=weights)
            for b, n in enumerate((50, 50, 20))
        ]
        fake = to_uint8(torch.cat(batches))
        expected = direct(FrechetInceptionDistance(feature=random_classifier()), real, fake)
        assert logged[f"eval/random/{name}"] == pytest.approx(expected, rel=1e-5), name
    assert logged["eval/random/fid"] != pytest.approx(logged["eval/random/fid_raw"], rel=1e-3)


def test_runs_on_validate_against_the_chosen_split(classifier_file, trainer_factory, tmp_path):
    data = Digits(image_size=16, batch_size=16, val_split=0.2)
    callback = FID(
        **options(classifier_file, real_split="val", use_cache=True, cache_dir=str(tmp_path / "c"))
    )
    trainer_factory(callbacks=[callback]).validate(build_tiny("DCGAN"), datamodule=data)
    assert set(callback.results) == {"eval/random/fid"}
    (entry,) = (tmp_path / "c").glob("*.pt")  # the real features it compared with
    key = torch.load(entry)["key"]
    assert entry.name.startswith("digits-val-1x16x16-random-") and key["num_images"] == 300  # < REAL


def test_needs_a_data_module(classifier_file, trainer_factory, digits):
    digits.setup("test")
    loader = digits.test_dataloader()
    with pytest.raises(RuntimeError, match="needs the trainer to have a data module"):
        trainer_factory(callbacks=[FID(**options(classifier_file))]).test(
            ImageBank(torch.zeros(N, 1, 16, 16)), dataloaders=loader
        )


def test_rejects_bad_settings():
    with pytest.raises(ValueError, match="num_samples"):
        FID(num_samples=1)
    with pytest.raises(ValueError, match="every_n_epochs"):
        KID(every_n_epochs=0)
