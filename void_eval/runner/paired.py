"""Paired per-clip comparison of two methods: per-clip differences, a paired bootstrap CI and an exact sign test.

Two methods scored on the same clips are compared clip by clip, so the variation between clips (some scenes are
hard for every method) cancels out. For each (metric, region, reference):

* ``n_clips``: clips where both methods have a value; of those ``a_better``, ``b_better`` and ``ties`` (in the
  metric's better direction when it is known, else "higher");
* ``sign_p``: exact two-sided binomial test of ``a_better`` against ``a_better + b_better`` at 1/2 (ties left
  out), valid for any distribution of differences and for infinite values (an exact match's PSNR);
* ``mean_diff`` (A - B, in the metric's units) over the clips where both values are finite (``n_finite``), with a
  paired percentile-bootstrap CI that resamples clips; no CI below
  :data:`~void_eval.runner.results.MIN_CLIPS_FOR_CI` finite pairs (the ``note`` says so).

Example
-------
>>> import pandas as pd
>>> rows = pd.DataFrame({"method": ["a"] * 6 + ["b"] * 6, "clip": [f"c{i}" for i in range(6)] * 2,
...                      "scenario": "s", "region": "frame", "metric": "psnr", "reference": "counterfactual",
...                      "value": [31.0, 32, 33, 34, 35, 36, 30, 30, 30, 30, 30, 30], "note": ""})
>>> table = paired_comparison(rows, "a", "b", {"psnr": {"higher_is_better": True}}, n_boot=1000)
>>> row = table.iloc[0]
>>> int(row.n_clips), int(row.a_better), int(row.b_better), int(row.ties), float(row.mean_diff)
(6, 6, 0, 0, 3.5)
>>> round(float(table["sign_p"].iloc[0]), 5)   # 2 * 0.5 ** 6
0.03125
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from void_eval.runner.results import MIN_CLIPS_FOR_CI, bootstrap_mean_ci

KEYS = ["metric", "region", "reference"]
COLUMNS = [
    *KEYS,
    "direction",
    "n_clips",
    "a_better",
    "b_better",
    "ties",
    "sign_p",
    "mean_diff",
    "ci_low",
    "ci_high",
    "n_finite",
    "note",
]


def _direction(higher: bool | None) -> str:
    return "unknown (higher counted as better)" if higher is None else "higher" if higher else "lower"


def per_clip_differences(results: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """One row per (clip, metric, region, reference) scored for both methods: ``scenario, value_a, value_b, diff``.

    Rows where either value is NaN (a metric that could not be computed) are left out.
    """
    for method in (a, b):
        if method not in set(results["method"]):
            raise ValueError(f"method {method!r} is not in the results ({', '.join(sorted(set(results['method'])))})")
    index = ["clip", "scenario", *KEYS]
    left = results[results["method"] == a].set_index(index)["value"].rename("value_a")
    right = results[results["method"] == b].set_index(index)["value"].rename("value_b")
    both = pd.concat([left, right], axis=1, join="inner").dropna().reset_index()
    with np.errstate(invalid="ignore"):
        both["diff"] = both["value_a"] - both["value_b"]
    return both


def paired_comparison(
    results: pd.DataFrame,
    a: str,
    b: str,
    metric_info: Mapping[str, Any] | None = None,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Compare method ``a`` with ``b`` clip by clip (see the module docstring); one row per metric column."""
    pairs = per_clip_differences(results, a, b)
    rows = []
    for key, group in pairs.groupby(KEYS, sort=True):
        higher = ((metric_info or {}).get(key[0]) or {}).get("higher_is_better")
        sign = 1.0 if higher is not False else -1.0
        a_values, b_values = group["value_a"].to_numpy(float), group["value_b"].to_numpy(float)
        a_better = int((sign * a_values > sign * b_values).sum())
        b_better = int((sign * a_values < sign * b_values).sum())
        decided = a_better + b_better
        finite = group["diff"].to_numpy(float)
        finite = finite[np.isfinite(finite)]
        mean, low, high = bootstrap_mean_ci(finite, n_boot=n_boot, confidence=confidence, seed=seed)
        notes = []
        if finite.size < MIN_CLIPS_FOR_CI:
            low = high = float("nan")
            notes.append(f"no CI: {finite.size} finite pairs < {MIN_CLIPS_FOR_CI}")
        if finite.size < len(group):
            notes.append(f"{len(group) - finite.size} clip(s) with an infinite value: in the sign test only")
        rows.append(
            {
                **dict(zip(KEYS, key, strict=True)),
                "direction": _direction(higher),
                "n_clips": len(group),
                "a_better": a_better,
                "b_better": b_better,
                "ties": len(group) - decided,
                "sign_p": float(stats.binomtest(a_better, decided, 0.5).pvalue) if decided else float("nan"),
                "mean_diff": mean,
                "ci_low": low,
                "ci_high": high,
                "n_finite": int(finite.size),
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)
