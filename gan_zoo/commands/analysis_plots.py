"""The figures of ``gan-zoo analyze``, drawn from its JSON reports with matplotlib (``pip install
'gan-zoo[analysis]'``). Figures are built on ``matplotlib.figure.Figure`` directly: no pyplot state and
no display backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from gan_zoo.errors import ConfigError

#: Colours of the three kinds of features, the same in every figure.
COLOURS = {"discriminator": "tab:blue", "random discriminator": "tab:gray", "pixels": "tab:orange"}


def check_available() -> None:
    """A clear error, before any work, when matplotlib is missing."""
    if importlib.util.find_spec("matplotlib") is None:
        raise ConfigError(
            "gan-zoo analyze draws its figures with matplotlib, which is not installed; "
            "pip install 'gan-zoo[analysis]' (or matplotlib)"
        )


def _figure(columns: int = 1) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2 * columns, 4.0), layout="constrained")
    return figure, figure.subplots(1, columns)


def _title(report: dict[str, Any]) -> str:
    model = report["model"].rsplit(".", 1)[-1]
    side = report["image_shape"][-1]
    return f"{model} on {report['data']} ({side}×{side})"


def features_plot(report: dict[str, Any], path: Path) -> None:
    """Test accuracy against labels per class, one line per kind of features, ± std as error bars."""
    figure, axes = _figure()
    counts = []
    for r in report["results"]:
        if r["labels_per_class"] not in counts:
            counts.append(r["labels_per_class"])
    # "all" sits one step right of the largest count on the log axis.
    numeric = [c for c in counts if c != "all"]
    position = {c: c for c in numeric}
    if "all" in counts:
        position["all"] = (max(numeric) * 10) if numeric else 1
    for name in dict.fromkeys(r["features"] for r in report["results"]):
        rows = [r for r in report["results"] if r["features"] == name]
        x = [position[r["labels_per_class"]] for r in rows]
        y = [100 * r["mean"] for r in rows]
        err = [100 * r["std"] for r in rows]
        axes.errorbar(x, y, yerr=err, marker="o", capsize=3, label=name, color=COLOURS.get(name))
    axes.set_xscale("log")
    axes.set_xticks(list(position.values()), [str(c) for c in position])
    axes.minorticks_off()
    axes.set_xlabel("labelled training images per class")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(f"L2-SVM on D features — {_title(report)}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    figure.savefig(path, dpi=120)


def resolution_plot(report: dict[str, Any], path: Path) -> None:
    """Left: accuracy against resolution for samples and real images (AC-GAN Figure 2, top). Right: per
    class, accuracy at the next resolution below the native one against the native one (Figure 2,
    bottom)."""
    figure, (curve, scatter) = _figure(2)
    rows = sorted(report["rows"], key=lambda r: r["size"])
    sizes = [r["size"] for r in rows]
    curve.plot(sizes, [100 * r["real"] for r in rows], marker="o", label="real", color="tab:green")
    curve.plot(sizes, [100 * r["generated"] for r in rows], marker="o", label="generated", color="tab:blue")
    curve.set_xscale("log", base=2)
    curve.set_xticks(sizes, [f"{s}×{s}" for s in sizes])
    curve.minorticks_off()
    curve.set_xlabel("spatial resolution (resized down, then back up)")
    curve.set_ylabel(f"accuracy of classifier '{report['classifier']}' (%)")
    curve.set_title(_title(report), fontsize=10)
    curve.grid(alpha=0.3)
    curve.legend(loc="upper left")

    native = next((r for r in rows if r["size"] == report["native_size"]), rows[-1])
    below = [r for r in rows if r["size"] < native["size"]]
    low = below[-1] if below else rows[0]
    x = [100 * v for v in low["generated_per_class"].values()]
    y = [100 * v for v in native["generated_per_class"].values()]
    scatter.scatter(x, y, color="tab:blue")
    for name, xi, yi in zip(low["generated_per_class"], x, y, strict=True):
        scatter.annotate(name, (xi, yi), fontsize=7, xytext=(3, 3), textcoords="offset points")
    scatter.plot([0, 100], [0, 100], color="black", linewidth=0.8, linestyle="--")
    scatter.set_xlim(0, 100)
    scatter.set_ylim(0, 100)
    scatter.set_xlabel(f"accuracy at {low['size']}×{low['size']} (%)")
    scatter.set_ylabel(f"accuracy at {native['size']}×{native['size']} (%)")
    better = sum(yi > xi for xi, yi in zip(x, y, strict=True))
    scatter.set_title(f"generated, per class: {better} of {len(x)} above the diagonal", fontsize=10)
    scatter.grid(alpha=0.3)
    figure.savefig(path, dpi=120)


def truncation_plot(report: dict[str, Any], path: Path) -> None:
    """IS against FID over the truncation sweep, each point labelled with its ψ (BigGAN Figure 17)."""
    figure, axes = _figure()
    rows = report["rows"]
    truncated = sorted((r for r in rows if r["psi"] is not None), key=lambda r: r["psi"])
    axes.plot([r["is_mean"] for r in truncated], [r["fid"] for r in truncated], marker="o", color="tab:blue",
              label="truncated at ψ")  # fmt: skip
    for r in truncated:
        axes.annotate(f"ψ={r['psi']:g}", (r["is_mean"], r["fid"]), fontsize=8, xytext=(4, 4),
                      textcoords="offset points")  # fmt: skip
    for r in (r for r in rows if r["psi"] is None):
        axes.scatter([r["is_mean"]], [r["fid"]], marker="*", s=120, color="tab:red", label="no truncation",
                     zorder=3)  # fmt: skip
    axes.set_xlabel(f"IS ({report['feature_extractor']['name']})")
    axes.set_ylabel(f"FID ({report['feature_extractor']['name']})")
    axes.set_title(f"truncation trade-off — {_title(report)}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    figure.savefig(path, dpi=120)
