"""benchmarks/semi_supervised.py: the baseline learns, the seed picks the labels, the report is complete."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from gan_zoo.models import SemiSupervisedGAN

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(REPO / "benchmarks"))  # the script imports its sibling report.py
    try:
        spec = importlib.util.spec_from_file_location(
            "semi_supervised", REPO / "benchmarks" / "semi_supervised.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


@pytest.fixture(autouse=True)
def one_thread():
    """The benchmark's own setting (``main`` sets it too); restored for the tests that follow."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_seed_picks_the_labelled_examples(bench):
    one, again, other = (bench.make_data("digits", 10, "data", seed) for seed in (1, 1, 2))
    labelled = [data.train_set.images[-100:] for data in (one, again, other)]  # the labelled ones come last
    assert torch.equal(labelled[0], labelled[1])
    assert not torch.equal(labelled[0], labelled[2])
    assert torch.equal(one.train_set.labels[-100:].bincount(), torch.full((10,), 10))


def test_supervised_only_learns_from_the_100_labels(bench):
    data = bench.make_data("digits", 10, "data", seed=0)
    torch.manual_seed(0)
    untrained = bench.test_errors(SemiSupervisedGAN(image_shape=data.image_shape).discriminator, data)
    trained = bench.test_errors(bench.supervised_only(data, epochs=5, seed=0), data)
    assert untrained > 0.7 * 297  # chance: 90 % wrong
    assert trained < 0.3 * 297


def test_summary_averages_over_seeds(bench):
    rows = [
        {"data": "digits", "method": "m", "labels": 100, "test_errors": errors, "test_images": 297}
        | {"epochs": 2, "updates": 30, "seconds": 1.5}
        for errors in (10, 14)
    ]
    (summary,) = bench.summary(rows)
    assert summary["seeds"] == 2 and summary["test_errors_mean"] == 12
    assert summary["test_errors_std"] == pytest.approx(math.sqrt(8))  # sample std of 10 and 14
    assert summary["seconds"] == 3.0
    assert "| digits | 100 | m | 2 | 12.0 ± 2.8 / 297 | 4.0 % | 2 | 30 | 3 s |" in bench.table([summary])
    (single,) = bench.summary(rows[:1])
    assert single["test_errors_std"] is None
    assert "| digits | 100 | m | 1 | 10 / 297 | 3.4 % | 2 | 30 | 2 s |" in bench.table([single])


def test_main_prints_the_table_writes_json_and_never_replaces_it(bench, tmp_path, capsys):
    report = tmp_path / "semi.json"
    bench.main(["--datasets", "digits", "--epochs", "1", "--json", str(report)])
    rows = json.loads(report.read_text())["results"]
    assert [row["method"] for row in rows] == ["semi-supervised GAN", "supervised only"]
    for row in rows:
        assert row["updates"] == 15  # 1 500 training digits, 100 unlabelled per batch
        assert row["test_images"] == 297 and 0 <= row["test_errors"] <= 297
    assert "| digits | 100 | semi-supervised GAN | 1 |" in capsys.readouterr().out
    written = report.read_text()
    with pytest.raises(SystemExit, match="exists"):
        bench.main(["--datasets", "digits", "--epochs", "1", "--json", str(report)])
    assert report.read_text() == written


def test_an_absent_dataset_is_skipped_with_the_reason(bench, tmp_path, capsys):
    report = tmp_path / "semi.json"
    bench.main(["--datasets", "mnist", "--data-dir", str(tmp_path), "--json", str(report)])
    assert "skipping mnist: " in capsys.readouterr().out
    assert json.loads(report.read_text())["results"] == []
