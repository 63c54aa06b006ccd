"""benchmarks/text_to_image_accuracy.py on a tiny config: digits with generated captions, the shipped
digits classifier."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch
import yaml
from conftest import TINY

from gan_zoo.data import DigitsCaptions
from gan_zoo.data.generated_captions import write_captions

REPO = Path(__file__).resolve().parents[1]


def load_benchmark():
    path = REPO / "benchmarks" / "text_to_image_accuracy.py"
    spec = importlib.util.spec_from_file_location("text_to_image_accuracy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tiny_config(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    config = {
        "seed_everything": 0,
        "trainer": {"accelerator": "cpu", "max_epochs": 1, "limit_train_batches": 2, "logger": False},
        "model": {"class_path": "gan_zoo.models.TextToImageGAN", "init_args": TINY["TextToImageGAN"]},
        "data": {
            "class_path": "gan_zoo.data.DigitsCaptions",
            "init_args": {"image_size": 16, "batch_size": 16},
        },
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_accuracy_of_unseen_captions_with_the_shipped_classifier(tiny_config, tmp_path):
    out = tmp_path / "bench"
    results = load_benchmark().main(["--config", str(tiny_config), "--eval-images", "60", "--out", str(out)])
    assert results["classifier"] == "digits" and results["chance"] == pytest.approx(0.1)
    assert results["eval_images"] == 60 and results["fit_seconds"] > 0
    counts = torch.bincount(DigitsCaptions().source().load_split("test")[1][:60], minlength=10).float()
    for name in ("unseen", "training_template"):
        per_class = torch.tensor(results[f"per_class_accuracy_{name}"])
        assert 0.0 <= results[f"accuracy_{name}"] <= 1.0
        # overall = the per-class accuracies weighted by how many captions name each class
        assert results[f"accuracy_{name}"] == pytest.approx(float((per_class * counts).sum() / 60), abs=1e-6)
    assert json.loads((out / "results.json").read_text()) == results
    # the captions it used are held out: none is a training caption
    images, labels = DigitsCaptions().source().load_split("train")
    seen = {c for captions in write_captions(images, labels, DigitsCaptions.names) for c in captions}
    used = (out / "captions_unseen.txt").read_text().splitlines()
    assert len(used) == results["unseen_caption_count"] > 10
    assert not set(used) & seen
    assert all(any(name in caption for name in DigitsCaptions.names) for caption in used)
    assert (out / "unseen_captions.png").stat().st_size > 0


def test_refuses_to_overwrite_results(tiny_config, tmp_path):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "results.json").write_text("{}")
    with pytest.raises(SystemExit, match="not empty"):
        load_benchmark().main(["--config", str(tiny_config), "--out", str(out)])
    assert (out / "results.json").read_text() == "{}"
