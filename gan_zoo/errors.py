"""Errors caused by what the user gave (a config, a path, a checkpoint), and how the CLI reports them.

Every such error reaches the terminal as one line, ``gan-zoo: error: <what is wrong>``, with exit code
2 and no traceback; ``GAN_ZOO_DEBUG=1`` shows the traceback instead. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from gan_zoo.registry import UnknownNameError

#: Set to 1 to see the full traceback of an input error.
DEBUG_ENV = "GAN_ZOO_DEBUG"
EXIT_CODE = 2


class GanZooError(Exception):
    """Base class of the errors gan_zoo raises for bad input; the message is one line."""


class ConfigError(GanZooError, ValueError):
    """A configuration value the models or data modules reject."""


class InvalidDataError(GanZooError, ValueError):
    """The data does not fit what is asked of it (e.g. labels outside ``[0, num_classes)``)."""


class CheckpointError(GanZooError, ValueError):
    """A file that is not a loadable checkpoint of the model being trained or sampled."""


class RunDirectoryExistsError(GanZooError, FileExistsError):
    """A fresh run would write into a directory that already holds results."""


class OutputExistsError(GanZooError, FileExistsError):
    """A file a command would write exists, and replacing it was not asked for."""


_KEY = re.compile(r'^Parser key "([^"]+)":')
_NOT_IMPORTABLE = re.compile(r"Expected a dot import path string: (\S+)")
_UNKNOWN_OPTION = re.compile(
    r"(?:^(?:Option|Key) '([^']+)' is not (?:accepted|expected)|does not accept option '([^']+)')"
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        # ``raise ... from None`` hides the context: so do we.
        exc = exc.__cause__ if exc.__cause__ is not None or exc.__suppress_context__ else exc.__context__


def one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException, valid_names: dict[str, list[str]] | None = None) -> str | None:
    """The one-line message for an input error, ``None`` when ``exc`` is not one (a bug).

    jsonargparse wraps a constructor's own error (``DCGAN needs square images ...``) in several layers
    of "Does not validate against any of the Union subtypes"; the message that says what is wrong is
    gan_zoo's own (the outermost :class:`GanZooError` in the chain, which may itself wrap the
    ``OSError`` it explains: "[Errno -2] Name or service not known" says nothing of what to do), else
    the innermost one, prefixed by the config key it belongs to.

    Args:
        exc: the exception that ended the command.
        valid_names: for ``model`` / ``data``, the names to list when a class name is unknown.
    """
    chain = list(_chain(exc))
    own = next((e for e in chain if isinstance(e, GanZooError)), None)
    user_error = own is not None or isinstance(
        exc, (UnknownNameError, FileNotFoundError, argparse.ArgumentError)
    )
    # A constructor's ValueError/TypeError surfaces through jsonargparse's instantiation.
    instantiation = isinstance(exc, (ValueError, TypeError)) and "Union subtypes" in str(exc)
    if not (user_error or instantiation):
        return None
    keys = [m.group(1) for e in chain if (m := _KEY.match(str(e)))]
    keys = [k for i, k in enumerate(keys) if k not in keys[:i]]
    message = one_line(str(own if own is not None else chain[-1]))
    if keys and keys[0] in ("model", "data") and (m := _NOT_IMPORTABLE.search(str(exc))):
        names = ", ".join((valid_names or {}).get(keys[0], []))
        return f"Unknown {keys[0]} '{m.group(1)}'. Valid names: {names}."
    if m := _UNKNOWN_OPTION.search(message):
        message = f"unknown key '{m.group(1) or m.group(2)}'"
    return f"{'.'.join(keys)}: {message}" if keys else message


@contextmanager
def reported(program: str, valid_names: dict[str, list[str]] | None = None) -> Iterator[None]:
    """Turn input errors raised inside the block into one line on stderr and exit code 2."""
    try:
        yield
    except Exception as exc:
        message = describe(exc, valid_names)
        if message is None or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        print(f"{program}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_CODE) from None
