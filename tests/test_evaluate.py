"""``gan-zoo evaluate``: the callback's numbers from the checkpoint, the analyses, the files it writes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import torch
from conftest import build_tiny, make_trainer
from test_cli import TINY_FIT

from gan_zoo.checkpoints import MODEL_CLASS_KEY
from gan_zoo.cli import build_cli, main
from gan_zoo.commands.evaluate import parse_args
from gan_zoo.data import Digits

sys.path.insert(0, str(Path(__file__).parent / "metrics"))
from metric_helpers import random_classifier

# Digits at 16×16, one short epoch: test_cli's tiny fit without its model.
DATA_AND_TRAINER = [
    x
    for k, v in zip(TINY_FIT[::2], TINY_FIT[1::2], strict=True)
    if not k.startswith("--model")
    for x in (k, v)
]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    random_classifier().save(tmp_path / "random.pt")
    return tmp_path


def checkpoint(root: Path, name: str) -> Path:
    return root / "runs" / f"{name}-digits" / "version_0" / "checkpoints" / "last.ckpt"


@pytest.mark.filterwarnings("ignore:Metric `.*` will save all extracted features")
def test_evaluate_reproduces_the_callbacks_from_the_checkpoint(workdir, capsys):
    options = ["--feature_extractor=random.pt", "--num_samples=200", "--batch_size=50", "--cache_dir=cache"]
    options += ["--num_real_samples=300"]
    callbacks = [f"--trainer.callbacks.{o.lstrip('-')}" for o in options]
    fit = ["fit", *TINY_FIT, "--model.ema_decay", "0.9"]
    cli = build_cli([*fit, "--trainer.callbacks+=FID", *callbacks, "--trainer.callbacks+=KID", *callbacks])
    logged = {k: float(v) for k, v in cli.trainer.callback_metrics.items() if k.startswith("eval/")}
    names = ("fid", "kid_mean", "kid_std")
    assert set(logged) == {f"eval/random/{name}{suffix}" for name in names for suffix in ("", "_raw")}

    ckpt = checkpoint(workdir, "dcgan")
    for weights, suffix in (([], ""), (["--weights", "raw"], "_raw")):
        output = workdir / f"evaluation{suffix}.json"
        main([
            "evaluate", "--ckpt_path", str(ckpt), "--data", "digits", "--metrics", "fid,kid",
            "--num_samples", "200", "--batch_size", "50", "--feature_extractor", "random.pt",
            "--cache_dir", "cache", "--num_real", "300", "--no_progress", "--output", str(output), *weights,
        ])  # fmt: skip
        report = json.loads(output.read_text())
        assert report["model"] == "gan_zoo.models.dcgan.DCGAN"
        assert report["weights"] == ("raw" if weights else "ema")
        for name in names:
            expected = logged[f"eval/random/{name}{suffix}"]
            assert report["metrics"][name] == pytest.approx(expected, rel=1e-6), name + suffix
        printed = capsys.readouterr().out
        assert f"{report['weights']} weights" in printed and f"{report['metrics']['fid']:.4f}" in printed


def test_conditional_model_accuracy_and_diversity(workdir, capsys):
    build_cli(["fit", "--model", "CGAN", "--model.latent_dim", "8", *DATA_AND_TRAINER])
    ckpt = checkpoint(workdir, "cgan")
    args = [
        "evaluate",
        "--ckpt_path",
        str(ckpt),
        "--data",
        "Digits",
        "--metrics",
        "accuracy,diversity",
        "--num_samples",
        "40",
    ]
    main([*args, "--pairs", "3", "--batch_size", "20", "--no_progress"])
    report = json.loads(ckpt.with_name("last-evaluation.json").read_text())
    accuracy, diversity = report["accuracy"], report["diversity"]
    assert accuracy["classifier"] == "digits" and accuracy["samples_per_class"] == 4
    assert list(accuracy["per_class"]) == list("0123456789")
    assert accuracy["overall"] == pytest.approx(sum(accuracy["per_class"].values()) / 10)
    assert accuracy["real_test_accuracy"] > 0.95  # the shipped classifier's record
    assert set(diversity["msssim"]) == set("0123456789") and diversity["pairs"] == 3
    shares = [d["generated"] <= d["real"] for d in diversity["msssim"].values()]
    assert diversity["share_at_least_as_diverse"] == pytest.approx(sum(shares) / 10)
    printed = capsys.readouterr().out
    assert "accuracy overall" in printed and "classes at least as diverse as real data" in printed

    # A second evaluation never overwrites the first report.
    main([*args, "--pairs", "3", "--batch_size", "20", "--no_progress"])
    assert ckpt.with_name("last-evaluation-1.json").is_file()
    with pytest.raises(SystemExit):
        main([*args, "--output", str(ckpt.with_name("last-evaluation.json"))])
    assert "exists" in capsys.readouterr().err


def test_checkpoints_without_a_recorded_class_need_model(workdir, tmp_path, capsys):
    model, data = build_tiny("DCGAN"), Digits(image_size=16, batch_size=16)
    trainer = make_trainer(tmp_path, limit_train_batches=1)
    trainer.fit(model, datamodule=data)
    trainer.save_checkpoint(tmp_path / "plain.ckpt")
    checkpoint = torch.load(tmp_path / "plain.ckpt", weights_only=True)
    del checkpoint[MODEL_CLASS_KEY]  # as in a file from a model that does not record its class
    torch.save(checkpoint, tmp_path / "plain.ckpt")
    args = [
        "evaluate",
        "--ckpt_path",
        str(tmp_path / "plain.ckpt"),
        "--data",
        "Digits",
        "--num_samples",
        "20",
    ]
    args += ["--batch_size", "10", "--feature_extractor", "random.pt", "--num_real", "200", "--no_cache"]
    args += ["--no_progress"]
    with pytest.raises(SystemExit) as exit_:  # one line on stderr, exit code 2
        main(args)
    assert exit_.value.code == 2
    assert re.search(
        r"does not record which model wrote it.*--model NAME, one of: .*DCGAN", capsys.readouterr().err
    )
    main([*args, "--model", "DCGAN", "--metrics", "fid,is,mifid"])
    report = json.loads((tmp_path / "plain-evaluation.json").read_text())
    assert set(report["metrics"]) == {"fid", "is_mean", "is_std", "mifid"}


def test_bad_requests_are_explained(workdir, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--ckpt_path", "x.ckpt", "--data", "Digits", "--metrics", "fid,precision"])
    assert (
        "unknown metrics ['precision']; valid: fid, kid, is, mifid, precision_recall, accuracy, diversity"
        in capsys.readouterr().err
    )
    # main() reports bad input as one line on stderr and exit code 2
    with pytest.raises(SystemExit) as exit_:
        main(["evaluate", "--ckpt_path", "x.ckpt", "--data", "Digits"])
    assert exit_.value.code == 2 and "x.ckpt does not exist" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r"Unknown dataset 'Digitz'\. Valid names: CIFAR10, .*Digits"):
        main(["evaluate", "--ckpt_path", "x.ckpt", "--data", "Digitz", "--model", "DCGAN"])


def test_kebab_case_and_the_old_checkpoint_flag_are_aliases():
    snake = [
        "--ckpt_path",
        "x.ckpt",
        "--data",
        "Digits",
        "--num_samples",
        "5",
        "--feature_extractor",
        "digits",
    ]
    kebab = ["--ckpt", "x.ckpt", "--data", "Digits", "--num-samples", "5", "--feature-extractor", "digits"]
    assert parse_args(kebab) == parse_args(snake)
    assert parse_args(snake).num_samples == 5 and parse_args(snake).feature_extractor == "digits"
