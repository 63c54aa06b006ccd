"""Every page of the manual (README.md and docs/**/*.md) is true: its code runs, or says why it cannot.

* ``bash run`` / ``python run`` blocks run in order in one directory per page (a page that needs a
  checkpoint trains a tiny model in its first block), made tiny by the page's ``REPLACEMENTS``;
* every other code block names a reason from ``markdown_blocks.REASONS`` (```` ```bash needs-gpu ````);
  its ``gan-zoo`` commands are still parsed (``fit`` / ``validate`` / ``test`` with ``--print_config``,
  so the config files and every argument must exist), its shell is checked with ``bash -n`` and its
  Python compiled;
* every relative link and ``#anchor`` points at a file and heading that exist.

A new page is tested as soon as it exists; add its tiny replacements here if its commands are long.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from markdown_blocks import (
    REPO,
    check_commands,
    command_lines,
    gan_zoo_arguments,
    replace_all,
    run_page,
    runnable_blocks,
    shown_blocks,
    unmarked_blocks,
)

from gan_zoo.models import MODELS

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]

#: A run of one epoch of two batches without a progress bar, appended to a page's ``gan-zoo fit``.
SHORT = (
    "--trainer.max_epochs 1 --trainer.limit_train_batches 2 --trainer.enable_progress_bar false "
    "--trainer.enable_model_summary false"
)
#: The quick start's DCGAN at a sixteenth of its widths.
QUICKSTART = "--config experiments/quickstart.yaml"
TINY_QUICKSTART = f"{QUICKSTART} --model.g_width 8 --model.d_width 8 {SHORT} --trainer.limit_test_batches 2"
#: Per page: what to replace to make its runnable blocks tiny (each must occur in the page).
REPLACEMENTS: dict[str, dict[str, str]] = {
    "README.md": {
        # The install is what CI's .ci/run does; the test runs the command it ends with, tiny.
        ".venv/bin/pip install -e . && .venv/bin/gan-zoo fit --config experiments/quickstart.yaml": (
            f"gan-zoo fit {TINY_QUICKSTART}"
        ),
        "python3 -m venv .venv && ": "",
        "--trainer.max_epochs 5": SHORT,
        "--feature_extractor digits": "--feature_extractor digits --num_samples 200",
    },
    "docs/training.md": {QUICKSTART: TINY_QUICKSTART},
    "docs/python.md": {
        "max_epochs=20,": "max_epochs=1, limit_train_batches=2, enable_progress_bar=False,",
        "g_width=64, d_width=64": "g_width=8, d_width=8",
        "--trainer.max_epochs 20": SHORT,
        "pl.Trainer(max_epochs=5,": "pl.Trainer(max_epochs=1, limit_train_batches=2, "
        "enable_progress_bar=False,",
    },
    "docs/models/singan.md": {
        "--config experiments/singan/rocket_cpu.yaml": "--config experiments/singan/rocket_cpu.yaml "
        "--model.min_size 12 --model.width 8 --model.iterations_per_scale 1 --model.n_critic 1 "
        "--model.g_steps 1 --data.max_size 40 --data.steps_per_epoch 1 --trainer.enable_progress_bar false",
    },
    "docs/models/attention_and_scale.md": {
        "--config experiments/biggan/digits.yaml\n": "--config experiments/biggan/digits.yaml "
        "--model.g_width 2 --model.d_width 2 --model.shared_dim 4 --model.n_critic 1 --model.ema_start 0 "
        f"{SHORT}\n",
    },
    "docs/models/classic.md": {
        "--config experiments/semi_supervised/digits.yaml": "--config "
        "experiments/semi_supervised/digits.yaml --model.g_hidden 16 --model.d_hidden '[16, 8]' "
        f"{SHORT} --trainer.limit_test_batches 2",
    },
    "docs/models/text_to_image.md": {
        "--config experiments/text2image/fashion_mnist_cpu.yaml": "--config "
        f"experiments/text2image/fashion_mnist_cpu.yaml --model.g_width 8 --model.d_width 8 {SHORT}",
    },
    "docs/evaluation.md": {
        QUICKSTART: TINY_QUICKSTART,
        "feature_extractor=digits": "feature_extractor=digits --trainer.callbacks.num_samples=200",
        "--num_samples 10000 --feature_extractor digits": "--num_samples 200 --feature_extractor digits",
    },
}
#: Pages whose runnable blocks a test of their own runs and checks: here only their shown blocks are.
OWN_TEST = {"docs/preemptible.md": "tests/test_docs_preemptible.py", "docs/ema.md": "tests/test_docs_ema.py"}
#: Pages known to fail a check, by check: each is an expected failure that must become a pass.
KNOWN_FAILURES: dict[str, dict[str, str]] = {}
#: Quiet, one thread per process (the suite runs in parallel), nothing written outside the run directory.
ENV = {"PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1", "WANDB_MODE": "offline"}


def name(page: Path) -> str:
    return page.relative_to(REPO).as_posix()


def pages(check: str) -> list:
    """The pages as parameters, with the expected failures of ``check`` marked."""
    return [
        pytest.param(
            page,
            id=name(page),
            marks=[pytest.mark.xfail(reason=KNOWN_FAILURES[check][name(page)], strict=True)]
            if name(page) in KNOWN_FAILURES.get(check, {})
            else [],
        )
        for page in PAGES
    ]


@pytest.mark.parametrize("page", pages("runs"))
def test_the_run_blocks_succeed(page, tmp_path, preloaded):
    if name(page) in OWN_TEST or not runnable_blocks(page.read_text()):
        replace_all(page.read_text(), REPLACEMENTS.get(name(page), {}))  # still occur in the page
        return
    (tmp_path / "experiments").symlink_to(REPO / "experiments")
    env = {**ENV, "GAN_ZOO_CACHE_DIR": str(tmp_path / "cache")}
    run_page(page, tmp_path, REPLACEMENTS.get(name(page), {}), env=env, preloaded=preloaded)


@pytest.mark.parametrize("page", pages("marked"))
def test_every_code_block_is_run_or_marked(page):
    assert not unmarked_blocks(page.read_text()), (
        f"{name(page)}: make these blocks `bash run` / `python run`, or give a reason from "
        f"markdown_blocks.REASONS (e.g. ```bash needs-gpu): {unmarked_blocks(page.read_text())}"
    )


@pytest.fixture(scope="module")
def command_failures(tmp_path_factory) -> list[str]:
    """Every shown ``gan-zoo`` command of every page, parsed in one process (gan_zoo's import is the cost)."""
    commands = {
        tuple(arguments)
        for page in PAGES
        for fence in shown_blocks(page.read_text())
        if fence.language != "python"
        for words in command_lines(fence.code)
        if (arguments := gan_zoo_arguments(words))
    }
    workdir = tmp_path_factory.mktemp("commands")
    (workdir / "experiments").symlink_to(REPO / "experiments")
    return check_commands([list(c) for c in sorted(commands)], workdir, ENV)


@pytest.mark.parametrize("page", pages("parses"))
def test_the_shown_blocks_parse(page, command_failures):
    problems = []
    for fence in shown_blocks(page.read_text()):
        where = f"{name(page)}:{fence.line}"
        if fence.language == "python":
            try:
                compile(fence.code, where, "exec")
            except SyntaxError as error:
                problems.append(f"{where}: {error}")
            continue
        code = "\n".join(line.removeprefix("$ ") for line in fence.code.splitlines())
        checked = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
        if checked.returncode:
            problems.append(f"{where}: {checked.stderr.strip()}")
        for words in command_lines(fence.code):
            arguments = gan_zoo_arguments(words)
            prefix = f"gan-zoo {' '.join(arguments or [])}\n"
            if arguments:
                problems += [f"{where}: {f}" for f in command_failures if f.startswith(prefix)]
    assert not problems, "\n".join(problems)


#: ``[text](target)`` and ``![alt](target)``; reference definitions ``[name]: target``.
_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|^\[[^\]]+\]:\s*(\S+)", re.M)


def anchors(page: Path) -> set[str]:
    """The ``#anchors`` of a page's headings, made as GitHub makes them."""
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", page.read_text(), flags=re.M | re.S)
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


@pytest.mark.parametrize("page", pages("links"))
def test_relative_links_and_anchors_resolve(page):
    text = re.sub(r"^(`{3,}|~{3,}).*?^\1", "", page.read_text(), flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    broken = []
    for match in _LINK.finditer(text):
        target = match[1] or match[2]
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            broken.append(f"{target}: no heading #{anchor} in {name(file)}")
    assert not broken, f"{name(page)}: " + "; ".join(broken)


def test_the_pages_are_found():
    assert {"README.md", "docs/training.md", "docs/models/classic.md", "docs/preemptible.md"} <= {
        name(page) for page in PAGES
    }
    assert set(REPLACEMENTS) <= {name(page) for page in PAGES}


@pytest.mark.parametrize("model", MODELS.names())
def test_the_readme_has_a_row_for_every_model_linked_to_its_scoreboard_row(model):
    lines = (REPO / "README.md").read_text().splitlines()
    rows = [line for line in lines if line.startswith(f"| `{model}` |")]
    assert len(rows) == 1, f"README.md: add one row `| `{model}` | paper | file | … |` to the model table"
    assert f"(docs/scoreboard.md#{model.lower()})" in rows[0]
