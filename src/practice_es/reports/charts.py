"""Charts for people who would rather look than read: the cohort heatmap and new clients by
referral source. matplotlib is imported here only, with the Agg backend (no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from practice_es.domain.errors import InvalidInput
from practice_es.infrastructure.outputs import check_output, replaced

CHART_SUFFIXES = (".png", ".svg")


def check_chart_path(path: str) -> Path:
    target = Path(path)
    if target.suffix.lower() not in CHART_SUFFIXES:
        raise InvalidInput("chart", f"'{path}' must end in .png or .svg")
    return check_output("chart", target)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cohort_heatmap(data: dict[str, Any], path: str) -> Path:
    """Rows are cohorts, columns periods since the first visit, colour the share retained."""
    import numpy as np

    target = check_chart_path(path)
    plt = _pyplot()
    cohorts = data["cohorts"]
    width = max((len(c["rate"]) for c in cohorts), default=1)
    grid = np.full((max(len(cohorts), 1), width), np.nan)
    for row, cohort in enumerate(cohorts):
        grid[row, : len(cohort["rate"])] = cohort["rate"]
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * width, 1.4 + 0.42 * len(cohorts)))
    image = ax.imshow(grid, cmap="Greens", vmin=0, vmax=1, aspect="auto")
    for (row, col), rate in np.ndenumerate(grid):
        if not np.isnan(rate):
            ax.text(col, row, f"{rate:.0%}", ha="center", va="center", fontsize=7,
                    color="white" if rate > 0.55 else "black")
    ax.set_xticks(range(width), [f"+{k}" for k in range(width)], fontsize=8)
    ax.set_yticks(range(len(cohorts)),
                  [f"{c['cohort']} ({c['clients']})" for c in cohorts], fontsize=8)
    ax.set_xlabel(f"{data['by']}s since the first visit")
    ax.set_ylabel("cohort (clients)")
    ax.set_title(f"Retention by {data['by']}ly cohort")
    fig.colorbar(image, ax=ax, fraction=0.03, format=lambda v, _: f"{v:.0%}")
    return _save(plt, fig, target)


def sources_bars(data: dict[str, Any], path: str) -> Path:
    """New clients by referral source, largest first."""
    target = check_chart_path(path)
    plt = _pyplot()
    bars_by_label = _bars(data["sources"])
    labels = sorted(bars_by_label, key=lambda label: (bars_by_label[label], label))
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * max(len(labels), 1)))
    colours = [KIND_COLOURS.get(label.split(":")[0], "grey") for label in labels]
    bars = ax.barh(labels, [bars_by_label[label] for label in labels], color=colours)
    ax.bar_label(bars, padding=3, fontsize=8)
    ax.set_xlabel("new clients")
    ax.set_title("New clients by referral source")
    ax.tick_params(axis="y", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _save(plt, fig, target)


KIND_COLOURS = {"doctor": "seagreen", "client": "darkorange", "advertising": "steelblue",
                "online": "slateblue", "walk-in": "grey", "other": "sienna"}


def _bars(sources: list[dict[str, Any]]) -> dict[str, int]:
    """New clients per bar: one bar per referrer, except clients referring friends, who are
    one bar together (their keys are client ids, one client each)."""
    bars: dict[str, int] = {}
    referring = sum(1 for s in sources if s["kind"] == "client" and s["new_clients"])
    for source in sources:
        if not source["new_clients"]:
            continue
        if source["kind"] == "client":
            label = f"client: {referring} referring clients"
        else:
            label = source["kind"] + (f": {source['referrer']}" if source["referrer"] else "")
        bars[label] = bars.get(label, 0) + source["new_clients"]
    return bars


def _save(plt: Any, fig: Any, target: Path) -> Path:
    fig.tight_layout()
    check_output("chart", target)
    with replaced(target) as written:
        fig.savefig(written, dpi=120, format=target.suffix[1:].lower())
    plt.close(fig)
    return target
