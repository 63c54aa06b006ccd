"""Run the runnable code blocks of a Markdown page, so the commands the docs show are the ones that work.

A fenced block whose info string is ``bash run`` or ``python run`` is runnable; every other block
(plain ``bash``, ``yaml``, output) is only shown. The blocks of a page run in order, in one directory,
so a later block sees what an earlier one wrote, as a reader following the page would::

    from markdown_blocks import run_page

    def test_my_page(tmp_path):
        run_page(REPO / "docs" / "my_page.md", tmp_path, replacements={"--trainer.max_epochs 25": "..."})

``replacements`` make a page's commands tiny for the test (fewer epochs, a small data set): each one
must occur in the page, so a page edited away from the test fails instead of silently running in full.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: ```` ```bash run ```` or ```` ```python run ````, up to the closing fence of the same length.
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<code>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
RUNNABLE = {"bash run": "bash", "python run": "python"}


@dataclass(frozen=True)
class Block:
    """A runnable fenced block: its language (``bash`` or ``python``), code, and first line number."""

    language: str
    code: str
    line: int


def runnable_blocks(text: str) -> list[Block]:
    """The ``bash run`` and ``python run`` blocks of a Markdown text, in order."""
    blocks = []
    for match in _FENCE.finditer(text):
        info = " ".join(match["info"].split())
        if info in RUNNABLE:
            line = text.count("\n", 0, match.start()) + 1
            blocks.append(Block(RUNNABLE[info], match["code"], line))
    return blocks


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
    block: Block, workdir: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """Run one block in ``workdir``: bash with ``set -euo pipefail``, python with this interpreter."""
    if block.language == "bash":
        command = ["bash", "-c", "set -euo pipefail\n" + block.code]
    else:
        command = [sys.executable, "-c", block.code]
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


def run_page(
    page: Path,
    workdir: Path,
    replacements: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> list[subprocess.CompletedProcess]:
    """Run every runnable block of ``page`` in ``workdir``, in order; fail on a non-zero exit status.

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
        result = run_block(block, workdir, environment(env), timeout)
        assert result.returncode == 0, (
            f"{page}:{block.line}: the {block.language} block exited with {result.returncode}\n"
            f"{block.code}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
        results.append(result)
    return results
