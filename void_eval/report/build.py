"""Build a run's report: ``RUN_DIR/report/index.html`` (self-contained) and ``RUN_DIR/report/report.md``.

The HTML embeds every image as a data URI, so the one file can be mailed or archived. The Markdown version links
the same images, written beside it as PNG files. Both show: the leaderboard (means over clips with bootstrap 95%
CIs where at least ``MIN_CLIPS_FOR_CI`` clips back them, arrows from each row's ``higher_is_better``),
per-scenario and per-region breakdown plots, a frame strip per clip, method run times, every metric in full, what
failed or was skipped, and the run's provenance. The numbers are the run's own ``aggregates.csv`` and
``aggregates_by_scenario.csv`` (:func:`void_eval.runner.results.read_aggregates`), never recomputed here.

Examples
--------
>>> build_report("runs/demo")  # doctest: +SKIP
PosixPath('runs/demo/report/index.html')
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from void_eval.errors import InputError
from void_eval.report import plots, strips
from void_eval.report.board import ci_phrase, leaderboard_json, leaderboard_parts, print_leaderboard
from void_eval.report.render import Report, render_html, render_md
from void_eval.report.tables import (
    Column,
    all_columns,
    best_methods,
    direction,
    leaderboard,
    leaderboard_values,
    run_times,
)
from void_eval.runner.cache import write_atomic
from void_eval.runner.results import RUN_JSON, cell_outputs, read_results

MAX_STRIPS = 24
REPORT_DIR = "report"


def load_run(run_dir: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The results table and run.json of a run folder."""
    run_dir = Path(run_dir)
    results = read_results(run_dir)
    record_path = run_dir / RUN_JSON
    if not record_path.exists():
        raise InputError(record_path, "run.json not found (is this a run folder?)")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(record_path, f"not valid JSON ({err})") from err
    return results, record


def _full_tables(by_method: pd.DataFrame, info: dict[str, Any]) -> list[tuple[str, pd.DataFrame, dict]]:
    """One formatted table per metric (rows methods, columns regions)."""
    columns = all_columns(by_method, info)
    tables = []
    for metric in sorted({column.metric for column in columns}):
        metric_columns = [column for column in columns if column.metric == metric]
        board = leaderboard(by_method, info, columns=metric_columns)
        values = leaderboard_values(by_method, metric_columns)
        tables.append((metric, board, best_methods(values, metric_columns)))
    return tables


def _notes(results: pd.DataFrame) -> pd.DataFrame:
    """Why values are NaN: (metric, region, note) with how many rows."""
    missing = results[results["value"].isna() & (results["note"] != "")]
    if missing.empty:
        return pd.DataFrame(columns=["metric", "region", "note", "rows"])
    grouped = missing.groupby(["metric", "region", "note"], sort=True).size().reset_index(name="rows")
    return grouped


def _strip_images(run_dir: Path, record: dict[str, Any], methods: Sequence[str]) -> list[tuple[str, bytes | None, str]]:
    from void_eval.clip import Clip

    done = cell_outputs(run_dir, record)
    images = []
    for folder in record.get("config", {}).get("clip_folders", [])[:MAX_STRIPS]:
        name = Path(folder).name
        try:
            clip = Clip.load(folder)
            outputs = {method: done[method, name] for method in methods if (method, name) in done}
            images.append((name, strips.png_bytes(strips.frame_strip(clip, outputs)), ""))
        except Exception as err:  # the report still renders; the strip says why it is missing
            images.append((name, None, f"no strip: {type(err).__name__}: {err}"))
    return images


def build_report(run_dir: str | Path, *, out: str | Path | None = None) -> Path:
    """Write ``index.html`` and ``report.md`` (plus their PNGs) for a finished run; returns the HTML path.

    Parameters
    ----------
    run_dir : str or Path
        Run folder holding ``results.parquet`` and ``run.json``.
    out : str or Path, optional
        Report folder (default ``RUN_DIR/report``).

    Raises
    ------
    InputError
        When the run folder lacks its results or run.json.
    """
    run_dir = Path(run_dir)
    results, record = load_run(run_dir)
    out_dir = Path(out) if out is not None else run_dir / REPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    info, by_method, by_scenario, columns = leaderboard_parts(run_dir)
    board = leaderboard(by_method, info, columns=columns)
    best = best_methods(leaderboard_values(by_method, columns), columns)
    methods = list(board["method"]) if not board.empty else sorted(set(results["method"]))
    times = run_times(record.get("cells", []))

    images: dict[str, bytes] = {}
    scenario_png = plots.scenario_plot(by_scenario, columns[:4], methods)
    if scenario_png:
        images["per_scenario.png"] = scenario_png
    region_metrics = [(metric, direction(info, metric)) for metric in sorted(set(results["metric"]))]
    region_png = plots.region_plot(by_method, region_metrics, methods)
    if region_png:
        images["per_region.png"] = region_png
    runtime_png = plots.runtime_plot(times)
    if runtime_png:
        images["run_times.png"] = runtime_png
    strip_images = _strip_images(run_dir, record, methods)
    for name, png, _ in strip_images:
        if png:
            images[f"strip_{name}.png"] = png
    for name, png in images.items():
        write_atomic(out_dir / name, lambda temp, data=png: temp.write_bytes(data))

    report = Report(
        run_dir, record, results, board, best, columns, images, strip_images, times, _full_tables(by_method, info),
        _notes(results), ci_phrase(by_method),
    )  # fmt: skip
    html_text, md_text = render_html(report), render_md(report)
    index = write_atomic(out_dir / "index.html", lambda temp: temp.write_text(html_text, encoding="utf-8"))
    write_atomic(out_dir / "report.md", lambda temp: temp.write_text(md_text, encoding="utf-8"))
    return index


__all__ = ["Column", "build_report", "leaderboard_json", "load_run", "print_leaderboard"]
