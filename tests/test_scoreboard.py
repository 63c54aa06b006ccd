"""benchmarks/scoreboard.py at a tiny budget: two models, two batches each, a hundred samples.

Checks that every output holds what it claims (the per-model JSON, the Markdown table, the grids and the
montage, the page in docs/) and that a second run keeps the finished models instead of training them.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
TINY = [
    "DCGAN:model.init_args.g_width=4",
    "DCGAN:model.init_args.d_width=4",
    "GAN:model.init_args.g_hidden=16",
    "GAN:model.init_args.d_hidden=8",
]
SCORES = {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall"}


def load_scoreboard():
    sys.path.insert(0, str(REPO / "benchmarks"))  # the script imports its siblings
    try:
        spec = importlib.util.spec_from_file_location("scoreboard", REPO / "benchmarks" / "scoreboard.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["scoreboard"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return module


@pytest.mark.real_data
@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_a_tiny_scoreboard_writes_what_it_claims_and_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_ZOO_CACHE_DIR", str(tmp_path / "cache"))
    scoreboard = load_scoreboard()
    out, doc = tmp_path / "out", tmp_path / "docs" / "scoreboard.md"
    argv = ["--models", "DCGAN", "GAN", "--max-batches", "2", "--num-samples", "100", "--threads", "1"]
    argv += ["--out", str(out), "--doc", str(doc), "--work-dir", str(tmp_path / "work")]
    argv += ["--lock", str(tmp_path / "cpu.lock")]
    argv += [f"--set={item}" for item in TINY]
    first = scoreboard.main(argv)

    rows = {row["model"]: row for row in first["rows"]}
    assert set(rows) == {"DCGAN", "GAN"}
    for name, row in rows.items():
        stored = json.loads((out / "models" / f"{name}.json").read_text())
        assert stored == json.loads(json.dumps(row))  # the combined file holds the per-model rows
        assert set(row["scores"]) >= SCORES and row["batches"] == 2
        assert row["images"] == 2 * row["batch_size"]
        assert row["images_per_second"] == pytest.approx(row["images"] / row["train_seconds"])
        assert 0.0 <= row["scores"]["precision"] <= 1.0 and 0.0 <= row["scores"]["recall"] <= 1.0
        assert row["status"] == "ok" or row["status"].startswith("collapsed: recall")
        with Image.open(out / row["grid"]) as grid:  # 8×8 cells of 32 px with 2 px borders
            assert [grid.height, grid.width] == row["grid_size"] == [8 * 34 + 2, 8 * 34 + 2]
        config = (out / row["config"]).read_text()
        assert f"gan_zoo.models.{name}" in config and "FashionMNIST" in config
    # What was changed is recorded, from the source file's value to the new one.
    assert "model.g_width: 32 → 4" in rows["DCGAN"]["overrides"]
    assert "data: MNIST → FashionMNIST" in rows["GAN"]["overrides"]
    assert rows["GAN"]["overrides"][0] == "source: experiments/gan/mnist.yaml"

    table, page = (out / "scoreboard.md").read_text(), doc.read_text()
    for name, row in rows.items():
        # Each row links to its model's section, whose heading is the stable anchor (#dcgan, #gan).
        cell = f"[{name}](#{name.lower()})"
        for text, root in ((table, out), (page, doc.parent)):
            line = next(line for line in text.splitlines() if line.startswith(f"| {cell} |"))
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            assert cells[1] == row["status"] and cells[4] == scoreboard.fmt(row["scores"]["fid"])
            assert cells[7:9] == [scoreboard.fmt(row["scores"][k], 2) for k in ("precision", "recall")]
            load = row["load_average_1min"]
            assert cells[10] == f"{load[0]:.1f} → {load[1]:.1f}"
            assert f"\n### {name}\n" in text
            grid = next(line for line in text.splitlines() if line.startswith(f"![{name} samples]("))
            assert (root / grid[grid.index("(") + 1 : -1]).resolve() == (out / row["grid"]).resolve()
    # The reference row: real training images scored as samples, far ahead of two batches of training.
    reference = json.loads((out / "reference.json").read_text())
    assert reference["settings"] == {"num_samples": 100, "seed": 0}
    real = reference["scores"]
    assert real["fid"] < min(row["scores"]["fid"] for row in rows.values())
    assert real["recall"] > max(row["scores"]["recall"] for row in rows.values())
    cells = next(line for line in table.splitlines() if line.startswith("| real training images |")).split(
        "|"
    )
    assert [c.strip() for c in cells[5:6] + cells[8:10]] == [
        scoreboard.fmt(real["fid"]),
        scoreboard.fmt(real["precision"], 2),
        scoreboard.fmt(real["recall"], 2),
    ]
    # The page's date is when the rows were made, not when the page was rendered.
    finished = sorted(row["finished"] for row in rows.values())
    assert f"models finished {finished[0]} to {finished[-1]}" in page
    montage_link = next(line for line in page.splitlines() if line.startswith("![sample grids"))
    assert (doc.parent / montage_link[montage_link.index("(") + 1 : -1]).resolve() == out / "montage.png"
    combined = json.loads((out / "scoreboard.json").read_text())
    assert combined["meta"]["num_samples"] == 100 and combined["meta"]["cpu"]
    with Image.open(out / "montage.png") as sheet:  # two tiles in a row of four 256-px cells
        assert [sheet.height, sheet.width] == combined["meta"]["montage_size"] == [256 + 18, 4 * 256]
    assert "ETA" in capsys.readouterr().out

    def no_training(name, args):
        raise AssertionError(f"{name} was trained again")

    run_worker = scoreboard.run_worker

    monkeypatch.setattr(scoreboard, "run_worker", no_training)
    reference_written = (out / "reference.json").stat().st_mtime_ns
    second = scoreboard.main(argv)
    assert (out / "reference.json").stat().st_mtime_ns == reference_written  # kept, not scored again
    assert second["rows"] == first["rows"]
    printed = capsys.readouterr().out
    assert "[1/2] DCGAN: done before, kept" in printed and "[2/2] GAN: done before, kept" in printed

    # --report-only trains nothing: a model without results gets a row that says so.
    partial = scoreboard.main([*argv[:3], "CGAN", *argv[3:], "--report-only"])
    assert [row["model"] for row in partial["rows"]] == ["DCGAN", "GAN", "CGAN"]
    assert partial["rows"][:2] == first["rows"] and partial["rows"][2]["status"] == "not run yet"
    assert "| [CGAN](#cgan) | not run yet |" in (out / "scoreboard.md").read_text()
    assert "--report-only" not in partial["meta"]["command"]
    # and keeps the run's own start load rather than the load when it rendered
    assert partial["meta"]["load_average_1min_at_start"] == second["meta"]["load_average_1min_at_start"]

    # A model whose result is gone is trained again, over what its earlier attempt left in its work dir.
    monkeypatch.setattr(scoreboard, "run_worker", run_worker)
    (out / "models" / "GAN.json").unlink()
    again = scoreboard.main(argv)
    assert again["rows"][1]["model"] == "GAN" and not again["rows"][1]["status"].startswith("failed")
    assert again["rows"][1]["batches"] == 2
