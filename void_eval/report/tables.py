"""Leaderboard tables from tidy results: means over clips with bootstrap CIs and direction arrows.

A column is one (metric, region, reference). The headline columns are the ones a reader looks at first (physical
plausibility in the affected region, fidelity in the removed region, temporal stability) — whichever of
:data:`HEADLINE` the run has, else the first region of each metric. Arrows come from each metric's
``higher_is_better`` (its ``MetricSpec``'s, carried by every row into ``aggregates.csv``): ``↑`` higher is better,
``↓`` lower is better,
``?`` unknown.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"method": ["a", "b"], "region": ["frame"] * 2, "metric": ["psnr"] * 2,
...                      "reference": ["counterfactual"] * 2, "mean": [30.0, 20.0], "ci_low": [29.0, 19.0],
...                      "ci_high": [31.0, 21.0], "n_clips": [3, 3], "n_nan": [0, 0]})
>>> board = leaderboard(rows, {"psnr": {"higher_is_better": True}})
>>> board.columns[1], board.iloc[0, 1], list(board["method"])
('psnr ↑ frame', '30.00 [29.00, 31.00]', ['a', 'b'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

#: Preferred headline columns (metric, region, reference), in order; those present in a run are shown first. A
#: reference of None means "counterfactual when the run has it, else the first reference found". Keep-region
#: preservation is reported as rows ``psnr``/``ssim`` in region ``keep`` against the ``input``.
HEADLINE: tuple[tuple[str, str, str | None], ...] = (
    ("cf_score", "affected", None),
    ("psnr", "remove", None),
    ("ssim", "remove", None),
    ("lpips", "remove", None),
    ("psnr", "affected", None),
    ("motion_agreement", "affected", None),
    ("traj_err", "affected", None),
    ("shadow_residual", "affected", None),
    ("ewarp_diff", "remove", None),
    ("flicker_diff", "remove", None),
    ("seam", "boundary", None),
    ("psnr", "keep", "input"),
)
#: The reference a column title leaves implicit; any other reference is named in the title.
DEFAULT_REFERENCE = "counterfactual"
REGION_ORDER = ("remove", "affected", "boundary", "keep", "frame")
MAX_HEADLINE = 8


@dataclass(frozen=True)
class Column:
    """One leaderboard column."""

    metric: str
    region: str
    reference: str
    higher_is_better: bool | None

    @property
    def arrow(self) -> str:
        return "?" if self.higher_is_better is None else ("↑" if self.higher_is_better else "↓")

    @property
    def key(self) -> tuple[str, str, str]:
        """``(metric, region, reference)``: what identifies the column's numbers."""
        return (self.metric, self.region, self.reference)

    @property
    def title(self) -> str:
        """``metric arrow region``, plus ``(vs reference)`` when the reference is not the counterfactual.

        Examples
        --------
        >>> Column("psnr", "keep", "counterfactual", True).title, Column("psnr", "keep", "input", True).title
        ('psnr ↑ keep', 'psnr ↑ keep (vs input)')
        """
        base = f"{self.metric} {self.arrow} {self.region}"
        return base if self.reference == DEFAULT_REFERENCE else f"{base} (vs {self.reference})"

    @property
    def full_title(self) -> str:
        """``metric arrow region (vs reference)``, the reference always named (plot panels)."""
        return f"{self.metric} {self.arrow} {self.region} (vs {self.reference})"


def _unique_columns(columns: Sequence[Column]) -> list[Column]:
    """``columns`` without repeated keys; ValueError when two different keys would share a title."""
    unique: dict[tuple[str, str, str], Column] = {}
    titles: dict[str, tuple[str, str, str]] = {}
    for column in columns:
        if column.key in unique:
            continue
        other = titles.get(column.title)
        if other is not None:
            raise ValueError(f"columns {other} and {column.key} would share the title {column.title!r}")
        unique[column.key] = column
        titles[column.title] = column.key
    return list(unique.values())


def direction(metric_info: Mapping[str, Any], metric: str) -> bool | None:
    """``higher_is_better`` of ``metric`` from run.json's ``metric_info``, None when unknown."""
    info = metric_info.get(metric)
    if not info or "higher_is_better" not in info:
        return None
    return bool(info["higher_is_better"])


def _reference_for(aggregates: pd.DataFrame, metric: str, region: str) -> str | None:
    refs = aggregates.loc[(aggregates["metric"] == metric) & (aggregates["region"] == region), "reference"]
    refs = sorted(set(refs))
    if not refs:
        return None
    return "counterfactual" if "counterfactual" in refs else refs[0]


def _has_values(aggregates: pd.DataFrame, metric: str, region: str, reference: str) -> bool:
    rows = aggregates[
        (aggregates["metric"] == metric) & (aggregates["region"] == region) & (aggregates["reference"] == reference)
    ]
    return bool(rows["mean"].notna().any())


def headline_columns(
    aggregates: pd.DataFrame, metric_info: Mapping[str, Any], *, limit: int = MAX_HEADLINE
) -> list[Column]:
    """The headline columns present in ``aggregates`` (with at least one finite mean), at most ``limit``."""
    chosen: list[Column] = []
    for metric, region, wanted in HEADLINE:
        reference = wanted if wanted is not None else _reference_for(aggregates, metric, region)
        if reference and _has_values(aggregates, metric, region, reference):
            chosen.append(Column(metric, region, reference, direction(metric_info, metric)))
    covered = {column.metric for column in chosen}
    # a temporal metric's _cf row is the counterfactual's own value: the same for every method, nothing to rank
    for metric in sorted(m for m in set(aggregates["metric"]) - covered if not m.endswith("_cf")):
        regions = sorted(set(aggregates.loc[aggregates["metric"] == metric, "region"]), key=_region_rank)
        for region in regions:
            reference = _reference_for(aggregates, metric, region)
            if reference and _has_values(aggregates, metric, region, reference):
                chosen.append(Column(metric, region, reference, direction(metric_info, metric)))
                break
    return _unique_columns(chosen)[:limit]


def _region_rank(region: str) -> tuple[int, str]:
    return (REGION_ORDER.index(region) if region in REGION_ORDER else len(REGION_ORDER), region)


def all_columns(aggregates: pd.DataFrame, metric_info: Mapping[str, Any]) -> list[Column]:
    """Every (metric, region, reference) in ``aggregates``, metrics sorted, regions in :data:`REGION_ORDER`."""
    keys = aggregates[["metric", "region", "reference"]].drop_duplicates()
    keys = sorted(keys.itertuples(index=False), key=lambda k: (k.metric, _region_rank(k.region), k.reference))
    return [Column(k.metric, k.region, k.reference, direction(metric_info, k.metric)) for k in keys]


def format_value(mean: float, low: float, high: float, *, digits: int | None = None) -> str:
    """``mean [low, high]`` with a precision suited to the magnitude; ``n/a`` for NaN.

    Examples
    --------
    >>> format_value(0.01234, 0.011, 0.0139)
    '0.0123 [0.0110, 0.0139]'
    """
    if mean is None or math.isnan(mean):
        return "n/a"
    if math.isinf(mean):
        return "inf" if mean > 0 else "-inf"
    if digits is None:
        magnitude = max(abs(mean), 1e-12)
        digits = 2 if magnitude >= 10 else 3 if magnitude >= 0.1 else 4 if magnitude >= 0.001 else 6
    if math.isnan(low) or math.isnan(high):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def column_digits(values: pd.Series) -> int:
    """Decimals for a set of values: enough for the largest finite magnitude (2 for >= 10 ... 6 for < 0.001).

    Values that are all zero (or none finite) get 3, as a value near 1 would: ``0.000``, not ``0.000000``.

    Examples
    --------
    >>> column_digits(pd.Series([0.0, 0.0])), column_digits(pd.Series([0.0004, 0.0])), column_digits(pd.Series([12.0]))
    (3, 6, 2)
    """
    finite = values[values.notna() & (values.abs() != float("inf"))].abs()
    magnitude = float(finite.max()) if not finite.empty and finite.max() > 0 else 1.0
    return 2 if magnitude >= 10 else 3 if magnitude >= 0.1 else 4 if magnitude >= 0.001 else 6


def metric_digits(aggregates: pd.DataFrame) -> dict[str, int]:
    """Decimals per metric, from its means in every region and reference of ``aggregates``.

    One precision per metric, so a metric reads alike in the headline leaderboard and in its own full table.
    """
    return {str(metric): column_digits(group["mean"]) for metric, group in aggregates.groupby("metric")}


def _cell(aggregates: pd.DataFrame, method: str, column: Column) -> pd.Series | None:
    rows = aggregates[
        (aggregates["method"] == method)
        & (aggregates["metric"] == column.metric)
        & (aggregates["region"] == column.region)
        & (aggregates["reference"] == column.reference)
    ]
    return None if rows.empty else rows.iloc[0]


def leaderboard_values(aggregates: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """Numeric means: one row per method, one column per :class:`Column`, NaN where missing.

    Each column holds the means of exactly its ``(metric, region, reference)``; the frame's column labels are the
    titles, which name the reference when it is not the counterfactual, so ``psnr`` in ``keep`` against the
    counterfactual and against the input are two columns. Repeated columns appear once.

    Raises
    ------
    ValueError
        When two different columns would share a title.
    """
    columns = _unique_columns(columns)
    methods = sorted(set(aggregates["method"]))
    data = {}
    for column in columns:
        values = []
        for method in methods:
            row = _cell(aggregates, method, column)
            values.append(float("nan") if row is None else float(row["mean"]))
        data[column.title] = values
    return pd.DataFrame(data, index=pd.Index(methods, name="method"))


def best_methods(values: pd.DataFrame, columns: Sequence[Column]) -> dict[str, set[str]]:
    """Column title -> methods with the best mean of that column's ``(metric, region, reference)``.

    Methods are compared by direction; none is best when the direction is unknown. ``values`` comes from
    :func:`leaderboard_values` with the same columns.
    """
    best: dict[str, set[str]] = {}
    for column in _unique_columns(columns):
        series = values[column.title].dropna()
        if series.empty or column.higher_is_better is None:
            best[column.title] = set()
            continue
        target = series.max() if column.higher_is_better else series.min()
        best[column.title] = set(series.index[series == target])
    return best


def sort_methods(values: pd.DataFrame, columns: Sequence[Column]) -> list[str]:
    """Methods ordered best first by the first column with a known direction (NaN last), then by name."""
    for column in columns:
        if column.higher_is_better is None:
            continue
        series = values[column.title]
        key = -series if column.higher_is_better else series
        ordered = key.sort_values(kind="stable", na_position="last")
        return list(ordered.index)
    return sorted(values.index)


def leaderboard(
    aggregates: pd.DataFrame,
    metric_info: Mapping[str, Any],
    *,
    columns: Sequence[Column] | None = None,
) -> pd.DataFrame:
    """Formatted leaderboard: ``method`` then one ``mean [CI low, CI high]`` text column per headline column.

    Each metric has one precision (:func:`metric_digits` over all its rows in ``aggregates``), whichever columns
    are shown.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        Output of :func:`void_eval.runner.results.aggregate` with ``by=("method",)``.
    metric_info : mapping
        run.json's ``metric_info`` (metric -> dict with ``higher_is_better``).
    columns : sequence of Column, optional
        Columns to show (default :func:`headline_columns`).
    """
    columns = _unique_columns(columns) if columns is not None else headline_columns(aggregates, metric_info)
    values = leaderboard_values(aggregates, columns)
    order = sort_methods(values, columns)
    digits = metric_digits(aggregates)
    rows = []
    for method in order:
        row: dict[str, Any] = {"method": method}
        for column in columns:
            cell = _cell(aggregates, method, column)
            row[column.title] = (
                "n/a"
                if cell is None
                else format_value(cell["mean"], cell["ci_low"], cell["ci_high"], digits=digits[column.metric])
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *(column.title for column in columns)])


def run_times(cells: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per method: clips, mean method seconds per clip and per frame, mean scoring seconds per clip.

    ``cells`` are run.json's cell records; cached cells report the wall time measured when they were computed.
    """
    rows = []
    for cell in cells:
        if cell.get("status") != "done" or cell.get("run_s") is None:
            continue
        frames = cell.get("frames") or None
        rows.append(
            {
                "method": cell["method"],
                "run_s": float(cell["run_s"]),
                "score_s": float(cell["score_s"]) if cell.get("score_s") is not None else float("nan"),
                "frames": float(frames) if frames else float("nan"),
            }
        )
    if not rows:
        return pd.DataFrame(columns=["method", "clips", "run_s_per_clip", "run_ms_per_frame", "score_s_per_clip"])
    frame = pd.DataFrame(rows)
    grouped = frame.groupby("method", sort=True)
    table = pd.DataFrame(
        {
            "clips": grouped.size(),
            "run_s_per_clip": grouped["run_s"].mean(),
            "run_ms_per_frame": grouped["run_s"].sum() / grouped["frames"].sum() * 1000,
            "score_s_per_clip": grouped["score_s"].mean(),
        }
    )
    return table.reset_index()
