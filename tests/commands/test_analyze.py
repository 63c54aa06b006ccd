"""``gan-zoo analyze``: the three analyses from the command line on tiny checkpoints and Digits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import build_tiny, make_trainer
from PIL import Image

from gan_zoo import Digits, load_model
from gan_zoo.cli import main
from gan_zoo.metrics import build_feature_extractor
from gan_zoo.metrics.discriminability import discriminability


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """A DCGAN, an AC-GAN, a BigGAN and a conditional GAN (uniform prior), each after a few updates."""
    root = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for name in ("DCGAN", "ACGAN", "BigGAN", "CGAN"):
        trainer = make_trainer(root, limit_train_batches=2)
        trainer.fit(build_tiny(name), datamodule=Digits(image_size=16, batch_size=16))
        paths[name] = root / f"{name}.ckpt"
        trainer.save_checkpoint(paths[name])
    return paths


def analyze(*args: str) -> None:
    main(["analyze", *args, "--data", "Digits", "--no_progress"])


def written(out: Path, analysis: str) -> dict:
    image = Image.open(out / f"{analysis}.png")
    assert image.format == "PNG" and min(image.size) > 200
    return json.loads((out / f"{analysis}.json").read_text())


def test_features_svm_on_d_pixels_and_a_random_d(checkpoints, tmp_path, capsys):
    out = tmp_path / "out"
    analyze("features", "--ckpt_path", str(checkpoints["DCGAN"]), "--out", str(out),
            "--labels_per_class", "5,all", "--repeats", "2", "--c_grid", "0.001,0.01",
            "--num_test", "150")  # fmt: skip
    report = written(out, "features")
    assert [(r["features"], r["labels_per_class"]) for r in report["results"]] == [
        (kind, k) for kind in ("discriminator", "random discriminator", "pixels") for k in (5, "all")
    ]
    # D's activations pooled to 4×4: 8 channels at 8×8 and 16 at 4×4 (the 1×1 logit left out)
    assert report["layers"] == [{"name": "net.1", "features": 128}, {"name": "net.4", "features": 256}]
    assert (
        report["validation_images"] == 150 and report["pool_images"] == 1350 and report["test_images"] == 150
    )
    for r in report["results"]:
        assert len(r["test_accuracy"]) == (2 if r["labels_per_class"] == 5 else 1)
        assert r["mean"] == pytest.approx(np.mean(r["test_accuracy"]))
        assert r["c"] == float(max(r["validation_by_c"], key=r["validation_by_c"].get))  # best validation

    # The pixel baseline with every label, recomputed directly: the same pool, test images and C.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    data = Digits(image_size=16)
    data.setup(None)
    images, labels = data.train_set.images, data.train_set.labels
    pool = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))[150:]
    pixels = next(
        r for r in report["results"] if r["features"] == "pixels" and r["labels_per_class"] == "all"
    )
    svm = make_pipeline(StandardScaler(), LinearSVC(C=pixels["c"], max_iter=5000, random_state=0))
    svm.fit((images[pool].float() / 127.5 - 1).flatten(1).numpy(), labels[pool].numpy())
    test_x = (data.test_set.images[:150].float() / 127.5 - 1).flatten(1).numpy()
    expected = np.mean(svm.predict(test_x) == data.test_set.labels[:150].numpy())
    assert pixels["test_accuracy"] == [pytest.approx(expected)]

    printed = capsys.readouterr().out
    assert "L2-SVM test accuracy" in printed and f"{100 * pixels['mean']:.2f} ± — %" in printed


def test_resolution_curve_of_samples_and_real_images(checkpoints, tmp_path, capsys):
    out = tmp_path / "out"
    analyze("resolution", "--ckpt_path", str(checkpoints["ACGAN"]), "--out", str(out),
            "--samples_per_class", "6", "--batch_size", "20")  # fmt: skip
    report = written(out, "resolution")
    assert [r["size"] for r in report["rows"]] == [16, 8, 4]  # the native size halved down to 4
    classifier = build_feature_extractor("digits")
    # Native size: the generated accuracy is discriminability() of the same samples …
    direct = discriminability(load_model(checkpoints["ACGAN"]), classifier, 6, batch_size=20)
    assert report["rows"][0]["generated"] == pytest.approx(direct.overall)
    # … and the real accuracy the classifier's on the test split, computed here directly.
    data = Digits(image_size=16)
    data.setup("test")
    predicted = classifier.predict(data.test_set.images)
    assert report["rows"][0]["real"] == pytest.approx(
        float((predicted == data.test_set.labels).float().mean())
    )
    assert report["rows"][0]["real"] > report["rows"][-1]["real"]  # 4×4 digits lose their class
    assert list(report["rows"][0]["generated_per_class"]) == list("0123456789")
    assert "generated" in capsys.readouterr().out


def test_truncation_sweep_table(checkpoints, tmp_path, capsys):
    out = tmp_path / "out"
    analyze("truncation", "--ckpt_path", str(checkpoints["BigGAN"]), "--out", str(out),
            "--truncations", "0.5,2,none",
            "--num_samples", "40", "--batch_size", "20", "--num_real", "200", "--no_cache")  # fmt: skip
    report = written(out, "truncation")
    assert [r["psi"] for r in report["rows"]] == [0.5, 2.0, None]
    assert report["feature_extractor"]["name"] == "digits"
    lines = capsys.readouterr().out.splitlines()
    table = [line.split() for line in lines if line.strip().split(" ")[0] in ("0.5", "2", "none")]
    assert [row[0] for row in table] == ["0.5", "2", "none"]
    assert [float(row[1]) for row in table] == pytest.approx([r["fid"] for r in report["rows"]], abs=1e-3)


@pytest.mark.parametrize(
    ("analysis", "model", "message"),
    [
        (
            "features",
            "CGAN",
            "features needs a discriminator that sees only the image; CGAN's also takes the label",
        ),
        ("resolution", "DCGAN", "resolution needs a class-conditional model; DCGAN is unconditional"),
        (
            "truncation",
            "CGAN",
            "the truncation trick needs a model with a normal prior; CGAN draws z from a uniform",
        ),
        ("features", "missing", "checkpoint missing.ckpt does not exist"),
    ],
)
def test_wrong_model_or_checkpoint_is_one_line(
    analysis, model, message, checkpoints, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    ckpt = str(checkpoints.get(model, "missing.ckpt"))
    with pytest.raises(SystemExit) as exit_:
        analyze(analysis, "--ckpt_path", ckpt, "--out", "out")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert not (tmp_path / "out").exists()


def test_outputs_are_never_overwritten_without_overwrite(checkpoints, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "truncation.png").write_bytes(b"mine")
    args = ["truncation", "--ckpt_path", str(checkpoints["BigGAN"]), "--out", str(out), "--truncations", "1",
            "--num_samples", "20", "--batch_size", "20", "--num_real", "100", "--no_cache"]  # fmt: skip
    with pytest.raises(SystemExit) as exit_:
        analyze(*args)
    assert exit_.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert (out / "truncation.png").read_bytes() == b"mine" and not (out / "truncation.json").exists()
    analyze(*args, "--overwrite")
    assert written(out, "truncation")["rows"][0]["psi"] == 1.0


def test_default_output_directory_sits_beside_the_checkpoint(checkpoints, tmp_path):
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(checkpoints["BigGAN"].read_bytes())
    analyze("truncation", "--ckpt_path", str(ckpt), "--truncations", "1", "--num_samples", "20",
            "--batch_size", "20",
            "--num_real", "100", "--no_cache")  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "model-analyses").iterdir()) == [
        "truncation.json",
        "truncation.png",
    ]


def test_help_lists_the_analyses(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["analyze", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: gan-zoo analyze") and all(
        a in text for a in ("features", "resolution", "truncation")
    )
