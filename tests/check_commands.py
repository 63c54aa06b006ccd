"""Parse ``gan-zoo`` command lines without running them: one process for many (gan_zoo's import is the cost).

Reads a JSON list of argument lists on stdin (each what follows ``gan-zoo``), prints a JSON list of
failures on its last stdout line. Used by :func:`markdown_blocks.check_commands` for the commands a page
shows but cannot run in a test.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from gan_zoo.cli import main
from gan_zoo.commands import analyze, evaluate, sample, singan

#: Parsers of the commands beyond LightningCLI's: they parse, they do not run.
PARSE = {
    "sample": lambda argv: sample.build_parser().parse_args(argv),
    "evaluate": evaluate.parse_args,
    "analyze": lambda argv: analyze.build_parser().parse_args(argv),
    "singan": lambda argv: singan.build_parser().parse_args(argv),
}


def check(arguments: list[str]) -> str | None:
    """``None`` when ``gan-zoo <arguments>`` parses, else what the command printed on failing."""
    output = io.StringIO()
    command, rest = arguments[0], arguments[1:]
    if command not in (*PARSE, "fit", "validate", "test"):
        return f"unknown command {command!r}"
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            if command in PARSE:
                PARSE[command](rest)
                return None
            main([*arguments, "--print_config"])
    except SystemExit as stop:
        if stop.code in (0, None):
            return None
        return "\n    ".join(output.getvalue().strip().splitlines()[-5:]) or f"exit status {stop.code}"
    except Exception as error:  # reported with the command, for the test to fail on
        return f"{type(error).__name__}: {error}"
    return "returned without printing its config"


if __name__ == "__main__":
    failures = []
    for arguments in json.load(sys.stdin):
        message = check(arguments)
        if message is not None:
            failures.append(f"gan-zoo {' '.join(arguments)}\n    {message}")
    print(json.dumps(failures))
