"""Render a run's report as self-contained HTML and as Markdown, from one :class:`Report` both show.

:func:`void_eval.report.build.build_report` gathers the run's tables, plots and strips into a :class:`Report`; the
two functions here only format it. Every name that comes from folders or the command line is escaped: HTML
entities in the page, Markdown punctuation too in ``report.md``.

Examples
--------
>>> print(_md("<b>x</b>|y"))
&lt;b&gt;x&lt;/b&gt;\\|y
"""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from void_eval.report import strips
from void_eval.report.metric_guide import metric_guide
from void_eval.report.tables import Column
from void_eval.runner.results import MIN_CLIPS_FOR_CI

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; white-space: nowrap; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; } .note { color: #555; font-size: 13px; }
code { background: #f4f4f4; padding: 1px 4px; } .bad { color: #b00; }
"""

_LEADERBOARD_NOTE = (
    "↑ higher is better, ↓ lower is better (each metric's MetricSpec); the best mean per column is bold. "
    "Methods are ordered by the first column."
)

_GUIDE_NOTE = (
    "n/a: the metric does not apply to that family by design (its rows are NaN with the reason). The physics metrics "
    "are validated on the known-truth ladder (void-eval ladder); docs/metrics.md gives every definition."
)

_STRIP_NOTE = (
    "input | quadmask (red remove, magenta overlap, yellow affected) | each method | ground truth; "
    f"below each method its error map |output - ground truth| x{strips.ERROR_GAIN} (inferno; against the input "
    "when there is no ground truth)."
)

_TIMES_NOTE = (
    "Wall-clock seconds measured when each output was computed (cached cells keep their "
    "original time); shared machines make them indicative only."
)

_COLUMNS_NOTE = "Columns without '(vs ...)' compare with the counterfactual (ground truth); "

_PROVENANCE_KEYS = ("toolkit", "platform", "libraries", "flow_sources", "seeds", "config")


@dataclass(frozen=True)
class Report:
    """Everything both renderings (HTML and Markdown) show.

    ``images`` maps file names to PNG bytes; ``strips`` holds ``(clip, png or None, why it is missing)``;
    ``full`` holds ``(metric, table, best methods per column)``; ``with_ci`` is the leaderboard's
    :func:`void_eval.report.board.ci_phrase`.
    """

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
    with_ci: str

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

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The run's cells that did not finish."""
        return [cell for cell in self.record.get("cells", []) if cell.get("status") != "done"]

    @property
    def skipped(self) -> dict[str, str]:
        """Clip folders the run could not load, with why."""
        return self.record.get("skipped_clips") or {}

    def summary_lines(self) -> list[str]:
        """The run in four lines: folder, toolkit version, when and how it ran, what it scored."""
        toolkit, config = self.record.get("toolkit", {}), self.record.get("config", {})
        commit = toolkit.get("commit") or "unknown"
        dirty = " (uncommitted changes)" if toolkit.get("dirty") else ""
        methods = ", ".join(
            f"{m['label']}" + (f" ({m['name']} {json.dumps(m['params'], sort_keys=True)})" if m["params"] else "")
            for m in config.get("methods", [])
        )
        return [
            f"run folder: {self.run_dir}",
            f"void-eval {toolkit.get('version', '?')}, git {commit[:12]}{dirty}",
            f"finished {self.record.get('finished_at', '?')}, wall {self.record.get('wall_s', float('nan')):.1f} s, "
            f"engine {config.get('engine', '?')}, device {self.record.get('device', '?')}, "
            f"metric preset {config.get('options', {}).get('preset')}",
            f"{self.results['clip'].nunique()} clips in {self.results['scenario'].nunique()} scenario families; "
            f"methods: {methods}",
        ]


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


def _cells(frame: pd.DataFrame, bold: dict[str, set[str]] | None, escape, strong) -> list[list[str]]:
    """The table's body as escaped cell texts, the best method of each column wrapped by ``strong``."""
    bold = bold or {}
    rows = []
    for row in frame.itertuples(index=False):
        method = str(row[0])
        rows.append(
            [
                strong(escape(_text(value))) if method in bold.get(str(column), set()) else escape(_text(value))
                for column, value in zip(frame.columns, row, strict=True)
            ]
        )
    return rows


def _html_table(frame: pd.DataFrame, *, bold: dict[str, set[str]] | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = _cells(frame, bold, html.escape, lambda text: f"<b>{text}</b>")
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(frame: pd.DataFrame, *, bold: dict[str, set[str]] | None = None) -> str:
    lines = ["| " + " | ".join(_md(c) for c in frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    rows = _cells(frame, bold, _md, lambda text: f"**{text}**")
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _img(alt: str, png: bytes) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode('ascii')}'>"


def _note(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def render_html(report: Report) -> str:
    """The self-contained page: every image a data URI, every name escaped."""
    images = report.images
    columns = "; ".join(column.full_title for column in report.columns)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>void-eval report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>void-eval benchmark report</h1>",
        "<p class='note'>" + "<br>".join(html.escape(line) for line in report.summary_lines()) + "</p>",
        "<h2>Leaderboard</h2>",
        _html_table(report.board, bold=report.best),
        _note(f"{report.leaderboard_note} {_COLUMNS_NOTE}{columns}"),
        "<h2>The metrics</h2>",
        _html_table(metric_guide(report.results)),
        _note(_GUIDE_NOTE),
    ]
    for name, title, alt in (
        ("per_scenario.png", "By scenario family", "per-scenario"),
        ("per_region.png", "By quadmask region", "per-region"),
    ):
        if name in images:
            parts += [f"<h2>{title}</h2>", _img(alt, images[name])]
    parts += ["<h2>Frame strips</h2>", _note(_STRIP_NOTE)]
    for name, png, why in report.strips:
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(_img(f"strip {name}", png) if png else f"<p class='bad'>{html.escape(why)}</p>")
    parts.append("<h2>Run times</h2>")
    parts.append(_html_table(report.times.round(4)) if not report.times.empty else "<p>no timings</p>")
    if "run_times.png" in images:
        parts.append(_img("run times", images["run_times.png"]))
    parts += [_note(_TIMES_NOTE), "<h2>Every metric</h2>"]
    for metric, table, bold in report.full:
        parts += [f"<h3>{html.escape(metric)}</h3>", _html_table(table, bold=bold)]
    parts += _problems_html(report)
    provenance = {key: report.record.get(key) for key in _PROVENANCE_KEYS}
    parts.append("<h2>Provenance</h2><pre>")
    parts.append(html.escape(json.dumps(provenance, indent=2, default=str)))
    parts.append("</pre></body></html>")
    return "\n".join(parts)


def _problems_html(report: Report) -> list[str]:
    parts = ["<h2>Problems and notes</h2>"]
    if not report.failed and not report.skipped:
        parts.append("<p>Every clip loaded and every cell finished.</p>")
    for path, reason in report.skipped.items():
        parts.append(f"<p class='bad'>skipped clip {html.escape(path)}: {html.escape(reason)}</p>")
    for cell in report.failed:
        parts.append(
            f"<p class='bad'>{html.escape(cell['method'])} on {html.escape(cell['clip'])} failed at "
            f"{html.escape(str(cell.get('stage')))}: {html.escape(str(cell.get('error')))}</p>"
        )
    if not report.notes.empty:
        parts.append("<h3>Values that could not be computed (NaN) and why</h3>")
        parts.append(_html_table(report.notes))
    return parts


def render_md(report: Report) -> str:
    """``report.md``: the same sections, images linked as the PNG files written beside it."""
    images = report.images
    lines = ["# void-eval benchmark report", ""]
    lines += [f"- {_md(line)}" for line in report.summary_lines()]
    lines += ["", "## Leaderboard", "", _md_table(report.board, bold=report.best), "", report.leaderboard_note, ""]
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
    lines += ["## Problems and notes", ""]
    if not report.failed and not report.skipped:
        lines.append("Every clip loaded and every cell finished.")
    lines += [f"- skipped clip {_md(path)}: {_md(reason)}" for path, reason in report.skipped.items()]
    lines += [
        f"- {_md(c['method'])} on {_md(c['clip'])} failed at {_md(c.get('stage'))}: {_md(c.get('error'))}"
        for c in report.failed
    ]
    if not report.notes.empty:
        lines += ["", "Values that could not be computed (NaN) and why:", "", _md_table(report.notes)]
    lines.append("")
    return "\n".join(lines)
