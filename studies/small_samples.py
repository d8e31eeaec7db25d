"""Small-sample honesty: minimum counts, notes next to numbers, and a Bradley-Terry table without false confidence.

A summary number resting on few people or few judgments is printed with a note saying so, and an interval that
only looks confident is not printed at all:

* Bradley-Terry: no interval under separation (:func:`studies.bradley_terry.separation`: a method never beaten
  has an infinite unpenalised strength, so the gap is set by the ridge prior and every bootstrap resample repeats
  it, a zero-width interval) or with fewer than :data:`MIN_BOOTSTRAP_PARTICIPANTS` participants;
* pairwise and best-of rows: a note below :data:`MIN_JUDGMENTS` judgments, or below
  :data:`MIN_BOOTSTRAP_PARTICIPANTS` participants (the Wilson and multinomial intervals treat every answer as
  independent, which a handful of people does not warrant).

Example
-------
>>> import pandas as pd
>>> kept = pd.DataFrame({"participant": ["a", "b"], "question": ["q", "q"], "options": [("x", "y")] * 2,
...                      "choice": ["x", "x"]})
>>> table = strength_table(kept, ["x", "y"], bootstrap=50, confidence=0.95, ridge=0.01, seed=0)
>>> bool(table["ci_low"].isna().all())
True
>>> for part in table.loc[0, "note"].split("; "):
...     print(part)
no interval: separation (x was never beaten by y: the gap is set by the ridge prior, not the data)
2 participants < 5
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studies.bradley_terry import bootstrap_strengths, choice_counts, separation

BT_COLUMNS = ("question", "method", "strength", "ci_low", "ci_high", "rank", "participants", "note")
#: Fewest participants behind a participant-bootstrap interval: n people give only C(2n-1, n) distinct resamples
#: (3 for 2 people, 35 for 4, 126 for 5), too few for a 95% percentile interval to mean anything below 5.
MIN_BOOTSTRAP_PARTICIPANTS = 5
#: Fewer decided judgments (pairwise) or trials (best-of-N) than this get a note next to their interval.
MIN_JUDGMENTS = 10


def strength_table(
    kept: pd.DataFrame, methods: list[str], *, bootstrap: int, confidence: float, ridge: float, seed: int
) -> pd.DataFrame:
    """Bradley-Terry strengths per question; no interval (and a note saying why) under separation or with fewer
    than :data:`MIN_BOOTSTRAP_PARTICIPANTS` participants."""
    rows = []
    for question in dict.fromkeys(kept["question"]):
        own = kept[kept["question"] == question]
        answers = list(zip(own["participant"], own["options"], own["choice"], strict=True))
        present = [m for m in methods if any(m in options for options in own["options"])]
        data = choice_counts(answers, present)
        estimate = bootstrap_strengths(data, resamples=bootstrap, confidence=confidence, ridge=ridge, seed=seed)
        people = len(data.participants)
        notes = []
        split = separation(data.total(), data.sets, data.methods)
        if split:
            notes.append(f"separation ({split}: the gap is set by the ridge prior, not the data)")
        if people < MIN_BOOTSTRAP_PARTICIPANTS:
            notes.append(f"{people} participants < {MIN_BOOTSTRAP_PARTICIPANTS}")
        for index, method in enumerate(estimate.methods):
            rows.append(
                {
                    "question": question,
                    "method": method,
                    "strength": estimate.strength[index],
                    "ci_low": np.nan if notes else estimate.ci_low[index],
                    "ci_high": np.nan if notes else estimate.ci_high[index],
                    "rank": int(estimate.rank[index]),
                    "participants": people,
                    "note": "no interval: " + "; ".join(notes) if notes else "",
                }
            )
    return pd.DataFrame(rows, columns=list(BT_COLUMNS))


def with_count_notes(table: pd.DataFrame, kept: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Add ``participants`` and a ``note`` to pairwise or best-of rows resting on few judgments or people."""
    if kind == "pairwise":
        shown = kept[kept["options"].map(len) == 2]
        keys = [(row.question, frozenset((row.method_a, row.method_b))) for row in table.itertuples()]
        group = shown.assign(key=shown["options"].map(frozenset)).groupby(["question", "key"])["participant"]
        counts = (table["wins_a"] + table["wins_b"]).astype(int).tolist() if len(table) else []
        unit = "decided judgments"
    else:
        shown = kept[kept["options"].map(len) > 2]
        keys = list(table["question"])
        group = shown.groupby("question")["participant"]
        counts = table["trials"].astype(int).tolist() if len(table) else []
        unit = "trials"
    people = group.nunique().to_dict() if len(shown) else {}
    table = table.copy()
    table["participants"] = [int(people.get(key, 0)) for key in keys]
    notes = []
    for count, persons in zip(counts, table["participants"], strict=True):
        parts = [f"{count} {unit} < {MIN_JUDGMENTS}"] if count < MIN_JUDGMENTS else []
        if persons < MIN_BOOTSTRAP_PARTICIPANTS:
            parts.append(f"{persons} participants < {MIN_BOOTSTRAP_PARTICIPANTS}")
        notes.append("few: " + ", ".join(parts) if parts else "")
    table["note"] = notes
    return table
