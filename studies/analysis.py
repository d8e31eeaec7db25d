"""The full analysis of a responses table: exclusions, tallies, Bradley-Terry, mixed model, position bias,
agreement, power; and the files written by ``void-eval study analyze``.

Output files (``StudyAnalysis.write(out)``): ``pairwise.csv``, ``best_of.csv``, ``bradley_terry.csv``,
``mixed_model.csv``, ``position_bias.csv``, ``agreement.csv``, ``participants.csv`` (per-participant checks and
exclusion, pseudonymised), ``summary.json`` and the plots ``forest.png``, ``bt_ladder.png``,
``participants_heatmap.png``. Every table carries a leading ``question`` column: questions are analysed
separately, never pooled.

Small samples are never shown as confident: a Bradley-Terry interval is left out, with a note saying why, under
separation (a method never beaten: the gap is then set by the ridge prior) or with fewer than
:data:`MIN_BOOTSTRAP_PARTICIPANTS` participants; pairwise and best-of rows resting on fewer than
:data:`MIN_JUDGMENTS` judgments, or on few participants, carry a note. When exclusions leave no answer, the
tables are written empty, ``participants.csv`` says why each participant was dropped, and
:attr:`StudyAnalysis.analysed` is False.

Example
-------
>>> from studies.responses import read_responses
>>> from studies.simulate import fixture_path
>>> frame = read_responses(fixture_path("pairwise_4x20.csv"))
>>> result = analyze(frame, salt="demo", bootstrap=100)
>>> list(result.pairwise.columns)[1:6]
['method_a', 'method_b', 'n', 'wins_a', 'wins_b']
>>> result.bradley_terry.query("question == 'plausibility'").sort_values("rank").method.iloc[0]
'void'
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from studies.agreement import agreement_table
from studies.exclusions import apply_exclusions
from studies.intervals import wilson_interval
from studies.models import mixed_model_table
from studies.position import position_bias
from studies.power import judgments_for_margin, judgments_for_power
from studies.responses import (
    COPY_INPUT,
    RESPONSE_COLUMNS,
    TIE,
    ResponseValidationError,
    method_names,
    pseudonymise,
)
from studies.small_samples import MIN_BOOTSTRAP_PARTICIPANTS, MIN_JUDGMENTS, strength_table, with_count_notes
from studies.tallies import TIES_POLICY, best_of_table, pairwise_table


@dataclass
class StudyAnalysis:
    """Every table of one analysis plus the JSON summary (participants pseudonymised throughout)."""

    pairwise: pd.DataFrame
    best_of: pd.DataFrame
    bradley_terry: pd.DataFrame
    mixed_model: pd.DataFrame
    position_bias: pd.DataFrame
    agreement: pd.DataFrame
    participants: pd.DataFrame
    per_participant: pd.DataFrame
    summary: dict
    kept: pd.DataFrame = field(repr=False)

    @property
    def analysed(self) -> bool:
        """False when exclusions left no answer: the tables are empty, ``participants`` says why each was dropped."""
        return not self.kept.empty

    def write(self, out: str | Path, *, plots: bool = True) -> list[Path]:
        """Write every output into ``out`` (created); each file atomically. Returns the paths."""
        from void_eval.atomic import atomic_path, write_text_atomic

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        tables = {
            "pairwise.csv": self.pairwise,
            "best_of.csv": self.best_of,
            "bradley_terry.csv": self.bradley_terry,
            "mixed_model.csv": self.mixed_model,
            "position_bias.csv": self.position_bias,
            "agreement.csv": self.agreement,
            "participants.csv": self.participants,
            "per_participant.csv": self.per_participant,
        }
        for name, table in tables.items():
            with atomic_path(out / name) as temp:
                table.to_csv(temp, index=False, float_format="%.6g")
            written.append(out / name)
        written.append(write_text_atomic(out / "summary.json", json.dumps(_json_safe(self.summary), indent=2) + "\n"))
        if plots and self.analysed:
            from studies.plots import write_plots

            written.extend(write_plots(self, out))
        return written


def analyze(
    frame: pd.DataFrame,
    *,
    salt: str | None = None,
    methods: list[str] | None = None,
    confidence: float = 0.95,
    bootstrap: int = 1000,
    ridge: float = 0.01,
    seed: int = 0,
    min_rt_ms: float = 1000.0,
    max_fast_fraction: float = 0.5,
    max_copy_input_failures: int = 0,
    max_repeat_inconsistency: float = 1.0,
    multinomial: str = "goodman",
    mixed_model: bool = True,
) -> StudyAnalysis:
    """Analyse a validated responses frame (:func:`studies.responses.read_responses`).

    Parameters
    ----------
    frame : DataFrame with the responses columns (``options`` as tuples or ``a|b`` strings).
    salt : str, optional
        Salt of the participant pseudonyms; ``None`` draws a random one (pseudonyms then differ between runs).
        The salt is never written to any output.
    methods : list of str, optional
        Method order: orients pairs (``method_a`` is the earlier one) and sets the mixed model's reference (the
        first one present in a question's decided pairwise answers). Default: alphabetical.
    bootstrap : int >= 1
        Participant-bootstrap resamples for the Bradley-Terry intervals.
    multinomial : ``goodman`` or ``sison-glaz`` (used only for >= 7 categories; the note says what was used).
    Other options: see :func:`studies.exclusions.apply_exclusions`, :func:`studies.tallies.best_of_table` and
    :func:`studies.bradley_terry.fit_strengths`.
    """
    missing = [name for name in RESPONSE_COLUMNS if name not in frame.columns]
    if missing:
        raise ResponseValidationError(f"responses frame lacks column(s) {missing}")
    if not 0 < confidence < 1:
        raise ResponseValidationError(f"confidence must be in (0, 1), got {confidence}")
    if multinomial not in {"goodman", "sison-glaz"}:
        raise ResponseValidationError(f"multinomial must be 'goodman' or 'sison-glaz', got {multinomial!r}")
    if bootstrap < 1:
        raise ResponseValidationError(f"bootstrap must be >= 1, got {bootstrap}")
    data = frame.copy()
    data["options"] = data["options"].map(lambda o: tuple(o.split("|")) if isinstance(o, str) else tuple(o))
    salt_given = salt is not None
    salt = salt if salt is not None else secrets.token_hex(16)
    codes = {code: pseudonymise(str(code), salt=salt) for code in dict.fromkeys(data["participant"])}
    data["participant"] = data["participant"].map(codes)
    seen = [m for m in method_names(data) if m != COPY_INPUT]
    if methods is None:
        methods = sorted(seen)
    else:
        methods = list(methods)
        unknown = [m for m in seen if m not in methods]
        if unknown:
            raise ResponseValidationError(f"responses show methods not in the given order: {unknown}")
    kept, participants, counts = apply_exclusions(
        data,
        min_rt_ms=min_rt_ms,
        max_fast_fraction=max_fast_fraction,
        max_copy_input_failures=max_copy_input_failures,
        max_repeat_inconsistency=max_repeat_inconsistency,
    )
    stray = kept["options"].map(lambda options: COPY_INPUT in options).astype(bool)
    if stray.any():
        counts["copy_input_outside_checks_dropped"] = int(stray.sum())
        kept = kept[~stray].reset_index(drop=True)
    pairwise = with_count_notes(pairwise_table(kept, methods, confidence=confidence), kept, "pairwise")
    best_of, best_notes = best_of_table(kept, methods, confidence=confidence, interval=multinomial)
    best_of = with_count_notes(best_of, kept, "best_of")
    bradley_terry = strength_table(kept, methods, bootstrap=bootstrap, confidence=confidence, ridge=ridge, seed=seed)
    if mixed_model:
        model = mixed_model_table(kept, methods, confidence=confidence)
    else:
        model = pd.DataFrame(
            columns=["question", "term", "kind", "estimate", "posterior_sd", "ci_low", "ci_high", "n", "note"]
        )
    position = position_bias(kept, confidence=confidence)
    agreement = agreement_table(kept)
    per_participant = per_participant_table(kept, methods)
    summary = _summary(
        kept,
        methods,
        counts,
        pairwise,
        best_of,
        best_notes,
        bradley_terry,
        model,
        position,
        agreement,
        confidence=confidence,
        bootstrap=bootstrap,
        ridge=ridge,
        seed=seed,
        multinomial=multinomial,
        salt_given=salt_given,
    )
    return StudyAnalysis(
        pairwise, best_of, bradley_terry, model, position, agreement, participants, per_participant, summary, kept
    )


def per_participant_table(kept: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Per question, participant and method: times shown, times chosen and the choice rate (heatmap data)."""
    rows = []
    for (question, participant), own in kept.groupby(["question", "participant"], sort=False):
        for method in methods:
            shown = int(own["options"].map(lambda options, m=method: m in options).sum())
            if not shown:
                continue
            chosen = int((own["choice"] == method).sum())
            decided_shown = int(
                (own["options"].map(lambda options, m=method: m in options) & (own["choice"] != TIE)).sum()
            )
            rows.append(
                {
                    "question": question,
                    "participant": participant,
                    "method": method,
                    "shown": shown,
                    "chosen": chosen,
                    "choice_rate": chosen / decided_shown if decided_shown else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=["question", "participant", "method", "shown", "chosen", "choice_rate"])


def _summary(
    kept,
    methods,
    counts,
    pairwise,
    best_of,
    best_notes,
    bradley_terry,
    model,
    position,
    agreement,
    *,
    confidence,
    bootstrap,
    ridge,
    seed,
    multinomial,
    salt_given,
) -> dict:
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
            top = best[best["method"] != TIE].sort_values("share", ascending=False).iloc[0]
            entry["best_of"] = {
                "top_method": top["method"],
                "share": float(top["share"]),
                "chosen": int(top["chosen"]),
                "trials": int(top["trials"]),
                "simultaneous_ci": [float(top["ci_low"]), float(top["ci_high"])],
                "interval": best_notes[question],
                "chance_share": 1.0 / own["options"].map(len).max(),
                "participant_bootstrap_ci": _share_bootstrap(own, top["method"], confidence, bootstrap, seed),
            }
        pairs = pairwise[pairwise["question"] == question]
        if len(pairs):
            entry["pairs"] = len(pairs)
            entry["pairs_significant_holm_0.05"] = int((pairs["p_holm"] < 0.05).sum())
            entry["median_decided_per_pair"] = float((pairs["wins_a"] + pairs["wins_b"]).median())
        terms = model[(model["question"] == question) & (model["term"] == "position[left]")]
        if len(terms):
            entry["mixed_model_position_log_odds"] = float(terms["estimate"].iloc[0])
        pos = position[position["question"] == question]
        entry["position_bias"] = [
            {"kind": row.kind, "n": int(row.n), "left_share": float(row.left_share), "p_value": float(row.p_value)}
            for row in pos.itertuples()
        ]
        agree = agreement[agreement["question"] == question]
        entry["agreement"] = [
            {
                k: (float(v) if isinstance(v, float | np.floating) else v)
                for k, v in row._asdict().items()
                if k not in {"Index", "question"}
            }
            for row in agree.itertuples()
        ]
        per_question[question] = entry
    decided = pairwise["wins_a"] + pairwise["wins_b"] if len(pairwise) else pd.Series(dtype=float)
    power_note = {}
    if len(decided):
        typical = int(decided.median())
        low, high = wilson_interval(round(typical / 2), typical, confidence=confidence) if typical else (np.nan, np.nan)
        power_note = {
            "median_decided_judgments_per_pair": typical,
            "wilson_half_width_at_50pct": float((high - low) / 2) if typical else float("nan"),
            "judgments_for_margin_0.05": judgments_for_margin(0.05),
            "judgments_for_margin_0.10": judgments_for_margin(0.10),
            "judgments_for_80pct_power_at_60pct_win_rate_holm_safe": judgments_for_power(
                0.6, pairs=max(1, int(pairwise.groupby("question").size().max()))
            ),
        }
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
        "power": power_note,
        "per_question": per_question,
    }


def _share_bootstrap(own: pd.DataFrame, method: str, confidence: float, resamples: int, seed: int) -> list[float]:
    """Percentile interval of a best-of share when whole participants are resampled (clustered judgments)."""
    many = own[own["options"].map(len) > 2]
    grouped = many.assign(hit=many["choice"] == method).groupby("participant")["hit"].agg(["sum", "count"])
    hits, totals = grouped["sum"].to_numpy(float), grouped["count"].to_numpy(float)
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(hits), np.full(len(hits), 1.0 / len(hits)), size=resamples)
    shares = (weights @ hits) / (weights @ totals)
    tail = (1 - confidence) / 2
    return [float(v) for v in np.quantile(shares, [tail, 1 - tail])]


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.bool_):
        return bool(value)
    return value
