"""The command's ergonomics: readable help, the model's own arguments documented, a rich progress bar."""

from __future__ import annotations

import inspect
import re

import pytest
from pytorch_lightning.callbacks import ModelSummary as LightningModelSummary
from pytorch_lightning.callbacks import RichProgressBar, TQDMProgressBar

from gan_zoo.callbacks import ModelSummary
from gan_zoo.cli import COMMANDS, DESCRIPTIONS, build_cli, main
from gan_zoo.core import AdversarialModule
from gan_zoo.models import MODELS

SHARED = set(inspect.signature(AdversarialModule).parameters)


def help_text(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_top_level_help_lists_every_command_with_its_line(capsys):
    text = help_text(capsys, "--help")
    assert text.startswith("usage: gan-zoo")
    assert "experiments/quickstart.yaml" in " ".join(text.split())  # argparse wraps lines
    for name in [*COMMANDS, "fit", "validate", "test"]:
        assert re.search(rf"^    {name} +{re.escape(DESCRIPTIONS[name])}$", text, re.MULTILINE), name


def test_fit_with_a_model_and_help_shows_that_models_arguments(capsys):
    text = help_text(capsys, "fit", "--model", "DCGAN", "--help")
    assert "--model.g_width" in text and "--trainer.max_epochs" not in text
    assert len(text.splitlines()) < len(help_text(capsys, "fit", "--help").splitlines()) / 2
    assert "--data.image_size" in help_text(capsys, "fit", "--data=Digits", "--help")


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_documents_its_own_arguments(name, capsys):
    text = help_text(capsys, "fit", "--model", name, "--help")
    own = [p for p in inspect.signature(MODELS.get(name)).parameters if p not in SHARED]
    for parameter in own:
        # "  --model.x X   description" or the description on the next line; an undocumented
        # argument's description starts straight with "(type:".
        pattern = rf"^  --model\.{parameter} \S+(?:, \S+ \S+)?(?: {{2,}}(.+))?\n\s+(.+)"
        match = re.search(pattern, text, re.MULTILINE)
        assert match, f"--model.{parameter} missing from the help"
        description = match.group(1) or match.group(2)
        assert not description.startswith("(type:"), f"{name}: '{parameter}' has no docstring entry"


def tiny(*extra: str) -> list[str]:
    return ["--model", "DCGAN", "--data", "Digits", "--data.image_size", "16", *extra]


def test_rich_progress_bar_and_summary_without_flops_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    trainer = build_cli(tiny(), run=False).trainer
    assert isinstance(trainer.progress_bar_callback, RichProgressBar)
    assert [type(c) for c in trainer.callbacks if isinstance(c, LightningModelSummary)] == [ModelSummary]
    off = build_cli(tiny("--trainer.enable_model_summary", "false"), run=False).trainer
    assert not any(isinstance(c, LightningModelSummary) for c in off.callbacks)
    off = build_cli(tiny("--trainer.enable_progress_bar", "false"), run=False)
    assert off.trainer.progress_bar_callback is None
    own = build_cli(tiny("--trainer.callbacks", "TQDMProgressBar"), run=False)
    assert isinstance(own.trainer.progress_bar_callback, TQDMProgressBar)
