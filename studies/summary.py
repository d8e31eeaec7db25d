"""The ``summary.json`` document of an analysis: settings and method notes, the power note and each question's
headline numbers (ranking, top best-of share with a participant-bootstrap interval, pairs, position bias,
agreement). Built by :func:`summary_document` from the tables of :func:`studies.analysis.analyze`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studies.intervals import wilson_interval
from studies.power import judgments_for_margin, judgments_for_power
from studies.responses import TIE
from studies.small_samples import MIN_BOOTSTRAP_PARTICIPANTS, MIN_JUDGMENTS
from studies.tallies import TIES_POLICY


def summary_document(
    kept: pd.DataFrame,
    methods: list[str],
    counts: dict,
    pairwise: pd.DataFrame,
    best_of: pd.DataFrame,
    best_notes: dict[str, str],
    bradley_terry: pd.DataFrame,
    model: pd.DataFrame,
    position: pd.DataFrame,
    agreement: pd.DataFrame,
    *,
    confidence: float,
    bootstrap: int,
    ridge: float,
    seed: int,
    multinomial: str,
    salt_given: bool,
) -> dict:
    """The ``summary.json`` content (key order as written).

    Parameters
    ----------
    kept : DataFrame
        The analysed answers (after exclusions).
    methods : list of str
        The method order of the analysis.
    counts : dict
        Exclusion counts (:func:`studies.exclusions.apply_exclusions`).
    pairwise, best_of, bradley_terry, model, position, agreement : DataFrame
        The analysis tables; ``best_notes`` is the interval used per question for ``best_of``.
    confidence, bootstrap, ridge, seed, multinomial : settings of the analysis, recorded in the notes.
    salt_given : bool
        Whether the pseudonym salt was given by the user (else random for this run).

    Returns
    -------
    dict
        Settings, notes, ``power`` and ``per_question`` entries.
    """
    questions = list(dict.fromkeys(kept["question"]))
    per_question = {}
    for question in questions:
        own = kept[kept["question"] == question]
        entry: dict = {"answers": len(own), "ties": int((own["choice"] == TIE).sum())}
        bt = bradley_terry[bradley_terry["question"] == question].sort_values("rank")
        entry["ranking"] = bt["method"].tolist()
        entry["top"] = bt["method"].iloc[0] if len(bt) else None
        entry["bradley_terry_note"] = bt["note"].iloc[0] if len(bt) else ""
        best = best_of[best_of["question"] == question]
        if len(best):
            entry["best_of"] = _best_of_entry(own, best, best_notes, question, confidence, bootstrap, seed)
        entry.update(_pairs_entry(pairwise[pairwise["question"] == question]))
        terms = model[(model["question"] == question) & (model["term"] == "position[left]")]
        if len(terms):
            entry["mixed_model_position_log_odds"] = float(terms["estimate"].iloc[0])
        entry["position_bias"] = _position_entries(position[position["question"] == question])
        entry["agreement"] = _agreement_entries(agreement[agreement["question"] == question])
        per_question[question] = entry
    power_note = _power_note(pairwise, confidence)
    return {
        "methods": methods,
        "questions": questions,
        "confidence": confidence,
        "ties_policy": TIES_POLICY,
        "exclusions": counts,
        "nothing_analysed": "" if len(kept) else "no answers left after exclusions (see participants.csv)",
        "small_samples": {
            "min_bootstrap_participants": MIN_BOOTSTRAP_PARTICIPANTS,
            "min_judgments": MIN_JUDGMENTS,
            "rule": "Bradley-Terry intervals are left out (note says why) under separation or with fewer "
            "participants; pairwise and best-of rows with fewer judgments or participants carry a note",
        },
        "pseudonymisation": "participant ids replaced by p-<first 12 hex of HMAC-SHA256(salt, id)>; salt "
        + ("given by the user" if salt_given else "random for this run (pseudonyms not linkable across runs)")
        + "; the salt is not stored",
        **_method_notes(
            confidence=confidence,
            bootstrap=bootstrap,
            ridge=ridge,
            seed=seed,
            multinomial=multinomial,
            best_notes=best_notes,
        ),
        "power": power_note,
        "per_question": per_question,
    }


def _best_of_entry(
    own: pd.DataFrame,
    best: pd.DataFrame,
    best_notes: dict[str, str],
    question: str,
    confidence: float,
    bootstrap: int,
    seed: int,
) -> dict:
    """The top best-of method of one question: share, simultaneous and participant-bootstrap intervals."""
    top = best[best["method"] != TIE].sort_values("share", ascending=False).iloc[0]
    return {
        "top_method": top["method"],
        "share": float(top["share"]),
        "chosen": int(top["chosen"]),
        "trials": int(top["trials"]),
        "simultaneous_ci": [float(top["ci_low"]), float(top["ci_high"])],
        "interval": best_notes[question],
        "chance_share": 1.0 / own["options"].map(len).max(),
        "participant_bootstrap_ci": _share_bootstrap(own, top["method"], confidence, bootstrap, seed),
    }


def _pairs_entry(pairs: pd.DataFrame) -> dict:
    """Pair count, Holm-significant pairs and median decided judgments of one question (empty without pairs)."""
    if not len(pairs):
        return {}
    return {
        "pairs": len(pairs),
        "pairs_significant_holm_0.05": int((pairs["p_holm"] < 0.05).sum()),
        "median_decided_per_pair": float((pairs["wins_a"] + pairs["wins_b"]).median()),
    }


def _position_entries(pos: pd.DataFrame) -> list[dict]:
    """One question's position-bias rows, reduced to kind, n, left share and p-value."""
    return [
        {"kind": row.kind, "n": int(row.n), "left_share": float(row.left_share), "p_value": float(row.p_value)}
        for row in pos.itertuples()
    ]


def _agreement_entries(agree: pd.DataFrame) -> list[dict]:
    """One question's agreement rows as plain dicts (floats as Python floats, no question column)."""
    return [
        {
            k: (float(v) if isinstance(v, float | np.floating) else v)
            for k, v in row._asdict().items()
            if k not in {"Index", "question"}
        }
        for row in agree.itertuples()
    ]


def _power_note(pairwise: pd.DataFrame, confidence: float) -> dict:
    """Typical decided judgments per pair, the margin they give, and the judgments other targets need."""
    decided = pairwise["wins_a"] + pairwise["wins_b"] if len(pairwise) else pd.Series(dtype=float)
    if not len(decided):
        return {}
    typical = int(decided.median())
    low, high = wilson_interval(round(typical / 2), typical, confidence=confidence) if typical else (np.nan, np.nan)
    return {
        "median_decided_judgments_per_pair": typical,
        "wilson_half_width_at_50pct": float((high - low) / 2) if typical else float("nan"),
        "judgments_for_margin_0.05": judgments_for_margin(0.05),
        "judgments_for_margin_0.10": judgments_for_margin(0.10),
        "judgments_for_80pct_power_at_60pct_win_rate_holm_safe": judgments_for_power(
            0.6, pairs=max(1, int(pairwise.groupby("question").size().max()))
        ),
    }


def _method_notes(
    *, confidence: float, bootstrap: int, ridge: float, seed: int, multinomial: str, best_notes: dict[str, str]
) -> dict:
    """How each table was computed: the ``bradley_terry``, ``pairwise``, ``best_of`` and ``mixed_model`` notes."""
    return {
        "bradley_terry": {
            "scale": "natural-log strength, mean 0; P(i beats j) = 1 / (1 + exp(-(s_i - s_j))); x 400/ln10 for Elo",
            "model": "Luce choice (Bradley-Terry for pairs) fitted to pairwise and best-of-N answers together",
            "ridge": ridge,
            "bootstrap_resamples": bootstrap,
            "bootstrap_unit": "participant",
            "seed": seed,
            "interval": "percentile",
        },
        "pairwise": {
            "interval": f"Wilson {confidence:.0%} on decided judgments",
            "test": "exact two-sided binomial against 0.5 on decided judgments (scipy.stats.binomtest)",
            "multiple_comparisons": "Holm over the pairs of each question",
        },
        "best_of": {"interval": multinomial, "notes": best_notes},
        "mixed_model": {
            "fit": "statsmodels BinomialBayesMixedGLM.fit_vb: variational Bayes (mean-field Gaussian posterior), "
            "not maximum likelihood",
            "formula": "logit P(a chosen) = beta_a - beta_b + gamma * position(+1 a left / -1 right) "
            "+ u_participant + v_clip",
            "reference_method": "per question: the first method of `methods` present in its decided pairwise "
            "answers (named in the strength rows' notes)",
            "applies_to": "decided 2-option answers",
        },
    }


def _share_bootstrap(own: pd.DataFrame, method: str, confidence: float, resamples: int, seed: int) -> list[float]:
    """Percentile interval of a best-of share when whole participants are resampled (clustered judgments).

    Participants are taken in order of first appearance, not of their (salted) pseudonyms, so the interval does not
    change with the salt."""
    many = own[own["options"].map(len) > 2]
    grouped = many.assign(hit=many["choice"] == method).groupby("participant", sort=False)["hit"].agg(["sum", "count"])
    hits, totals = grouped["sum"].to_numpy(float), grouped["count"].to_numpy(float)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(hits), np.full(len(hits), 1.0 / len(hits)), size=resamples)
    shares = (weights @ hits) / (weights @ totals)
    tail = (1 - confidence) / 2
    return [float(v) for v in np.quantile(shares, [tail, 1 - tail])]
