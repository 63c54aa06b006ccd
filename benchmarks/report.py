"""What every benchmark records next to its numbers: machine, load, versions, date; and the JSON file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from gan_zoo.machine import cpu_name


def write_report(path: Path, results: list[dict], load_at_start: float, **settings: Any) -> None:
    """Write ``{"meta": ..., "results": ...}`` to ``path`` and print the load seen during the run."""
    load_at_end = os.getloadavg()[0]
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_name(),
        "torch": torch.__version__,
        "load_average_1min": [load_at_start, load_at_end],
        **settings,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(
        f"load average (1 min) at the start {load_at_start:.1f}, at the end {load_at_end:.1f}; wrote {path}"
    )
