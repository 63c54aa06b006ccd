"""Every data module takes every ImageDataModule argument, from Python and from the CLI, with its own
defaults; ``hparams`` holds what was given."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import yaml

import gan_zoo.data
from gan_zoo.cli import build_cli, data_module_names, main
from gan_zoo.data import ImageDataModule

NAMES = data_module_names()
SHARED = list(inspect.signature(ImageDataModule).parameters)
#: A value other than every module's default for each shared argument, as typed on the command line.
GIVEN = {
    "data_dir": "elsewhere",
    "image_size": "16",
    "channels": "1",
    "batch_size": "5",
    "num_workers": "1",
    "download": "true",
    "val_split": "0.25",
    "seed": "7",
    "labels_per_class": "2",
}
PARSED = {"image_size": 16, "channels": 1, "batch_size": 5, "num_workers": 1, "download": True}
PARSED |= {"val_split": 0.25, "seed": 7, "labels_per_class": 2, "data_dir": "elsewhere"}
#: Shared arguments a data module refuses, with a one-line error saying why (and what to set instead).
REFUSED = {
    "SingleImage": {"image_size": "set max_size"},
    "CaptionedImages": {"labels_per_class": "captioned data keeps every label"},
    "DigitsCaptions": {"labels_per_class": "captioned data keeps every label"},
    "FashionMNISTCaptions": {"labels_per_class": "captioned data keeps every label"},
}


def test_the_shared_arguments_are_the_ones_given_values_here():
    assert sorted(SHARED) == sorted(GIVEN) == sorted(PARSED)
    assert len(NAMES) >= 11 and "DataModule" not in " ".join(NAMES)


def cli_args(name: str, arguments: dict[str, str]) -> list[str]:
    # GAN's MLP takes any image shape, so every data module's shape links into it.
    data = [x for key, value in arguments.items() for x in (f"--data.{key}", value)]
    return ["--model", "GAN", "--model.g_hidden", "8", "--model.d_hidden", "8", "--data", name, *data]


@pytest.mark.parametrize("name", NAMES)
def test_every_shared_argument_is_settable_from_the_cli_and_reaches_the_instance(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settable = {key: value for key, value in GIVEN.items() if key not in REFUSED.get(name, {})}
    data = build_cli(cli_args(name, settable), run=False).datamodule
    expected = {key: PARSED[key] for key in settable}
    given = {key: str(value) if key == "data_dir" else value for key, value in data.hparams.items()}
    assert {key: given[key] for key in settable} == expected
    assert {key: getattr(data, key) for key in settable} == {**expected, "data_dir": Path("elsewhere")}


@pytest.mark.parametrize(
    ("name", "key", "reason"), [(n, k, r) for n, refused in REFUSED.items() for k, r in refused.items()]
)
def test_a_refused_shared_argument_gets_one_line_saying_why(name, key, reason, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["fit", *cli_args(name, {key: GIVEN[key]})])
    assert exit_.value.code == 2
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("gan-zoo: error:")]
    assert line.startswith(f"gan-zoo: error: {name}") and reason in line and key in line


def help_text(capsys, *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 0
    return capsys.readouterr().out


def help_defaults(text: str) -> dict[str, object]:
    """``--data.x`` -> the default its help entry states (an entry runs to the next ``  --`` line)."""
    entries = re.split(r"^  (?=--)", text, flags=re.MULTILINE)[1:]
    defaults = {}
    for entry in entries:
        flat = " ".join(entry.split())
        if match := re.match(r"--data\.(\w+) .*default: (.*)\)$", flat):
            defaults[match.group(1)] = yaml.safe_load(match.group(2))
    return defaults


@pytest.mark.parametrize("name", NAMES)
def test_help_and_print_config_list_every_argument_with_the_modules_own_default(name, capsys):
    parameters = inspect.signature(getattr(gan_zoo.data, name)).parameters
    documented = help_defaults(help_text(capsys, "fit", "--data", name, "--help"))
    assert documented == {key: p.default for key, p in parameters.items()}
    printed = yaml.safe_load(help_text(capsys, "fit", "--model", "GAN", "--data", name, "--print_config"))
    assert printed["data"]["init_args"] == {
        key: str(p.default) if key == "data_dir" else p.default for key, p in parameters.items()
    }
