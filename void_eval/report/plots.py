"""Matplotlib figures of a run, returned as PNG bytes: per-scenario and per-region breakdowns, run times.

Bars are means over clips; error bars are the bootstrap 95% CIs of :func:`void_eval.runner.results.aggregate`.
Every function draws with the Agg backend and closes its figure.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd

from void_eval.report.tables import REGION_ORDER, Column

_DPI = 110


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(nrows, ncols, figsize=(width, height), dpi=_DPI, squeeze=False)


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", bbox_inches="tight")  # "tight" keeps a legend placed outside the axes
    plt.close(fig)
    return buffer.getvalue()


def _legend_above(fig, ax) -> None:
    """One legend for the whole figure, above every panel, so it never covers a bar."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(len(labels), 6), fontsize=8,
            frameon=False,
        )  # fmt: skip


def _grouped_bars(ax, table: pd.DataFrame, groups: Sequence[str], group_column: str, methods: Sequence[str]) -> None:
    width = 0.8 / max(len(methods), 1)
    x = np.arange(len(groups))
    colours = _colours(len(methods))
    for index, method in enumerate(methods):
        rows = table[table["method"] == method].set_index(group_column).reindex(groups)
        means = rows["mean"].to_numpy(dtype=float)
        infinite = np.isinf(means)
        means = np.where(infinite, np.nan, means)  # an infinite mean (PSNR of exact copies) has no bar: marked
        with np.errstate(invalid="ignore"):
            low = np.clip(means - rows["ci_low"].to_numpy(dtype=float), 0, None)
            high = np.clip(rows["ci_high"].to_numpy(dtype=float) - means, 0, None)
        yerr = np.vstack([np.nan_to_num(low, posinf=0.0), np.nan_to_num(high, posinf=0.0)])
        positions = x + (index - (len(methods) - 1) / 2) * width
        ax.bar(positions, means, width, yerr=yerr, capsize=2, label=method, color=colours[index])
        for position in positions[infinite]:
            ax.annotate("inf", (position, 0), ha="center", va="bottom", fontsize=7, color=colours[index])
    ax.set_xticks(x)
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def _colours(count: int) -> list:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    return [cmap(index % cmap.N) for index in range(count)]


def scenario_plot(by_scenario: pd.DataFrame, columns: Sequence[Column], methods: Sequence[str]) -> bytes | None:
    """Grouped bars per scenario family, one panel per column; None when there is nothing to draw."""
    panels = [c for c in columns if _subset(by_scenario, c)["mean"].notna().any()]
    if not panels:
        return None
    scenarios = sorted(set(by_scenario["scenario"]))
    ncols = min(2, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = _figure(6.0 * ncols, 3.0 * nrows, nrows, ncols)
    for index, column in enumerate(panels):
        ax = axes[index // ncols][index % ncols]
        _grouped_bars(ax, _subset(by_scenario, column), scenarios, "scenario", methods)
        ax.set_title(column.full_title, fontsize=9)
    for index in range(len(panels), nrows * ncols):
        axes[index // ncols][index % ncols].axis("off")
    fig.tight_layout()
    _legend_above(fig, axes[0][0])
    return _png(fig)


def region_plot(
    by_method: pd.DataFrame, metrics: Sequence[tuple[str, bool | None]], methods: Sequence[str]
) -> bytes | None:
    """Grouped bars per quadmask region for each metric reported in two or more regions."""
    panels = []
    for metric, higher in metrics:
        rows = by_method[by_method["metric"] == metric]
        reference = (
            "counterfactual" if "counterfactual" in set(rows["reference"]) else sorted(set(rows["reference"]))[0]
        )
        rows = rows[rows["reference"] == reference]
        if rows["region"].nunique() >= 2 and rows["mean"].notna().any():
            panels.append((metric, higher, reference, rows))
    if not panels:
        return None
    ncols = min(2, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    fig, axes = _figure(6.0 * ncols, 3.0 * nrows, nrows, ncols)
    for index, (metric, higher, reference, rows) in enumerate(panels):
        ax = axes[index // ncols][index % ncols]
        regions = sorted(set(rows["region"]), key=lambda r: (REGION_ORDER.index(r) if r in REGION_ORDER else 99, r))
        _grouped_bars(ax, rows, regions, "region", methods)
        arrow = "?" if higher is None else ("↑" if higher else "↓")
        ax.set_title(f"{metric} {arrow} by region (vs {reference})", fontsize=9)
    for index in range(len(panels), nrows * ncols):
        axes[index // ncols][index % ncols].axis("off")
    fig.tight_layout()
    _legend_above(fig, axes[0][0])
    return _png(fig)


def runtime_plot(times: pd.DataFrame) -> bytes | None:
    """Horizontal bars: method milliseconds per frame (method run only, not scoring)."""
    times = times.dropna(subset=["run_ms_per_frame"])
    if times.empty:
        return None
    times = times.sort_values("run_ms_per_frame")
    fig, axes = _figure(6.0, 0.45 * len(times) + 1.0)
    ax = axes[0][0]
    ax.barh(times["method"], times["run_ms_per_frame"], color=_colours(len(times)))
    ax.set_xlabel("ms per frame (method run, wall clock)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _subset(table: pd.DataFrame, column: Column) -> pd.DataFrame:
    return table[
        (table["metric"] == column.metric)
        & (table["region"] == column.region)
        & (table["reference"] == column.reference)
    ]
