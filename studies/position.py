"""Position-bias tests: is the left option (or a screen slot) chosen more often than chance?

* pairwise answers: decided judgments, share choosing the left option, Wilson interval, exact binomial test
  against 0.5;
* best-of-N answers: chosen screen slot against a uniform distribution (chi-square goodness of fit, one test per
  number of options shown; ties excluded).

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"question": ["q"] * 10, "options": [("x", "y")] * 10, "choice": ["x"] * 9 + ["y"]})
>>> row = position_bias(frame).iloc[0]
>>> row["kind"], int(row["n"]), round(float(row["p_value"]), 4)
('left-vs-right', 10, 0.0215)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from studies.intervals import binomial_p_value, wilson_interval
from studies.responses import TIE


def position_bias(frame: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Rows ``question, kind, options_shown, n, slot_counts, left_share, ci_low, ci_high, statistic, p_value``."""
    rows = []
    decided = frame[frame["choice"] != TIE]
    for question in dict.fromkeys(frame["question"]):
        own = decided[decided["question"] == question]
        sizes = own["options"].map(len)
        for size in sorted(set(sizes)):
            block = own[sizes == size]
            slots = np.array(
                [options.index(choice) for options, choice in zip(block["options"], block["choice"], strict=True)]
            )
            counts = np.bincount(slots, minlength=size)
            rows.append(_slot_row(question, size, counts, confidence))
    return pd.DataFrame(
        rows,
        columns=[
            "question",
            "kind",
            "options_shown",
            "n",
            "slot_counts",
            "left_share",
            "ci_low",
            "ci_high",
            "statistic",
            "p_value",
        ],
    )


def _slot_row(question: str, size: int, counts: np.ndarray, confidence: float) -> dict:
    """One test row: left-vs-right (binomial, Wilson) for 2 options, slot uniformity (chi-square) for more."""
    n = int(counts.sum())
    shared = {"question": question, "options_shown": size, "n": n, "slot_counts": "|".join(map(str, counts))}
    shared["left_share"] = counts[0] / n  # the columns' order is the table's, not these dicts'
    if size == 2:
        low, high = wilson_interval(counts[0], n, confidence=confidence)
        p_value = binomial_p_value(int(counts[0]), n)
        return {
            **shared,
            "kind": "left-vs-right",
            "ci_low": float(low),
            "ci_high": float(high),
            "statistic": float(counts[0]),
            "p_value": p_value,
        }
    test = stats.chisquare(counts)
    return {
        **shared,
        "kind": "slot-uniformity",
        "ci_low": float("nan"),
        "ci_high": float("nan"),
        "statistic": float(test.statistic),
        "p_value": float(test.pvalue),
    }
