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

import base64
import html
import json
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from void_eval.errors import InputError
from void_eval.report import plots, strips
from void_eval.report.board import ci_phrase, leaderboard_json, leaderboard_parts, print_leaderboard
from void_eval.report.metric_guide import metric_guide
from void_eval.report.tables import (
    Column,
    all_columns,
    best_methods,
    leaderboard,
    leaderboard_values,
    run_times,
)
from void_eval.runner.cache import write_atomic
from void_eval.runner.results import MIN_CLIPS_FOR_CI, RUN_JSON, cell_outputs, read_results

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


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _html_table(frame: pd.DataFrame, *, bold: dict[str, set[str]] | None = None) -> str:
    bold = bold or {}
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        method = str(row[0])
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            text = html.escape(_text(value))
            if method in bold.get(str(column), set()):
                text = f"<b>{text}</b>"
            cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _text(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if value != value else f"{value:.4g}"
    return str(value)


_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|!~])")


def _md(value: Any) -> str:
    """Text for report.md, inert: one line, HTML tags and entities escaped, Markdown punctuation backslashed.

    Clip, method and metric names come from folder names and the command line; none may add markup.

    Examples
    --------
    >>> print(_md("<img src=x onerror=alert(1)> *[x](y)*|"))
    &lt;img src=x onerror=alert(1)&gt; \\*\\[x\\](y)\\*\\|
    """
    return html.escape(_MD_PUNCTUATION.sub(r"\\\1", " ".join(str(value).split())), quote=False)


def _md_table(frame: pd.DataFrame, *, bold: dict[str, set[str]] | None = None) -> str:
    bold = bold or {}
    lines = ["| " + " | ".join(_md(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    for row in frame.itertuples(index=False):
        method = str(row[0])
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            text = _md(_text(value))
            cells.append(f"**{text}**" if method in bold.get(str(column), set()) else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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


@dataclass(frozen=True)
class _Report:
    """Everything both renderings (HTML and Markdown) show."""

    run_dir: Path
    record: dict[str, Any]
    results: pd.DataFrame
    board: pd.DataFrame
    best: dict[str, set[str]]
    columns: list[Column]
    images: dict[str, bytes]
    strips: list[tuple[str, bytes | None, str]]
    times: pd.DataFrame
    full: list[tuple[str, pd.DataFrame, dict]]
    notes: pd.DataFrame
    with_ci: str  # ci_phrase of the leaderboard's aggregates: what its brackets hold

    @property
    def leaderboard_note(self) -> str:
        """How to read a cell: the CI sentence only when some cell has a CI."""
        resamples = (self.record.get("seeds") or {}).get("bootstrap_resamples", 2000)
        if self.with_ci.startswith("(no CI"):
            cell = f"Each cell: mean over clips, with no CI: fewer than {MIN_CLIPS_FOR_CI} clips back every mean. "
        else:
            cell = (
                f"Each cell: mean over clips [95% percentile-bootstrap CI across clips, {resamples} resamples; "
                f"no CI where fewer than {MIN_CLIPS_FOR_CI} clips back the mean]. "
            )
        return cell + _LEADERBOARD_NOTE


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; white-space: nowrap; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #555; font-size: 13px; }
code { background: #f4f4f4; padding: 1px 4px; } .bad { color: #b00; }
"""


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
    region_metrics = [(metric, _direction(info, metric)) for metric in sorted(set(results["metric"]))]
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

    report = _Report(
        run_dir, record, results, board, best, columns, images, strip_images, times, _full_tables(by_method, info),
        _notes(results), ci_phrase(by_method),
    )  # fmt: skip
    html_text, md_text = _render_html(report), _render_md(report)
    index = write_atomic(out_dir / "index.html", lambda temp: temp.write_text(html_text, encoding="utf-8"))
    write_atomic(out_dir / "report.md", lambda temp: temp.write_text(md_text, encoding="utf-8"))
    return index


def _direction(info: dict[str, Any], metric: str) -> bool | None:
    from void_eval.report.tables import direction

    return direction(info, metric)


def _summary_lines(run_dir: Path, record: dict[str, Any], results: pd.DataFrame) -> list[str]:
    toolkit = record.get("toolkit", {})
    config = record.get("config", {})
    options = config.get("options", {})
    commit = toolkit.get("commit") or "unknown"
    dirty = " (uncommitted changes)" if toolkit.get("dirty") else ""
    methods = ", ".join(
        f"{m['label']}" + (f" ({m['name']} {json.dumps(m['params'], sort_keys=True)})" if m["params"] else "")
        for m in config.get("methods", [])
    )
    return [
        f"run folder: {run_dir}",
        f"void-eval {toolkit.get('version', '?')}, git {commit[:12]}{dirty}",
        f"finished {record.get('finished_at', '?')}, wall {record.get('wall_s', float('nan')):.1f} s, "
        f"engine {config.get('engine', '?')}, device {record.get('device', '?')}, "
        f"metric preset {options.get('preset')}",
        f"{results['clip'].nunique()} clips in {results['scenario'].nunique()} scenario families; methods: {methods}",
    ]


_LEADERBOARD_NOTE = (
    "↑ higher is better, ↓ lower is better (each metric's MetricSpec); the best mean per column is bold. "
    "Methods are ordered by the first column."
)


_GUIDE_NOTE = (
    "n/a: the metric does not apply to that family by design (its rows are NaN with the reason). The physics metrics "
    "are validated on the known-truth ladder (void-eval ladder); docs/metrics.md gives every definition."
)


def _render_html(report: _Report) -> str:
    record, images = report.record, report.images
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>void-eval report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>void-eval benchmark report</h1>",
        "<p class='note'>"
        + "<br>".join(html.escape(line) for line in _summary_lines(report.run_dir, record, report.results))
        + "</p>",
        "<h2>Leaderboard</h2>",
        _html_table(report.board, bold=report.best),
        f"<p class='note'>{html.escape(report.leaderboard_note)} "
        + html.escape(
            "Columns without '(vs ...)' compare with the counterfactual (ground truth); "
            + "; ".join(c.full_title for c in report.columns)
        )
        + "</p>",
    ]
    parts += ["<h2>The metrics</h2>", _html_table(metric_guide(report.results)), f"<p class='note'>{_GUIDE_NOTE}</p>"]
    if "per_scenario.png" in images:
        parts += [
            "<h2>By scenario family</h2>",
            f"<img alt='per-scenario' src='{_data_uri(images['per_scenario.png'])}'>",
        ]
    if "per_region.png" in images:
        parts += ["<h2>By quadmask region</h2>", f"<img alt='per-region' src='{_data_uri(images['per_region.png'])}'>"]
    parts.append("<h2>Frame strips</h2>")
    parts.append(
        "<p class='note'>input | quadmask (red remove, magenta overlap, yellow affected) | each method | ground truth; "
        f"below each method its error map |output - ground truth| x{strips.ERROR_GAIN} (inferno; against the input "
        "when there is no ground truth).</p>"
    )
    for name, png, why in report.strips:
        parts.append(f"<h3>{html.escape(name)}</h3>")
        if png:
            parts.append(f"<img alt='strip {html.escape(name)}' src='{_data_uri(png)}'>")
        else:
            parts.append(f"<p class='bad'>{html.escape(why)}</p>")
    parts.append("<h2>Run times</h2>")
    parts.append(_html_table(report.times.round(4)) if not report.times.empty else "<p>no timings</p>")
    if "run_times.png" in images:
        parts.append(f"<img alt='run times' src='{_data_uri(images['run_times.png'])}'>")
    parts.append(
        "<p class='note'>Wall-clock seconds measured when each output was computed (cached cells keep their "
        "original time); shared machines make them indicative only.</p>"
    )
    parts.append("<h2>Every metric</h2>")
    for metric, table, bold in report.full:
        parts += [f"<h3>{html.escape(metric)}</h3>", _html_table(table, bold=bold)]
    parts += _problems_html(record, report.notes)
    parts.append("<h2>Provenance</h2><pre>")
    parts.append(
        html.escape(
            json.dumps(
                {
                    key: record.get(key)
                    for key in ("toolkit", "platform", "libraries", "flow_sources", "seeds", "config")
                },
                indent=2,
                default=str,
            )
        )
    )
    parts.append("</pre></body></html>")
    return "\n".join(parts)


def _problems_html(record: dict[str, Any], notes: pd.DataFrame) -> list[str]:
    parts = ["<h2>Problems and notes</h2>"]
    failed = [cell for cell in record.get("cells", []) if cell.get("status") != "done"]
    skipped = record.get("skipped_clips") or {}
    if not failed and not skipped:
        parts.append("<p>Every clip loaded and every cell finished.</p>")
    for path, reason in skipped.items():
        parts.append(f"<p class='bad'>skipped clip {html.escape(path)}: {html.escape(reason)}</p>")
    for cell in failed:
        parts.append(
            f"<p class='bad'>{html.escape(cell['method'])} on {html.escape(cell['clip'])} failed at "
            f"{html.escape(str(cell.get('stage')))}: {html.escape(str(cell.get('error')))}</p>"
        )
    if not notes.empty:
        parts.append("<h3>Values that could not be computed (NaN) and why</h3>")
        parts.append(_html_table(notes))
    return parts


def _render_md(report: _Report) -> str:
    record, images, notes = report.record, report.images, report.notes
    lines = ["# void-eval benchmark report", ""]
    lines += [f"- {_md(line)}" for line in _summary_lines(report.run_dir, record, report.results)]
    lines += [
        "",
        "## Leaderboard",
        "",
        _md_table(report.board, bold=report.best),
        "",
        report.leaderboard_note,
        "",
    ]
    lines += ["## The metrics", "", _md_table(metric_guide(report.results)), "", _GUIDE_NOTE, ""]
    if "per_scenario.png" in images:
        lines += ["## By scenario family", "", "![per scenario](per_scenario.png)", ""]
    if "per_region.png" in images:
        lines += ["## By quadmask region", "", "![per region](per_region.png)", ""]
    lines += ["## Frame strips", ""]
    for name, png, why in report.strips:
        image = f"![{_md(name)}]({urllib.parse.quote(f'strip_{name}.png')})"
        lines += [f"### {_md(name)}", "", image if png else f"*{_md(why)}*", ""]
    lines += ["## Run times", ""]
    lines += [_md_table(report.times.round(4)) if not report.times.empty else "no timings", ""]
    if "run_times.png" in images:
        lines += ["![run times](run_times.png)", ""]
    lines += ["## Every metric", ""]
    for metric, table, bold in report.full:
        lines += [f"### {_md(metric)}", "", _md_table(table, bold=bold), ""]
    failed = [cell for cell in record.get("cells", []) if cell.get("status") != "done"]
    skipped = record.get("skipped_clips") or {}
    lines += ["## Problems and notes", ""]
    if not failed and not skipped:
        lines.append("Every clip loaded and every cell finished.")
    lines += [f"- skipped clip {_md(path)}: {_md(reason)}" for path, reason in skipped.items()]
    lines += [
        f"- {_md(c['method'])} on {_md(c['clip'])} failed at {_md(c.get('stage'))}: {_md(c.get('error'))}"
        for c in failed
    ]
    if not notes.empty:
        lines += ["", "Values that could not be computed (NaN) and why:", "", _md_table(notes)]
    lines.append("")
    return "\n".join(lines)


__all__ = ["Column", "build_report", "leaderboard_json", "load_run", "print_leaderboard"]
