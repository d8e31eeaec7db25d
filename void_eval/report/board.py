"""The run's headline leaderboard outside the report: the terminal table and the ``--json`` rows.

Both read the run's ``aggregates.csv`` (:func:`void_eval.runner.results.read_aggregates`) and say honestly what the
brackets hold: a bootstrap CI only where at least :data:`~void_eval.runner.results.MIN_CLIPS_FOR_CI` clips back
the mean.

Examples
--------
>>> print_leaderboard("runs/demo")  # doctest: +SKIP
>>> leaderboard_json("runs/demo")[0]["columns"][0]["mean"]  # doctest: +SKIP
0.912
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from void_eval.report.tables import headline_columns, leaderboard
from void_eval.runner.results import MIN_CLIPS_FOR_CI, read_aggregates


def leaderboard_parts(run_dir: Path):
    """The run's aggregates (per method, per scenario), each metric's direction, and the headline columns."""
    by_method = read_aggregates(run_dir)
    by_scenario = read_aggregates(run_dir, by_scenario=True)
    directions = by_method.groupby("metric", sort=True)["higher_is_better"].first()
    info = {metric: {"higher_is_better": bool(higher)} for metric, higher in directions.items()}
    return info, by_method, by_scenario, headline_columns(by_method, info)


def print_leaderboard(run_dir: str | Path) -> None:
    """Print the run's headline leaderboard to the terminal (rich table); the title says whether CIs are shown."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    info, by_method, _, columns = leaderboard_parts(Path(run_dir))
    board = leaderboard(by_method, info, columns=columns)
    table = Table(title=escape(f"leaderboard: mean over clips {ci_phrase(by_method)} ({Path(run_dir)})"))
    for name in board.columns:
        table.add_column(name)
    for row in board.itertuples(index=False):
        table.add_row(*(escape(str(value)) for value in row))
    Console(width=max(120, 26 * len(board.columns))).print(table)


def ci_phrase(by_method: pd.DataFrame) -> str:
    """What the leaderboard's brackets hold: ``[bootstrap 95% CI]`` only when some cell has one.

    Examples
    --------
    >>> ci_phrase(pd.DataFrame({"ci_low": [float("nan")], "n_clips": [2]}))
    '(no CI: fewer than 5 clips)'
    """
    with_ci = by_method["ci_low"].notna()
    if not with_ci.any():
        return f"(no CI: fewer than {MIN_CLIPS_FOR_CI} clips)"
    if with_ci.all():
        return "[bootstrap 95% CI]"
    return f"[bootstrap 95% CI; none below {MIN_CLIPS_FOR_CI} clips]"


def leaderboard_json(run_dir: str | Path) -> list[dict[str, Any]]:
    """The headline leaderboard as JSON-ready rows: per method, per column its key, direction, mean and CI.

    Methods come in the leaderboard's order; a CI is None where fewer than the minimum clips back the mean.
    """
    info, by_method, _, columns = leaderboard_parts(Path(run_dir))
    order = list(leaderboard(by_method, info, columns=columns)["method"])
    rows = []
    for method in order:
        cells = []
        for column in columns:
            found = by_method[
                (by_method["method"] == method)
                & (by_method["metric"] == column.metric)
                & (by_method["region"] == column.region)
                & (by_method["reference"] == column.reference)
            ]
            figures = found.iloc[0] if len(found) else {}
            cells.append(
                {
                    "metric": column.metric,
                    "region": column.region,
                    "reference": column.reference,
                    "higher_is_better": column.higher_is_better,
                    **{key: _plain(figures.get(key)) for key in ("mean", "ci_low", "ci_high", "n_clips", "n_nan")},
                }
            )
        rows.append({"method": method, "columns": cells})
    return rows


def _plain(value: Any) -> Any:
    """A pandas/numpy scalar as a plain Python one (NaN kept: the caller's JSON step makes it null)."""
    return value.item() if hasattr(value, "item") else value
