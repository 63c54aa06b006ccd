"""Domain classifiers: the shipped weights, their recorded accuracy, loading, input handling, training."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from gan_zoo.data import Digits, FashionMNIST
from gan_zoo.metrics import ClassifierFeatures, build_feature_extractor, shipped_classifiers
from gan_zoo.metrics.classifier import WEIGHTS_DIR
from gan_zoo.registry import UnknownNameError

sys.path.insert(0, str(Path(__file__).parent))
from metric_helpers import random_classifier

REPO = Path(__file__).resolve().parents[2]
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_digits_and_fashion_mnist_ship_within_two_megabytes():
    assert {"digits", "fashion_mnist"} <= set(shipped_classifiers())
    assert sum(p.stat().st_size for p in WEIGHTS_DIR.iterdir()) <= 2 * 2**20
    for name in ("digits", "fashion_mnist"):
        record = json.loads((WEIGHTS_DIR / f"{name}.json").read_text())
        assert record["name"] == name and 0.85 < record["test_accuracy"] <= 1.0
        assert record["command"].startswith("python experiments/evaluators/train_classifier.py")


def test_package_data_includes_the_weights():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"metrics/weights/*.pt"' in pyproject and '"metrics/weights/*.json"' in pyproject


def accuracy(extractor: ClassifierFeatures, images: torch.Tensor, labels: torch.Tensor) -> float:
    return int((extractor.predict(images) == labels).sum()) / len(labels)  # as the training script counts


def test_digits_record_is_the_accuracy_on_the_real_test_split():
    data = Digits(image_size=16)
    data.setup("test")
    extractor = build_feature_extractor("digits")
    assert (
        accuracy(extractor, data.test_set.images, data.test_set.labels) == extractor.record["test_accuracy"]
    )


@pytest.mark.real_data
@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_record_is_the_accuracy_on_the_real_test_split(tmp_path):
    data = FashionMNIST(data_dir=tmp_path, image_size=32)
    data.setup("test")
    extractor = build_feature_extractor("fashion_mnist")
    assert accuracy(extractor, data.test_set.images, data.test_set.labels) == pytest.approx(
        extractor.record["test_accuracy"], abs=1e-4
    )


def test_save_and_load_round_trip(tmp_path):
    extractor = random_classifier()
    extractor.save(tmp_path / "c.pt")
    (tmp_path / "c.json").write_text(json.dumps({"test_accuracy": 0.5}))
    loaded = build_feature_extractor(str(tmp_path / "c.pt"))
    images = torch.randint(0, 256, (5, 1, 16, 16), dtype=torch.uint8)
    for a, b in zip(extractor.extract(images), loaded.extract(images), strict=True):
        assert torch.equal(a, b)
    assert loaded.record == {"test_accuracy": 0.5} and loaded.fingerprint() == extractor.fingerprint()


def test_inputs_are_resized_and_converted_to_gray():
    extractor = random_classifier(image_size=16)
    gray = torch.randint(0, 256, (3, 1, 28, 28), dtype=torch.uint8)
    resized = F.interpolate(gray.float(), size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
    assert torch.allclose(extractor.prepare(gray), resized / 127.5 - 1)
    assert torch.allclose(extractor.prepare(gray.expand(-1, 3, -1, -1)), extractor.prepare(gray), atol=1e-5)
    features, logits = extractor.extract(gray)
    assert features.shape == (3, 16) and logits.shape == (3, 10)
    with pytest.raises(ValueError, match="uint8 images"):
        extractor.extract(gray.float())


def test_unknown_extractors_list_the_valid_ones(tmp_path):
    with pytest.raises(UnknownNameError, match="Valid names: inception, digits, fashion_mnist"):
        build_feature_extractor("lenet")
    with pytest.raises(FileNotFoundError, match=r"missing\.pt does not exist"):
        build_feature_extractor(str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="weights_path is for the Inception network"):
        build_feature_extractor("digits", weights_path="x.pth")


def test_training_script_writes_weights_and_record(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "train_classifier", REPO / "experiments/evaluators/train_classifier.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "digits.pt"
    args = ["--data", "Digits", "--image-size", "16", "--epochs", "2", "--max-shift", "1", "--out", str(out)]
    script.main(args)
    record = json.loads(out.with_suffix(".json").read_text())
    extractor = build_feature_extractor(str(out))
    data = Digits(image_size=16)
    data.setup("test")
    assert (
        accuracy(extractor, data.test_set.images, data.test_set.labels) == record["test_accuracy"] > 0.2
    )  # chance: 0.1
    assert f"test accuracy {record['test_accuracy']:.4f}" in capsys.readouterr().out
    before = out.read_bytes()
    with pytest.raises(SystemExit, match="pass --overwrite"):
        script.main(args)
    assert out.read_bytes() == before
