"""The full analysis of a responses table: exclusions, tallies, Bradley-Terry, mixed model, position bias,
agreement, power; and the files written by ``void-eval study analyze``.

Output files (``StudyAnalysis.write(out)``): ``pairwise.csv``, ``best_of.csv``, ``bradley_terry.csv``,
``mixed_model.csv``, ``position_bias.csv``, ``agreement.csv``, ``participants.csv`` (per-participant checks and
exclusion, pseudonymised), ``summary.json`` and the plots ``forest.png``, ``bt_ladder.png``,
``participants_heatmap.png``. Every table carries a leading ``question`` column: questions are analysed
separately, never pooled.

Small samples are never shown as confident: a Bradley-Terry interval is left out, with a note saying why, under
separation (a method never beaten: the gap is then set by the ridge prior) or with fewer than
:data:`~studies.small_samples.MIN_BOOTSTRAP_PARTICIPANTS` participants; pairwise and best-of rows resting on
fewer than :data:`~studies.small_samples.MIN_JUDGMENTS` judgments, or on few participants, carry a note. When
exclusions leave no answer, the tables are written empty, ``participants.csv`` says why each participant was
dropped, and :attr:`StudyAnalysis.analysed` is False.

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
from studies.models import MODEL_COLUMNS, mixed_model_table
from studies.position import position_bias
from studies.responses import (
    COPY_INPUT,
    RESPONSE_COLUMNS,
    TIE,
    ResponseValidationError,
    method_names,
    pseudonymise,
)
from studies.small_samples import strength_table, with_count_notes
from studies.summary import summary_document
from studies.tallies import best_of_table, pairwise_table


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
    _check_settings(frame, confidence=confidence, multinomial=multinomial, bootstrap=bootstrap)
    data = frame.copy()
    data["options"] = data["options"].map(lambda o: tuple(o.split("|")) if isinstance(o, str) else tuple(o))
    salt_given = salt is not None
    salt = salt if salt is not None else secrets.token_hex(16)
    codes = {code: pseudonymise(str(code), salt=salt) for code in dict.fromkeys(data["participant"])}
    data["participant"] = data["participant"].map(codes)
    methods = _method_order(data, methods)
    kept, participants, counts = apply_exclusions(
        data,
        min_rt_ms=min_rt_ms,
        max_fast_fraction=max_fast_fraction,
        max_copy_input_failures=max_copy_input_failures,
        max_repeat_inconsistency=max_repeat_inconsistency,
    )
    kept = _drop_stray_copy_input(kept, counts)
    pairwise = with_count_notes(pairwise_table(kept, methods, confidence=confidence), kept, "pairwise")
    best_of, best_notes = best_of_table(kept, methods, confidence=confidence, interval=multinomial)
    best_of = with_count_notes(best_of, kept, "best_of")
    bradley_terry = strength_table(kept, methods, bootstrap=bootstrap, confidence=confidence, ridge=ridge, seed=seed)
    model = _model_table(kept, methods, confidence=confidence, mixed_model=mixed_model, seed=seed)
    position = position_bias(kept, confidence=confidence)
    agreement = agreement_table(kept)
    per_participant = per_participant_table(kept, methods)
    summary = summary_document(
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


def _check_settings(frame: pd.DataFrame, *, confidence: float, multinomial: str, bootstrap: int) -> None:
    """Refuse a frame without the responses columns and out-of-range settings (ResponseValidationError)."""
    missing = [name for name in RESPONSE_COLUMNS if name not in frame.columns]
    if missing:
        raise ResponseValidationError(f"responses frame lacks column(s) {missing}")
    if not 0 < confidence < 1:
        raise ResponseValidationError(f"confidence must be in (0, 1), got {confidence}")
    if multinomial not in {"goodman", "sison-glaz"}:
        raise ResponseValidationError(f"multinomial must be 'goodman' or 'sison-glaz', got {multinomial!r}")
    if bootstrap < 1:
        raise ResponseValidationError(f"bootstrap must be >= 1, got {bootstrap}")


def _method_order(data: pd.DataFrame, methods: list[str] | None) -> list[str]:
    """The given method order (which must cover every method shown), or the shown methods alphabetically."""
    seen = [m for m in method_names(data) if m != COPY_INPUT]
    if methods is None:
        return sorted(seen)
    methods = list(methods)
    unknown = [m for m in seen if m not in methods]
    if unknown:
        raise ResponseValidationError(f"responses show methods not in the given order: {unknown}")
    return methods


def _drop_stray_copy_input(kept: pd.DataFrame, counts: dict) -> pd.DataFrame:
    """Drop main answers that show ``copy-input`` outside the checks, counting them in ``counts``."""
    stray = kept["options"].map(lambda options: COPY_INPUT in options).astype(bool)
    if stray.any():
        counts["copy_input_outside_checks_dropped"] = int(stray.sum())
        kept = kept[~stray].reset_index(drop=True)
    return kept


def _model_table(
    kept: pd.DataFrame, methods: list[str], *, confidence: float, mixed_model: bool, seed: int
) -> pd.DataFrame:
    """The mixed-model table (its fit seeded by ``seed``), or an empty one with its columns when it is off."""
    if mixed_model:
        return mixed_model_table(kept, methods, confidence=confidence, seed=seed)
    return pd.DataFrame(columns=list(MODEL_COLUMNS))


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
