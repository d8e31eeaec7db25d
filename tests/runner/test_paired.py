"""Paired per-clip comparison: known truths by construction and scipy references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from void_eval.runner.paired import paired_comparison, per_clip_differences


def _results(a_values, b_values, *, metric="psnr") -> pd.DataFrame:
    clips = [f"c{i}" for i in range(len(a_values))]
    return pd.DataFrame(
        {
            "method": ["a"] * len(clips) + ["b"] * len(clips),
            "clip": clips * 2,
            "scenario": [("occlusion" if i % 2 else "shadow") for i in range(len(clips))] * 2,
            "region": "remove",
            "metric": metric,
            "reference": "counterfactual",
            "value": [*a_values, *b_values],
            "note": "",
        }
    )


def test_matches_scipy_sign_test_and_paired_bootstrap():
    rng = np.random.default_rng(3)
    b = rng.normal(30, 4, size=40)
    a = b + rng.normal(0.5, 1.0, size=40)  # a better on most clips, by a noisy margin
    row = paired_comparison(_results(a, b), "a", "b", {"psnr": {"higher_is_better": True}}, n_boot=20000).iloc[0]
    wins = int((a > b).sum())
    assert (row.n_clips, row.a_better, row.b_better, row.ties) == (40, wins, 40 - wins, 0)
    assert row.sign_p == pytest.approx(stats.binomtest(wins, 40, 0.5).pvalue)
    reference = stats.bootstrap(
        (a - b,), np.mean, n_resamples=20000, method="percentile", random_state=1
    ).confidence_interval
    width = reference.high - reference.low
    assert row.mean_diff == pytest.approx((a - b).mean())
    assert row.ci_low == pytest.approx(reference.low, abs=0.03 * width)
    assert row.ci_high == pytest.approx(reference.high, abs=0.03 * width)
    assert row.note == ""


def test_direction_ties_infinities_and_small_samples():
    table = paired_comparison(
        _results([1.0, 2, 3, 4, 5, 6], [2.0, 3, 4, 5, 6, 6], metric="flicker"),
        "a",
        "b",
        {"flicker": {"higher_is_better": False}},
    )
    row = table.iloc[0]
    assert (row.direction, row.a_better, row.b_better, row.ties) == ("lower", 5, 0, 1)
    assert row.sign_p == pytest.approx(2 * 0.5**5)
    oracle = paired_comparison(_results([np.inf, np.inf, 40.0], [30.0, np.inf, 41.0]), "a", "b").iloc[0]
    assert (oracle.a_better, oracle.b_better, oracle.ties, oracle.n_finite) == (1, 1, 1, 1)
    assert np.isnan(oracle.ci_low) and "no CI: 1 finite pairs < 5" in oracle.note and "infinite" in oracle.note
    assert oracle.direction.startswith("unknown")


def test_per_clip_differences_keep_scenarios_and_drop_nan():
    frame = _results([1.0, np.nan, 3.0], [0.5, 1.0, 1.0])
    diffs = per_clip_differences(frame, "a", "b")
    assert diffs[["clip", "scenario", "diff"]].values.tolist() == [["c0", "shadow", 0.5], ["c2", "shadow", 2.0]]
    with pytest.raises(ValueError, match="'zz' is not in the results"):
        per_clip_differences(frame, "a", "zz")
