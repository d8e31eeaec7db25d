"""Mixed-effects logistic model of pairwise answers: Bradley-Terry fixed effects, a left/right position term,
and crossed random intercepts for participant and clip.

For each decided pairwise answer (ties dropped) the pair is oriented by the method order (``a`` = earlier
method) and ``y = 1`` when ``a`` was chosen::

    logit P(y = 1) = (beta_a - beta_b) + gamma * position + u_participant + v_clip

``position`` is +1 when ``a`` was on the left and -1 when on the right, so ``gamma`` is the log-odds bonus of the
left option; ``beta`` of the reference method is fixed at 0: the first method of ``methods`` that appears in
the question's decided pairwise answers (named in each strength row's note); ``u ~ N(0, s_p^2)`` and ``v ~ N(0, s_c^2)``
are participant and clip deviations in favour of the earlier-listed method (list the focal method first for the
classic "ours vs baselines" model).

It is fitted with statsmodels' ``BinomialBayesMixedGLM.fit_vb``: **variational Bayes** (a mean-field Gaussian
approximation to the posterior under statsmodels' default priors: fixed effects N(0, 2^2), log-SDs
N(0, 1)), not maximum likelihood; the reported intervals are +-z posterior sd of that approximation,
and the random-intercept sizes are posterior SDs (``exp`` of the log-SD parameter). The optimiser starts from
random log-SDs drawn from ``seed``, so the same answers always give the same table.

Example
-------
>>> from studies.design import make_design
>>> from studies.simulate import simulate_responses
>>> design = make_design(["a", "b", "c"], ["k1", "k2"], participants=12, rounds=3, seed=0)
>>> frame = simulate_responses(design, {"a": 1.0, "b": 0.0, "c": -1.0}, seed=0)
>>> table = mixed_model_table(frame[~frame.attention], ["a", "b", "c"])
>>> bool(table[table.term == "strength[c]"]["estimate"].iloc[0] < 0)
True
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from studies.responses import TIE

if TYPE_CHECKING:
    from statsmodels.genmod.bayes_mixed_glm import BayesMixedGLMResults, BinomialBayesMixedGLM

#: Added to every row's note when statsmodels reports that the variational fit did not converge.
NOT_CONVERGED = "the variational fit did not converge: estimates unreliable"

MODEL_COLUMNS = ("question", "term", "kind", "estimate", "posterior_sd", "ci_low", "ci_high", "n", "note")


def pairwise_design_matrix(frame: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    """Model frame of decided 2-option answers: ``y, position, s1..s{M-1}, participant, clip``.

    Participants are renamed ``p00001, p00002, ...`` in order of first appearance: their pseudonyms change with
    the salt, and the fit's starting point is drawn level by level in sorted order.
    """
    order = {name: position for position, name in enumerate(methods)}
    codes: dict[str, str] = {}
    rows = []
    for row in frame.itertuples(index=False):
        options = tuple(row.options)
        if len(options) != 2 or row.choice == TIE or any(option not in order for option in options):
            continue
        a, b = sorted(options, key=order.__getitem__)
        record = {
            "y": float(row.choice == a),
            "position": 1.0 if options[0] == a else -1.0,
            "participant": codes.setdefault(str(row.participant), f"p{len(codes) + 1:05d}"),
            "clip": str(row.clip),
        }
        for index in range(1, len(methods)):
            name = methods[index]
            record[f"s{index}"] = 1.0 if name == a else -1.0 if name == b else 0.0
        rows.append(record)
    return pd.DataFrame(rows)


def mixed_model_table(
    frame: pd.DataFrame,
    methods: list[str],
    *,
    confidence: float = 0.95,
    question: str | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Fit the model (per question when ``question`` is None) and return its parameter table.

    ``seed`` seeds the optimiser's random starting point (statsmodels draws it from fresh OS entropy otherwise).
    """
    questions = [question] if question is not None else list(dict.fromkeys(frame["question"]))
    tables = [_fit_one(frame[frame["question"] == q], methods, q, confidence, seed) for q in questions]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=list(MODEL_COLUMNS))


def _nan_row(question: str, note: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "question": question,
                "term": "model",
                "kind": "none",
                "estimate": np.nan,
                "posterior_sd": np.nan,
                "ci_low": np.nan,
                "ci_high": np.nan,
                "n": 0,
                "note": note,
            }
        ],
        columns=list(MODEL_COLUMNS),
    )


def _fit_one(frame: pd.DataFrame, methods: list[str], question: str, confidence: float, seed: int) -> pd.DataFrame:
    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    decided = frame[(frame["options"].map(len) == 2) & (frame["choice"] != TIE)]
    shown = {option for options in decided["options"] for option in options}
    methods = [method for method in methods if method in shown]  # reference = first method present
    data = pairwise_design_matrix(frame, methods)
    if data.empty:
        return _nan_row(question, "no decided pairwise answers (model applies to 2-option trials)")
    present = [index for index in range(1, len(methods)) if data[f"s{index}"].abs().sum() > 0]
    if len(data) < 10:
        return _nan_row(question, f"only {len(data)} decided pairwise answers")
    if data["y"].nunique() < 2:
        return _nan_row(question, "separation: every decided answer chose the same side of its pair")
    terms = ["position"] + [f"s{index}" for index in present]
    formula = "y ~ 0 + " + " + ".join(terms)
    components = {}
    if data["participant"].nunique() > 1:
        components["participant"] = "0 + C(participant)"
    if data["clip"].nunique() > 1:
        components["clip"] = "0 + C(clip)"
    model = BinomialBayesMixedGLM.from_formula(formula, components, data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit_vb(rng=np.random.default_rng(seed))
    rows = _parameter_rows(model, result, methods, present, question, len(data), confidence)
    if any(issubclass(item.category, ConvergenceWarning) for item in caught):
        for row in rows:
            row["note"] += f"; {NOT_CONVERGED}"
    return pd.DataFrame(rows, columns=list(MODEL_COLUMNS))


def _parameter_rows(
    model: BinomialBayesMixedGLM,
    result: BayesMixedGLMResults,
    methods: list[str],
    present: list[int],
    question: str,
    n: int,
    confidence: float,
) -> list[dict]:
    """Rows of the fitted fixed effects (position and strengths) and random-intercept SDs, with +-z sd intervals."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows = []
    names = {"position": "position[left]", **{f"s{index}": f"strength[{methods[index]}]" for index in present}}
    for name, mean, sd in zip(model.exog_names, result.fe_mean, result.fe_sd, strict=True):
        rows.append(
            {
                "question": question,
                "term": names[name],
                "kind": "fixed (log-odds)",
                "estimate": float(mean),
                "posterior_sd": float(sd),
                "ci_low": float(mean - z * sd),
                "ci_high": float(mean + z * sd),
                "n": n,
                "note": (
                    f"relative to {methods[0]} (0)" if name != "position" else "log-odds bonus of the left option"
                ),
            }
        )
    for name, mean, sd in zip(model.vcp_names, result.vcp_mean, result.vcp_sd, strict=True):
        rows.append(
            {
                "question": question,
                "term": f"sd[{name}]",
                "kind": "random-intercept SD (log-odds)",
                "estimate": float(np.exp(mean)),
                "posterior_sd": float(sd),
                "ci_low": float(np.exp(mean - z * sd)),
                "ci_high": float(np.exp(mean + z * sd)),
                "n": n,
                "note": "posterior_sd is on the log-SD scale",
            }
        )
    return rows
