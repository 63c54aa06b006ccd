"""Options every command spells the same way: ``--ckpt_path`` as in ``gan-zoo fit``/``validate``/``test``.

Multi-word options are snake_case, as LightningCLI's, each with its kebab-case spelling as an alias.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: The checkpoint option, with the spellings the commands used before (``--ckpt``) as aliases.
CKPT_PATH = ("--ckpt_path", "--ckpt-path", "--ckpt")


def add_ckpt_path(
    parser: argparse.ArgumentParser, help: str, required: bool = True, aliases: tuple[str, ...] = ()
) -> None:
    """``--ckpt_path PATH`` (also ``--ckpt-path``, ``--ckpt`` and ``aliases``), read as ``args.ckpt``."""
    parser.add_argument(*CKPT_PATH, *aliases, dest="ckpt", required=required, type=Path, help=help)
