"""The leaderboard says what its brackets hold, a metric reads alike in every table, legends cover no data."""

from __future__ import annotations

import matplotlib.figure
import pandas as pd
import pytest

from void_eval.report import plots
from void_eval.report.board import ci_phrase, leaderboard_json, leaderboard_parts
from void_eval.report.build import build_report
from void_eval.report.tables import Column, leaderboard


def test_the_title_claims_a_ci_only_where_one_is_printed():
    nan = float("nan")
    assert ci_phrase(pd.DataFrame({"ci_low": [nan, nan]})) == "(no CI: fewer than 5 clips)"
    assert ci_phrase(pd.DataFrame({"ci_low": [0.1, 0.2]})) == "[bootstrap 95% CI]"
    assert ci_phrase(pd.DataFrame({"ci_low": [0.1, nan]})) == "[bootstrap 95% CI; none below 5 clips]"


def test_a_metric_has_one_precision_in_every_table():
    rows = pd.DataFrame(
        {
            "method": ["a", "b", "a", "b"],
            "metric": ["motion_agreement"] * 4,
            "region": ["affected", "affected", "frame", "frame"],
            "reference": ["counterfactual"] * 4,
            "mean": [0.0, 0.0, 0.5, 0.25],
            "ci_low": [float("nan")] * 4,
            "ci_high": [float("nan")] * 4,
        }
    )
    info = {"motion_agreement": {"higher_is_better": True}}
    headline = leaderboard(rows, info, columns=[Column("motion_agreement", "affected", "counterfactual", True)])
    full = leaderboard(rows, info, columns=[Column("motion_agreement", region, "counterfactual", True) for region in
                                            ("affected", "frame")])  # fmt: skip
    assert list(headline.iloc[:, 1]) == ["0.000", "0.000"] == list(full["motion_agreement ↑ affected"])
    only_zeros = leaderboard(rows[rows.region == "affected"], info)
    assert list(only_zeros.iloc[:, 1]) == ["0.000", "0.000"]  # never 0.000000


def test_report_and_json_say_ci_honestly(bench_run):
    index = build_report(bench_run, out=bench_run.parent / "honest")
    text = index.read_text(encoding="utf-8")
    assert "no CI where fewer than 5 clips back the mean" in text
    board = leaderboard_json(bench_run)
    first = board[0]["columns"][0]
    assert first["n_clips"] >= 5 and first["ci_low"] <= first["mean"] <= first["ci_high"]


def _overlaps(box, other) -> bool:
    return box.x0 < other.x1 and other.x0 < box.x1 and box.y0 < other.y1 and other.y0 < box.y1


@pytest.mark.parametrize("kind", ["scenario", "region"])
def test_report_legends_cover_no_panel(bench_run, monkeypatch, kind):
    measured = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):  # measure while the figure is still open
        result = original(self, *args, **kwargs)
        renderer = self.canvas.get_renderer()
        (legend,) = self.legends
        texts = [text.get_text() for text in legend.get_texts()]
        panels = [ax.get_window_extent(renderer) for ax in self.axes if ax.axison]
        measured.append((texts, legend.get_window_extent(renderer), panels))
        return result

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    _, by_method, by_scenario, columns = leaderboard_parts(bench_run)
    methods = sorted(set(by_method["method"]))
    if kind == "scenario":
        png = plots.scenario_plot(by_scenario, columns[:4], methods)
    else:
        png = plots.region_plot(by_method, [(m, True) for m in sorted(set(by_method["metric"]))], methods)
    assert png is not None
    ((texts, legend, panels),) = measured
    assert texts == methods and len(panels) >= 2
    for panel in panels:
        assert not _overlaps(legend, panel)
