"""Run the runnable code blocks of a Markdown page, so the commands the docs show are the ones that work.

A fenced block whose info string is ``bash run`` or ``python run`` is runnable; a code block that cannot
run in a test says why in its info string, with one of :data:`REASONS` (```` ```bash needs-gpu ````);
other blocks (``yaml``, ``text``, output) are only shown. The blocks of a page run in order, in one
directory, so a later block sees what an earlier one wrote, as a reader following the page would::

    from markdown_blocks import run_page

    def test_my_page(tmp_path):
        run_page(REPO / "docs" / "my_page.md", tmp_path, replacements={"--trainer.max_epochs 25": "..."})

``replacements`` make a page's commands tiny for the test (fewer epochs, a small data set): each one
must occur in the page, so a page edited away from the test fails instead of silently running in full.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from preloaded import Preloaded

REPO = Path(__file__).resolve().parents[1]

#: ```` ```bash run ```` or ```` ```python run ````, up to the closing fence of the same length.
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
RUNNABLE = {"bash run": "bash", "python run": "python"}
#: Languages of code a reader runs; a block in one of them is runnable or marked with a reason.
SHELL = {"bash", "sh", "shell", "console"}
CODE = SHELL | {"python"}
#: Why a code block cannot run in the test suite: the only words accepted after its language.
REASONS = {
    "needs-gpu": "needs one or more CUDA GPUs",
    "needs-internet": "downloads data, weights or packages, or talks to a web service",
    "needs-docker": "needs a Docker daemon",
    "needs-cluster": "needs several machines or a job scheduler (torchrun across nodes, SLURM)",
    "needs-data": "reads a dataset or files that are not on this machine (LSUN, your own images)",
    "needs-time": "a full training run or a measurement: minutes to hours on a CPU",
}


@dataclass(frozen=True)
class Block:
    """A runnable fenced block: its language (``bash`` or ``python``), code, and first line number."""

    language: str
    code: str
    line: int


@dataclass(frozen=True)
class Fence:
    """Any fenced block: the words of its info string (``["bash", "run"]``), code and first line number."""

    words: tuple[str, ...]
    code: str
    line: int

    @property
    def language(self) -> str:
        return self.words[0] if self.words else ""

    @property
    def is_code(self) -> bool:
        """Commands or Python a reader would run (a ``console`` block only with ``$`` prompts)."""
        if self.language == "console":
            return any(line.startswith("$ ") for line in self.code.splitlines())
        return self.language in CODE


def fenced_blocks(text: str) -> list[Fence]:
    """Every fenced block of a Markdown text, in order."""
    return [
        Fence(tuple(match["info"].split()), match["code"], text.count("\n", 0, match.start()) + 1)
        for match in _FENCE.finditer(text)
    ]


def runnable_blocks(text: str) -> list[Block]:
    """The ``bash run`` and ``python run`` blocks of a Markdown text, in order."""
    return [
        Block(RUNNABLE[" ".join(fence.words)], fence.code, fence.line)
        for fence in fenced_blocks(text)
        if " ".join(fence.words) in RUNNABLE
    ]


def unmarked_blocks(text: str) -> list[str]:
    """Code blocks that neither run nor give one of :data:`REASONS`, as ``"line N: info"``."""
    return [
        f"line {fence.line}: ```{' '.join(fence.words)}"
        for fence in fenced_blocks(text)
        if fence.is_code
        and " ".join(fence.words) not in RUNNABLE
        and not (len(fence.words) == 2 and fence.words[1] in REASONS)
    ]


def shown_blocks(text: str) -> list[Fence]:
    """The code blocks that are shown but not run (those marked with a reason)."""
    return [fence for fence in fenced_blocks(text) if fence.is_code and " ".join(fence.words) not in RUNNABLE]


def command_lines(code: str) -> list[list[str]]:
    """A shell block's commands as words: continuations joined, comments and ``$`` prompts dropped."""
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        words = shlex.split(line.removeprefix("$ "), comments=True)
        if words:
            commands.append(words)
    return commands


def gan_zoo_arguments(words: list[str]) -> list[str] | None:
    """The arguments of ``gan-zoo`` (or ``python -m gan_zoo``) in a command, wherever it is launched from
    (``srun``, ``torchrun -m gan_zoo``, ``docker run … gan-zoo``); ``None`` when the command is another."""
    for i, word in enumerate(words):
        if word == "gan-zoo" and i + 1 < len(words) and not words[i + 1].startswith("."):
            return words[i + 1 :]
        if word == "gan_zoo" and i > 0 and words[i - 1] == "-m":
            return words[i + 1 :]
    return None


def check_commands(commands: list[list[str]], workdir: Path, env: dict[str, str] | None = None) -> list[str]:
    """Parse each ``gan-zoo`` argument list without running it, all in one process (see check_commands_main).

    ``fit`` / ``validate`` / ``test`` are given ``--print_config``, so the config files must exist and
    every argument must fit the model, data and trainer; ``sample``, ``evaluate``, ``analyze`` and
    ``singan`` go through their argument parsers.

    Returns:
        One message per command that does not parse, with the command and the error's last lines.
    """
    if not commands:
        return []
    result = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("check_commands.py"))],
        input=json.dumps(commands),
        cwd=workdir,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def replace_all(text: str, replacements: dict[str, str]) -> str:
    """``text`` with every replacement made; raise ``ValueError`` for one that does not occur."""
    missing = [old for old in replacements if old not in text]
    if missing:
        raise ValueError(f"not in the page any more: {missing}")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's Python and this checkout first: ``gan-zoo`` and ``python`` in the blocks are ours."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    pythonpath = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PATH": path, "PYTHONPATH": pythonpath, **(extra or {})}


def run_block(
    block: Block, workdir: Path, env: dict[str, str], timeout: float, preloaded: Preloaded | None = None
) -> subprocess.CompletedProcess:
    """Run one block in ``workdir``: bash with ``set -euo pipefail``, python with this interpreter (or in
    ``preloaded``, whose ``gan-zoo`` the bash blocks then call too)."""
    if block.language == "bash":
        command = ["bash", "-c", "set -euo pipefail\n" + block.code]
    elif preloaded:
        command = preloaded.python_command(block.code)
    else:
        command = [sys.executable, "-c", block.code]
    if preloaded:
        env = {**env, **preloaded.env, "PATH": os.pathsep.join([str(preloaded.bin), env["PATH"]])}
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


def run_page(
    page: Path,
    workdir: Path,
    replacements: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    preloaded: Preloaded | None = None,
) -> list[subprocess.CompletedProcess]:
    """Run every runnable block of ``page`` in ``workdir``, in order; fail on a non-zero exit status.
    With ``preloaded`` (tests/preloaded.py), ``gan-zoo`` and the Python blocks skip the import of gan_zoo.

    Returns:
        The finished processes, one per block, for checks on their output.

    Raises:
        AssertionError: a block exited with another status than 0 (the page, the line and the output
            are in the message), or the page has no runnable block.
    """
    text = replace_all(Path(page).read_text(), replacements or {})
    blocks = runnable_blocks(text)
    assert blocks, f"{page} has no ```bash run or ```python run block"
    results = []
    for block in blocks:
        result = run_block(block, workdir, environment(env), timeout, preloaded)
        assert result.returncode == 0, (
            f"{page}:{block.line}: the {block.language} block exited with {result.returncode}\n"
            f"{block.code}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
        results.append(result)
    return results
