"""Leaderboard tables: one column per (metric, region, reference), headline choice, best marks."""

from __future__ import annotations

import pandas as pd

from void_eval.report.tables import all_columns, best_methods, headline_columns, leaderboard, leaderboard_values

INFO = {"psnr": {"higher_is_better": True}, "ssim": {"higher_is_better": True}}


def _aggregates() -> pd.DataFrame:
    # psnr in keep against the counterfactual (psnr metric) and against the input (preservation): b wins the first,
    # a wins the second.
    return pd.DataFrame(
        {
            "method": ["a", "a", "b", "b"],
            "region": ["keep"] * 4,
            "metric": ["psnr"] * 4,
            "reference": ["counterfactual", "input", "counterfactual", "input"],
            "mean": [20.0, 50.0, 25.0, 40.0],
            "ci_low": [19.0, 49.0, 24.0, 39.0],
            "ci_high": [21.0, 51.0, 26.0, 41.0],
            "n_clips": [3] * 4,
            "n_nan": [0] * 4,
        }
    )


def test_same_metric_and_region_against_two_references_stay_two_columns():
    aggregates = _aggregates()
    columns = all_columns(aggregates, INFO)
    assert [column.title for column in columns] == ["psnr ↑ keep", "psnr ↑ keep (vs input)"]
    values = leaderboard_values(aggregates, columns)
    assert values.loc["a"].tolist() == [20.0, 50.0]
    assert values.loc["b"].tolist() == [25.0, 40.0]
    assert best_methods(values, columns) == {"psnr ↑ keep": {"b"}, "psnr ↑ keep (vs input)": {"a"}}
    board = leaderboard(aggregates, INFO, columns=columns).set_index("method")
    assert board.loc["a", "psnr ↑ keep"] == "20.00 [19.00, 21.00]"
    assert board.loc["a", "psnr ↑ keep (vs input)"] == "50.00 [49.00, 51.00]"


def test_headline_includes_keep_preservation_against_the_input():
    aggregates = _aggregates()
    extra = aggregates.iloc[:2].assign(region="remove", reference="counterfactual", mean=[30.0, 31.0])
    aggregates = pd.concat([aggregates, extra], ignore_index=True)
    keys = [column.key for column in headline_columns(aggregates, INFO)]
    assert ("psnr", "remove", "counterfactual") in keys
    assert ("psnr", "keep", "input") in keys
