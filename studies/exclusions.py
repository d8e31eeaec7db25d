"""Exclusions: failed attention checks and implausibly fast answers, with counts for the report.

Rules (all keyword options of :func:`apply_exclusions`):

* a **copy-input** check (an attention trial whose options include ``copy-input``) fails when the participant
  chooses ``copy-input`` or ``tie`` (either means the still-visible object went unnoticed);
* a **repeat** check (any other attention trial) is compared with the participant's earlier non-check trial of
  the same clip, question and option set; it is inconsistent when the two choices differ. Repeats are always
  reported, but by default they exclude nobody (``max_repeat_inconsistency = 1``): a sincere participant torn
  between two close methods answers a repeat differently about half the time, so inconsistency measures
  preference strength as much as attention;
* a participant is excluded when copy-input failures exceed ``max_copy_input_failures`` (default 0), when the
  share of inconsistent repeats exceeds ``max_repeat_inconsistency``, or when more than
  ``max_fast_fraction`` (default 0.5) of their answers are faster than ``min_rt_ms``;
* of the remaining participants, single answers faster than ``min_rt_ms`` (default 1000 ms) are dropped;
* attention-check trials never enter the analysis.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "participant": ["a", "a", "b", "b"], "trial": [0, 1, 0, 1], "clip": ["c"] * 4, "question": ["q"] * 4,
...     "options": [("x", "y"), ("copy-input", "x")] * 2, "choice": ["x", "x", "x", "copy-input"],
...     "rt_ms": [4000.0] * 4, "attention": [False, True, False, True]})
>>> kept, table, counts = apply_exclusions(frame)
>>> sorted(kept.participant), table.set_index("participant").excluded.to_dict()
(['a'], {'a': False, 'b': True})
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studies.responses import COPY_INPUT, TIE, ResponseValidationError


def apply_exclusions(
    frame: pd.DataFrame,
    *,
    min_rt_ms: float = 1000.0,
    max_fast_fraction: float = 0.5,
    max_copy_input_failures: int = 0,
    max_repeat_inconsistency: float = 1.0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Apply the exclusion rules; returns ``(kept main answers, per-participant table, counts)``."""
    if min_rt_ms < 0 or not 0 <= max_fast_fraction <= 1 or not 0 <= max_repeat_inconsistency <= 1:
        raise ResponseValidationError("min_rt_ms >= 0; max_fast_fraction and max_repeat_inconsistency in [0, 1]")
    if max_copy_input_failures < 0:
        raise ResponseValidationError("max_copy_input_failures must be >= 0")
    records = [
        _participant_record(
            participant,
            own,
            min_rt_ms=min_rt_ms,
            max_fast_fraction=max_fast_fraction,
            max_copy_input_failures=max_copy_input_failures,
            max_repeat_inconsistency=max_repeat_inconsistency,
        )
        for participant, own in frame.groupby("participant", sort=False)
    ]
    table = pd.DataFrame(records)
    excluded = set(table.loc[table["excluded"], "participant"])
    main_all = frame[~frame["attention"]]
    from_excluded = main_all["participant"].isin(excluded)
    fast_rows = (main_all["rt_ms"] < min_rt_ms) & ~from_excluded
    kept = main_all[~from_excluded & ~fast_rows].reset_index(drop=True)
    counts = {
        "participants": len(table),
        "participants_excluded": len(excluded),
        "participants_kept": int(len(table) - len(excluded)),
        "answers": len(frame),
        "attention_answers": int(frame["attention"].sum()),
        "main_answers": len(main_all),
        "main_answers_of_excluded_participants": int(from_excluded.sum()),
        "fast_answers_dropped": int(fast_rows.sum()),
        "answers_analysed": len(kept),
        "repeat_checks_matched": int((table["repeat_checks"] - table["repeats_unmatched"]).sum()),
        "repeat_checks_inconsistent": int(table["repeats_inconsistent"].sum()),
        "rules": {
            "min_rt_ms": min_rt_ms,
            "max_fast_fraction": max_fast_fraction,
            "max_copy_input_failures": max_copy_input_failures,
            "max_repeat_inconsistency": max_repeat_inconsistency,
            "copy_input_failure": "chose copy-input or tie",
        },
    }
    return kept, table, counts


def _participant_record(
    participant: object,
    own: pd.DataFrame,
    *,
    min_rt_ms: float,
    max_fast_fraction: float,
    max_copy_input_failures: int,
    max_repeat_inconsistency: float,
) -> dict:
    """One participant's checks, fast answers and exclusion decision (a row of the per-participant table)."""
    checks = own[own["attention"]]
    main = own[~own["attention"]]
    copy_mask = checks["options"].map(lambda options: COPY_INPUT in options).astype(bool)
    copy_checks = checks[copy_mask]
    copy_failures = int(copy_checks["choice"].isin([COPY_INPUT, TIE]).sum())
    repeats = checks[~copy_mask]
    consistent, inconsistent, unmatched = _repeat_outcomes(repeats, main)
    fast = int((own["rt_ms"] < min_rt_ms).sum())
    fast_fraction = fast / len(own)
    matched = consistent + inconsistent
    inconsistency = inconsistent / matched if matched else float("nan")
    reasons = []
    if copy_failures > max_copy_input_failures:
        reasons.append(f"failed {copy_failures} of {len(copy_checks)} copy-input checks")
    if matched and inconsistency > max_repeat_inconsistency:
        reasons.append(f"{inconsistent} of {matched} repeats inconsistent")
    if fast_fraction > max_fast_fraction:
        reasons.append(f"{fast} of {len(own)} answers under {min_rt_ms:g} ms")
    return {
        "participant": participant,
        "answers": len(own),
        "main_answers": len(main),
        "copy_input_checks": len(copy_checks),
        "copy_input_failures": copy_failures,
        "repeat_checks": len(repeats),
        "repeats_inconsistent": inconsistent,
        "repeats_unmatched": unmatched,
        "fast_answers": fast,
        "median_rt_ms": float(np.median(own["rt_ms"])),
        "excluded": bool(reasons),
        "reason": "; ".join(reasons),
    }


def _repeat_outcomes(repeats: pd.DataFrame, main: pd.DataFrame) -> tuple[int, int, int]:
    """``(consistent, inconsistent, unmatched)`` repeats against each one's latest earlier main trial of the same
    clip, question and option set."""
    consistent = inconsistent = unmatched = 0
    for row in repeats.itertuples(index=False):
        earlier = main[
            (main["clip"] == row.clip)
            & (main["question"] == row.question)
            & (main["trial"] < row.trial)
            & main["options"].map(lambda options, row=row: set(options) == set(row.options)).astype(bool)
        ]
        if earlier.empty:
            unmatched += 1
        elif earlier.iloc[-1]["choice"] == row.choice:
            consistent += 1
        else:
            inconsistent += 1
    return consistent, inconsistent, unmatched
