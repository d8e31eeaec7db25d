"""Simulated studies with known truth: responses drawn from a Luce / Bradley-Terry model over a design.

Used by the validity tests (recover a known ranking, interval coverage) and to generate the shipped fixtures
(:func:`write_fixtures`). Every draw comes from ``numpy.random.default_rng(seed)``.

Model of one answer by an attentive participant: option ``m`` in screen slot ``s`` is chosen with probability
``softmax(theta_m + u_pm + position_bias * [s == 0])`` (``u_pm ~ N(0, participant_sd)`` fixed per participant
and method), or ``tie`` with probability ``tie_rate``. An inattentive participant (share ``inattentive_rate``)
picks a slot uniformly at random and answers fast. The copy-input option gets strength ``copy_input_strength``.

Example
-------
>>> from studies.design import make_design
>>> design = make_design(["a", "b"], ["c1"], participants=4, seed=0)
>>> frame = simulate_responses(design, {"a": 1.0, "b": 0.0}, seed=0)
>>> list(frame.columns)
['participant', 'trial', 'clip', 'question', 'options', 'choice', 'rt_ms', 'attention']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from studies.design import StudyDesign, make_design
from studies.responses import COPY_INPUT, RESPONSE_COLUMNS, TIE


def simulate_responses(
    design: StudyDesign,
    strengths: dict[str, float],
    *,
    seed: int = 0,
    tie_rate: float = 0.0,
    position_bias: float = 0.0,
    participant_sd: float = 0.0,
    inattentive_rate: float = 0.0,
    copy_input_strength: float = -4.0,
    median_rt_ms: float = 6000.0,
) -> pd.DataFrame:
    """Draw one answer per (trial, question) of ``design``; returns a responses frame (``options`` as tuples).

    Parameters
    ----------
    strengths : dict method -> log-strength (natural-log Bradley-Terry scale); must cover every method.
    tie_rate : float in [0, 1)
    position_bias : float
        Log-odds bonus of the leftmost option (screen slot 0).
    participant_sd : float >= 0
        SD of per-participant deviations from ``strengths``.
    inattentive_rate : float in [0, 1]
        Expected share of participants who answer at random and fast (should fail the attention checks).
    """
    missing = [m for m in design.methods if m not in strengths]
    if missing:
        raise ValueError(f"strengths missing for {missing}")
    if not 0 <= tie_rate < 1 or not 0 <= inattentive_rate <= 1 or participant_sd < 0:
        raise ValueError("tie_rate in [0, 1), inattentive_rate in [0, 1], participant_sd >= 0")
    rng = np.random.default_rng(seed)
    theta = dict(strengths)
    theta[COPY_INPUT] = copy_input_strength
    names = [*design.methods, COPY_INPUT]
    deviations = {
        p: dict(zip(names, rng.normal(0, participant_sd, len(names)), strict=True)) for p in design.participants
    }
    for p in design.participants:
        deviations[p][COPY_INPUT] = 0.0
    inattentive = {p: bool(rng.random() < inattentive_rate) for p in design.participants}
    rows = []
    for trial in design.trials:
        elapsed = 0.0
        for question in design.questions:
            careless = inattentive[trial.participant]
            if careless:
                probabilities = np.full(len(trial.options), 1.0 / len(trial.options))
                elapsed += rng.lognormal(np.log(700.0), 0.3)
            else:
                utility = np.array([theta[m] + deviations[trial.participant][m] for m in trial.options])
                utility[0] += position_bias
                probabilities = np.exp(utility - utility.max())
                probabilities /= probabilities.sum()
                elapsed += rng.lognormal(np.log(median_rt_ms), 0.35) if elapsed == 0 else rng.lognormal(7.3, 0.4)
            if not careless and rng.random() < tie_rate:
                choice = TIE
            else:
                choice = trial.options[int(rng.choice(len(trial.options), p=probabilities))]
            rows.append(
                {
                    "participant": trial.participant,
                    "trial": trial.trial,
                    "clip": trial.clip,
                    "question": question,
                    "options": trial.options,
                    "choice": choice,
                    "rt_ms": float(round(elapsed)),
                    "attention": trial.attention,
                }
            )
    return pd.DataFrame(rows, columns=list(RESPONSE_COLUMNS))


#: Truth of the shipped best-of-7 fixture (the press claim's shape: 7 methods, 25 participants).
BEST_OF_TRUTH = {
    "void": 2.6,
    "minimax-remover": 0.9,
    "diffueraser": 0.6,
    "propainter": 0.5,
    "rose": 0.3,
    "e2fgvi": 0.0,
    "telea": -1.5,
}
#: Truth of the shipped pairwise fixture.
PAIRWISE_TRUTH = {"void": 0.8, "minimax-remover": 0.4, "propainter": 0.0, "telea": -1.2}


def fixture_studies() -> dict[str, tuple[StudyDesign, pd.DataFrame, dict]]:
    """The two shipped fixture studies, regenerated from their seeds: name -> (design, responses, truth)."""
    best_design = make_design(
        list(BEST_OF_TRUTH),
        [f"clip{index:02d}" for index in range(1, 9)],
        participants=25,
        mode="best-of-n",
        questions="plausibility,artifacts",
        seed=648,
    )
    best_settings = {
        "seed": 648,
        "tie_rate": 0.03,
        "position_bias": 0.15,
        "participant_sd": 0.4,
        "inattentive_rate": 0.08,
    }
    best = simulate_responses(best_design, BEST_OF_TRUTH, **best_settings)
    pair_design = make_design(
        list(PAIRWISE_TRUTH),
        [f"clip{index:02d}" for index in range(1, 7)],
        participants=20,
        mode="pairwise",
        questions="plausibility,artifacts",
        rounds=2,
        seed=2024,
    )
    pair_settings = {
        "seed": 2024,
        "tie_rate": 0.06,
        "position_bias": 0.25,
        "participant_sd": 0.3,
        "inattentive_rate": 0.1,
    }
    pair = simulate_responses(pair_design, PAIRWISE_TRUTH, **pair_settings)
    return {
        "best_of_7x25": (best_design, best, {"strengths": BEST_OF_TRUTH, **best_settings}),
        "pairwise_4x20": (pair_design, pair, {"strengths": PAIRWISE_TRUTH, **pair_settings}),
    }


def write_fixtures(folder: str | Path) -> list[Path]:
    """Write ``<name>.csv`` (responses), ``<name>.design.json`` and ``<name>.truth.json`` for each fixture."""
    from studies.design import design_to_json_text
    from studies.responses import format_responses
    from void_eval.atomic import write_text_atomic

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (design, frame, truth) in fixture_studies().items():
        written.append(write_text_atomic(folder / f"{name}.csv", format_responses(frame)))
        written.append(write_text_atomic(folder / f"{name}.design.json", design_to_json_text(design) + "\n"))
        written.append(write_text_atomic(folder / f"{name}.truth.json", json.dumps(truth, indent=2) + "\n"))
    return written


def fixture_path(name: str) -> Path:
    """Path of a shipped fixture file in ``studies/fixtures`` (e.g. ``best_of_7x25.csv``)."""
    path = Path(__file__).with_name("fixtures") / name
    if not path.exists():
        from void_eval.errors import InputError

        raise InputError(path, "fixture not found (regenerate with studies.simulate.write_fixtures)")
    return path
