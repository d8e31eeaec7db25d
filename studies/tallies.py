"""Tallies with intervals: pairwise win rates (Wilson, exact binomial, Holm) and best-of-N shares.

Ties policy (also written into every ``summary.json``): a ``tie`` answer counts in ``n`` and ``ties`` but not in
the win rate or the binomial test, which use decided judgments only (``wins_a + wins_b``); best-of-N shares count
``tie`` as its own category; the Bradley-Terry fit splits a tie evenly between the options shown.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"question": ["q"] * 4, "options": [("x", "y"), ("y", "x"), ("x", "y"), ("x", "y")],
...                       "choice": ["x", "x", "y", "tie"]})
>>> row = pairwise_table(frame, ["x", "y"]).iloc[0]
>>> [row[name] for name in ("method_a", "method_b")], [int(row[name]) for name in ("n", "wins_a", "wins_b", "ties")]
(['x', 'y'], [4, 2, 1, 1])
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from studies.intervals import (
    SISON_GLAZ_MIN_CELLS,
    binomial_p_value,
    holm_adjust,
    multinomial_intervals,
    wilson_interval,
)
from studies.responses import TIE

TIES_POLICY = (
    "ties count in n and ties; win rates, Wilson intervals and binomial tests use decided judgments only "
    "(wins_a + wins_b); best-of-N shares keep 'tie' as its own category; Bradley-Terry splits a tie evenly "
    "between the options shown"
)
PAIRWISE_COLUMNS = (
    "question",
    "method_a",
    "method_b",
    "n",
    "wins_a",
    "wins_b",
    "ties",
    "win_rate_a",
    "ci_low",
    "ci_high",
    "p_value",
    "p_holm",
)
BEST_OF_COLUMNS = ("question", "method", "trials", "chosen", "share", "ci_low", "ci_high")


def pairwise_table(frame: pd.DataFrame, methods: list[str], *, confidence: float = 0.95) -> pd.DataFrame:
    """One row per question and pair of ``methods`` (``method_a`` earlier in ``methods``) from 2-option answers.

    ``p_holm`` adjusts over the pairs of one question (the family is one question's set of pairs).
    """
    order = {name: position for position, name in enumerate(methods)}
    two = frame[frame["options"].map(len) == 2]
    rows = []
    for question in dict.fromkeys(frame["question"]):
        own = two[two["question"] == question]
        tally: dict[tuple[str, str], list[int]] = {}
        for options, choice in zip(own["options"], own["choice"], strict=True):
            if any(option not in order for option in options):
                continue
            a, b = sorted(options, key=order.__getitem__)
            counts = tally.setdefault((a, b), [0, 0, 0])
            counts[0 if choice == a else 1 if choice == b else 2] += 1
        block = []
        for a, b in itertools.combinations(methods, 2):
            if (a, b) not in tally:
                continue
            wins_a, wins_b, ties = tally[(a, b)]
            decided = wins_a + wins_b
            low, high = wilson_interval(wins_a, decided, confidence=confidence)
            block.append(
                {
                    "question": question,
                    "method_a": a,
                    "method_b": b,
                    "n": wins_a + wins_b + ties,
                    "wins_a": wins_a,
                    "wins_b": wins_b,
                    "ties": ties,
                    "win_rate_a": wins_a / decided if decided else float("nan"),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "p_value": binomial_p_value(wins_a, decided),
                }
            )
        adjusted = holm_adjust([row["p_value"] for row in block])
        for row, value in zip(block, adjusted, strict=True):
            row["p_holm"] = float(value)
        rows.extend(block)
    return pd.DataFrame(rows, columns=list(PAIRWISE_COLUMNS))


def best_of_table(
    frame: pd.DataFrame, methods: list[str], *, confidence: float = 0.95, interval: str = "goodman"
) -> tuple[pd.DataFrame, dict]:
    """Per question and method: trials shown, times chosen, share of trials and a simultaneous interval.

    Uses answers with more than two options. When every such trial of a question shows the same method set, the
    counts (methods plus ``tie``) form one multinomial sample and the intervals are simultaneous multinomial
    intervals (``interval``: ``goodman``, or ``sison-glaz``, which is used only where a question has >= 7
    categories, Goodman below that, as the note states). Otherwise the shares are per-method binomials and
    the intervals are Wilson intervals Bonferroni-adjusted over the methods (also simultaneous, conservative).
    Returns ``(table, notes)`` with the interval used per question.
    """
    if interval not in {"goodman", "sison-glaz"}:
        raise ValueError(f"interval must be 'goodman' or 'sison-glaz', got {interval!r}")
    many = frame[frame["options"].map(len) > 2]
    rows = []
    notes: dict[str, str] = {}
    for question in dict.fromkeys(frame["question"]):
        own = many[many["question"] == question]
        if own.empty:
            continue
        sets = {frozenset(options) for options in own["options"]}
        shown = {m: int(own["options"].map(lambda options, m=m: m in options).sum()) for m in methods}
        present = [m for m in methods if shown[m] > 0]
        chosen = {m: int((own["choice"] == m).sum()) for m in present}
        ties = int((own["choice"] == TIE).sum())
        total = len(own)
        categories = present + ([TIE] if ties else [])
        counts = np.array([chosen[m] for m in present] + ([ties] if ties else []))
        if len(sets) == 1:
            bounds, trials, notes[question] = _multinomial_bounds(counts, categories, total, interval, confidence)
        else:
            trials = [shown[m] for m in present] + ([total] if ties else [])
            bounds, notes[question] = _bonferroni_wilson_bounds(counts, trials, len(categories), confidence)
        for category, count, n, (low, high) in zip(categories, counts, trials, bounds, strict=True):
            rows.append(
                {
                    "question": question,
                    "method": category,
                    "trials": int(n),
                    "chosen": int(count),
                    "share": count / n,
                    "ci_low": float(low),
                    "ci_high": float(high),
                }
            )
    return pd.DataFrame(rows, columns=list(BEST_OF_COLUMNS)), notes


def _multinomial_bounds(
    counts: np.ndarray, categories: list[str], total: int, interval: str, confidence: float
) -> tuple[np.ndarray, list[int], str]:
    """Simultaneous multinomial intervals of one question whose trials all show the same option set:
    ``(bounds, trials per category, note)``; Sison-Glaz falls back to Goodman below its minimum cell count."""
    used = interval
    reason = ""
    if interval == "sison-glaz":
        used = "sison-glaz" if len(categories) >= SISON_GLAZ_MIN_CELLS else "goodman"
        if used == "goodman":
            reason = (
                f" (sison-glaz asked; Sison-Glaz is valid only for >= {SISON_GLAZ_MIN_CELLS} categories, "
                "so Goodman used)"
            )
    bounds = multinomial_intervals(counts, confidence=confidence, method=used)
    trials = [total] * len(categories)
    note = f"{used} simultaneous multinomial {confidence:.0%} over {len(categories)} categories{reason}"
    return bounds, trials, note


def _bonferroni_wilson_bounds(
    counts: np.ndarray, trials: list[int], n_categories: int, confidence: float
) -> tuple[np.ndarray, str]:
    """Per-category Wilson intervals at a Bonferroni-adjusted level (option sets differ): ``(bounds, note)``."""
    level = 1.0 - (1.0 - confidence) / n_categories
    low, high = wilson_interval(counts, np.array(trials), confidence=level)
    bounds = np.column_stack([low, high])
    note = (
        f"option sets differ between trials: per-method Wilson intervals at {level:.4f} "
        f"(Bonferroni over {n_categories} categories for {confidence:.0%} simultaneous)"
    )
    return bounds, note
