"""Bradley-Terry / Luce fits: an independent reference (choix) and recovery of known strengths by simulation."""

from __future__ import annotations

import choix
import numpy as np
import pytest
from scipy import stats

from studies.bradley_terry import bootstrap_strengths, choice_counts, fit_strengths
from studies.design import make_design
from studies.simulate import simulate_responses


def test_pairwise_fit_matches_choix():
    rng = np.random.default_rng(0)
    truth = np.array([1.0, 0.4, 0.0, -0.3, -1.1])
    data = []
    for _ in range(600):
        i, j = rng.choice(5, 2, replace=False)
        winner_first = rng.random() < 1 / (1 + np.exp(-(truth[i] - truth[j])))
        data.append((i, j) if winner_first else (j, i))
    rows = [("p", (str(w), str(loser)), str(w)) for w, loser in data]
    counts = choice_counts(rows, [str(k) for k in range(5)])
    ours = fit_strengths(counts.total(), counts.sets, ridge=0.02)
    reference = choix.opt_pairwise(5, data, alpha=0.01)  # choix penalises alpha * sum(theta^2) = ridge / 2
    np.testing.assert_allclose(ours, reference - reference.mean(), atol=1e-5)
    unpenalised = fit_strengths(counts.total(), counts.sets, ridge=0.0)
    mm = choix.ilsr_pairwise(5, data, alpha=0.0, tol=1e-12)
    np.testing.assert_allclose(unpenalised, mm - mm.mean(), atol=1e-5)


def test_top1_fit_matches_choix():
    rng = np.random.default_rng(1)
    truth = np.array([1.5, 0.5, 0.0, -0.5])
    data = []
    for _ in range(800):
        shown = rng.choice(4, size=int(rng.integers(2, 5)), replace=False)
        p = np.exp(truth[shown]) / np.exp(truth[shown]).sum()
        winner = int(rng.choice(shown, p=p))
        data.append((winner, tuple(int(k) for k in shown if k != winner)))
    rows = [("p", tuple(str(k) for k in (w, *losers)), str(w)) for w, losers in data]
    counts = choice_counts(rows, [str(k) for k in range(4)])
    ours = fit_strengths(counts.total(), counts.sets, ridge=0.0)
    reference = choix.ilsr_top1(4, data, alpha=0.0, tol=1e-12)
    np.testing.assert_allclose(ours, reference - reference.mean(), atol=1e-5)


def test_unpenalised_fit_refuses_a_method_that_never_wins():
    sets = np.array([[True, True]])
    with pytest.raises(ValueError, match="does not exist"):
        fit_strengths(np.array([[5.0, 0.0]]), sets, ridge=0.0)
    finite = fit_strengths(np.array([[5.0, 0.0]]), sets, ridge=0.01)
    assert np.all(np.isfinite(finite)) and finite[0] > 0


@pytest.mark.parametrize("mode", ["pairwise", "best-of-n"])
def test_simulated_study_recovers_the_known_ranking(mode):
    truth = {"m1": 1.2, "m2": 0.7, "m3": 0.2, "m4": -0.3, "m5": -0.9}
    design = make_design(
        list(truth),
        [f"c{i}" for i in range(5)],
        participants=40,
        mode=mode,
        rounds=3 if mode == "pairwise" else 2,
        seed=11,
        copy_input_checks=0,
        repeat_checks=0,
    )
    frame = simulate_responses(design, truth, seed=12, participant_sd=0.2, tie_rate=0.05)
    rows = list(zip(frame.participant, frame.options, frame.choice, strict=True))
    estimate = bootstrap_strengths(choice_counts(rows, list(truth)), resamples=200, seed=0)
    order = [estimate.methods[i] for i in np.argsort(estimate.rank)]
    assert order == list(truth)
    centred = np.array(list(truth.values())) - np.mean(list(truth.values()))
    assert stats.pearsonr(estimate.strength, centred).statistic > 0.97
    covered = (estimate.ci_low <= centred) & (centred <= estimate.ci_high)
    assert covered.sum() >= 4  # 95% intervals: at most one miss expected out of five


def test_bootstrap_resamples_participants():
    rows = [("p1", ("a", "b"), "a")] * 10 + [("p2", ("a", "b"), "b")] * 10
    estimate = bootstrap_strengths(choice_counts(rows, ["a", "b"]), resamples=400, seed=3)
    # only two participants with opposite views: a resample of {p1, p1} or {p2, p2} happens half the time
    assert estimate.ci_low[0] < -1 and estimate.ci_high[0] > 1
    assert abs(estimate.strength[0]) < 1e-9
