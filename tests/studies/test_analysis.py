"""End-to-end analysis: output files and columns, pseudonyms, mixed model, position bias, agreement, power,
and the shipped fixtures."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import fleiss_kappa

from studies.agreement import agreement_from_table
from studies.analysis import analyze
from studies.design import make_design
from studies.models import mixed_model_table
from studies.position import position_bias
from studies.power import binomial_power, judgments_for_margin, judgments_for_power
from studies.responses import format_responses, read_responses
from studies.simulate import fixture_path, fixture_studies, simulate_responses

EXPECTED_COLUMNS = {
    "pairwise.csv": [
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
        "participants",
        "note",
    ],
    "best_of.csv": ["question", "method", "trials", "chosen", "share", "ci_low", "ci_high", "participants", "note"],
    "bradley_terry.csv": ["question", "method", "strength", "ci_low", "ci_high", "rank", "participants", "note"],
}


@pytest.fixture(scope="module")
def best_of_result():
    return analyze(read_responses(fixture_path("best_of_7x25.csv")), salt="test", bootstrap=300)


def test_outputs_on_the_best_of_fixture(best_of_result, tmp_path):
    paths = best_of_result.write(tmp_path)
    names = {p.name for p in paths}
    assert {
        "pairwise.csv",
        "best_of.csv",
        "bradley_terry.csv",
        "summary.json",
        "forest.png",
        "bt_ladder.png",
        "participants_heatmap.png",
        "mixed_model.csv",
        "position_bias.csv",
        "agreement.csv",
    } <= names
    for name, columns in EXPECTED_COLUMNS.items():
        assert list(pd.read_csv(tmp_path / name).columns) == columns
    best = pd.read_csv(tmp_path / "best_of.csv")
    for _, own in best.groupby("question"):
        assert own.chosen.sum() == own.trials.iloc[0]  # methods + tie partition the trials
        assert own.share.sum() == pytest.approx(1.0)
        assert (own.ci_low <= own.share).all() and (own.share <= own.ci_high).all()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["ties_policy"] and "variational Bayes" in summary["mixed_model"]["fit"]
    for question in ("plausibility", "artifacts"):
        entry = summary["per_question"][question]
        assert entry["top"] == "void" and entry["best_of"]["top_method"] == "void"
        low, high = entry["best_of"]["participant_bootstrap_ci"]
        assert low < entry["best_of"]["share"] < high
    # no participant code reaches any output
    for path in tmp_path.iterdir():
        if path.suffix in {".csv", ".json"}:
            text = path.read_text()
            assert "P01" not in text and "P25" not in text, path.name
    assert all(p.startswith("p-") for p in pd.read_csv(tmp_path / "participants.csv").participant)
    mixed = pd.read_csv(tmp_path / "mixed_model.csv")
    assert mixed.term.eq("model").all() and mixed.note.str.contains("2-option").all()


def test_pairwise_fixture_summary_and_mixed_model():
    frame = read_responses(fixture_path("pairwise_4x20.csv"))
    methods = ["void", "minimax-remover", "propainter", "telea"]
    result = analyze(frame, salt="s", bootstrap=200, methods=methods)
    for question in ("plausibility", "artifacts"):
        assert result.summary["per_question"][question]["ranking"][0] == "void"
        assert result.summary["per_question"][question]["ranking"][-1] == "telea"
        model = result.mixed_model[result.mixed_model.question == question].set_index("term")
        assert model.loc["strength[telea]", "ci_high"] < 0  # clearly worse than the reference (void)
        assert {"sd[participant]", "sd[clip]", "position[left]"} <= set(model.index)
    assert len(result.pairwise) == 12 and result.best_of.empty


def test_mixed_model_recovers_a_strong_position_effect():
    truth = {"a": 0.5, "b": 0.0, "c": -0.5}
    design = make_design(
        list(truth), ["k1", "k2", "k3"], participants=30, rounds=4, seed=1, copy_input_checks=0, repeat_checks=0
    )
    frame = simulate_responses(design, truth, seed=2, position_bias=0.8)
    table = mixed_model_table(frame, list(truth)).set_index("term")
    assert table.loc["position[left]", "ci_low"] < 0.8 < table.loc["position[left]", "ci_high"]
    assert table.loc["strength[c]", "estimate"] < table.loc["strength[b]", "estimate"] < 0
    bias = position_bias(frame).iloc[0]
    assert bias.left_share > 0.6 and bias.p_value < 1e-6
    unbiased = position_bias(simulate_responses(design, truth, seed=3)).iloc[0]
    assert unbiased.p_value > 0.001


def test_mixed_model_fit_is_reproducible():
    """statsmodels starts the fit from random log-SDs (fresh OS entropy unless seeded): same answers, same table."""
    truth = {"a": 0.5, "b": 0.0, "c": -0.5}
    design = make_design(list(truth), ["k1"], participants=12, rounds=2, seed=4, copy_input_checks=0, repeat_checks=0)
    frame = simulate_responses(design, truth, seed=5)
    first, second = mixed_model_table(frame, list(truth)), mixed_model_table(frame, list(truth))
    pd.testing.assert_frame_equal(first, second, check_exact=True)
    other = mixed_model_table(frame, list(truth), seed=1)
    assert not np.array_equal(first["estimate"].to_numpy(), other["estimate"].to_numpy())


def test_agreement_matches_references():
    rng = np.random.default_rng(0)
    table = rng.multinomial(5, [0.6, 0.3, 0.1], size=40)
    assert agreement_from_table(table)["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-12)
    perfect = np.array([[4, 0], [0, 4], [4, 0]])
    result = agreement_from_table(perfect)
    assert result["raw_agreement"] == 1.0 and result["fleiss_kappa"] == 1.0 and result["gwet_ac1"] == 1.0
    # Krippendorff's alpha through agreement_table equals the package on the same reliability matrix
    import krippendorff

    frame = pd.DataFrame(
        {
            "participant": ["p1", "p2", "p3"] * 3,
            "question": ["q"] * 9,
            "clip": ["c1"] * 3 + ["c2"] * 3 + ["c3"] * 3,
            "options": [("a", "b")] * 9,
            "choice": ["a", "a", "b", "b", "b", "b", "a", "tie", "a"],
        }
    )
    from studies.agreement import agreement_table

    row = agreement_table(frame).iloc[0]
    codes = {"a": 0, "b": 1, "tie": 2}
    reliability = np.array(frame.choice.map(codes)).reshape(3, 3).T
    assert row.krippendorff_alpha == pytest.approx(
        krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    )
    assert row["items"] == 3 and row.raw_agreement == pytest.approx((1 / 3 + 1 + 1 / 3) / 3)


def test_power_numbers():
    assert judgments_for_margin(0.09, win_rate=0.65) == 104
    from studies.intervals import wilson_interval

    low, high = wilson_interval(round(0.65 * 104), 104)
    assert (high - low) / 2 <= 0.09
    low, high = wilson_interval(round(0.65 * 103), 103)
    assert (high - low) / 2 > 0.09
    n = judgments_for_power(0.65)
    assert binomial_power(n, 0.65) >= 0.8 and binomial_power(n - 1, 0.65) < 0.8
    assert judgments_for_power(0.65, pairs=21) > n  # Holm-safe level for 21 pairs needs more
    # exact power by simulation with scipy's test
    rng = np.random.default_rng(5)
    from scipy import stats

    wins = rng.binomial(n, 0.65, size=3000)
    reject = {k: stats.binomtest(int(k), n).pvalue <= 0.05 for k in np.unique(wins)}
    assert np.mean([reject[k] for k in wins]) == pytest.approx(binomial_power(n, 0.65), abs=0.03)


def test_shipped_fixtures_regenerate_exactly():
    for name, (_, frame, truth) in fixture_studies().items():
        assert fixture_path(f"{name}.csv").read_text() == format_responses(frame), name
        assert json.loads(fixture_path(f"{name}.truth.json").read_text())["strengths"] == truth["strengths"]


def test_analyze_rejects_unknown_method_order(tiny_csv):
    with pytest.raises(ValueError, match="not in the given order"):
        analyze(read_responses(tiny_csv), salt="x", methods=["a", "b"], bootstrap=10)


def test_mixed_model_reference_is_the_first_method_present():
    rng = np.random.default_rng(0)
    rows = []
    for index in range(60):
        shown = ("b", "c") if index % 2 else ("c", "b")
        rows.append(
            {
                "question": "q",
                "participant": f"p{index % 6}",
                "clip": f"k{index % 5}",
                "options": shown,
                "choice": "b" if rng.random() < 0.75 else "c",
            }
        )
    table = mixed_model_table(pd.DataFrame(rows), ["a", "b", "c"])
    strengths = table[table.term.str.startswith("strength")]
    assert strengths.term.tolist() == ["strength[c]"]  # "a" is absent: b is the reference, not a collinear b
    assert strengths.note.iloc[0] == "relative to b (0)" and strengths.estimate.iloc[0] < 0


def test_results_do_not_depend_on_the_pseudonym_salt():
    """The salt only hides who answered: intervals and the mixed model must not move with it."""
    for fixture in ("best_of_7x25.csv", "pairwise_4x20.csv"):
        frame = read_responses(fixture_path(fixture))
        one, two = (analyze(frame, salt=salt, bootstrap=200) for salt in ("a", "b"))
        assert json.dumps(one.summary, sort_keys=True) == json.dumps(two.summary, sort_keys=True)
        pd.testing.assert_frame_equal(one.mixed_model, two.mixed_model, check_exact=True)


def test_a_mixed_model_fit_that_did_not_converge_says_so(monkeypatch):
    import warnings

    from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    from studies.models import NOT_CONVERGED

    fit = BinomialBayesMixedGLM.fit_vb

    def warned(self, *args, **kwargs):
        warnings.warn("VB fitting did not converge", ConvergenceWarning, stacklevel=2)
        return fit(self, *args, **kwargs)

    truth = {"a": 0.5, "b": 0.0, "c": -0.5}
    design = make_design(list(truth), ["k1"], participants=12, rounds=2, seed=4, copy_input_checks=0, repeat_checks=0)
    frame = simulate_responses(design, truth, seed=5)
    assert not mixed_model_table(frame, list(truth))["note"].str.contains(NOT_CONVERGED).any()
    monkeypatch.setattr(BinomialBayesMixedGLM, "fit_vb", warned)
    assert mixed_model_table(frame, list(truth))["note"].str.contains(NOT_CONVERGED).all()
