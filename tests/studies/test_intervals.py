"""Intervals and tests against independent references (statsmodels, scipy) and by simulation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from studies.intervals import binomial_p_value, holm_adjust, multinomial_intervals, wilson_interval


def test_protocol_reference_numbers():
    low, high = wilson_interval(65, 100)
    assert (round(float(low), 3), round(float(high), 3)) == (0.553, 0.736)
    assert round(binomial_p_value(65, 100), 4) == 0.0035


@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_matches_statsmodels(confidence):
    n = np.repeat(np.arange(1, 61), 61)
    k = np.tile(np.arange(61), 60)
    keep = k <= n
    n, k = n[keep], k[keep]
    low, high = wilson_interval(k, n, confidence=confidence)
    ref_low, ref_high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    np.testing.assert_allclose(low, ref_low, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_wilson_empty_and_bad_input():
    low, high = wilson_interval(0, 0)
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        wilson_interval(1, 4, confidence=1.0)


def test_binomial_p_matches_scipy():
    rng = np.random.default_rng(1)
    for n in [1, 2, 7, 30, 101, 400]:
        for k in sorted(set(rng.integers(0, n + 1, size=8)) | {0, n}):
            assert binomial_p_value(k, n) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-12)
    assert np.isnan(binomial_p_value(0, 0))


def test_holm_matches_statsmodels():
    rng = np.random.default_rng(2)
    for size in [1, 2, 6, 21]:
        p = rng.uniform(0, 0.2, size)
        expected = multipletests(p, method="holm")[1]
        np.testing.assert_allclose(holm_adjust(p), expected, atol=1e-15)
    adjusted = holm_adjust([0.01, np.nan, 0.04])
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def test_goodman_intervals_are_simultaneous_by_simulation():
    """All 7 Goodman intervals cover their true shares together in >= 95% of simulated studies."""
    truth = np.array([0.45, 0.15, 0.12, 0.1, 0.08, 0.06, 0.04])
    rng = np.random.default_rng(3)
    draws = rng.multinomial(200, truth, size=600)
    covered = 0
    for counts in draws:
        bounds = multinomial_intervals(counts)
        covered += bool(np.all((bounds[:, 0] <= truth) & (truth <= bounds[:, 1])))
    assert covered / len(draws) >= 0.94  # nominal 0.95 simultaneous; Goodman is conservative


def test_wilson_coverage_over_many_simulated_studies():
    """Coverage of the true decided win rate over 4000 simulated 7-method pairwise studies (84000 intervals)."""
    rng = np.random.default_rng(4)
    strengths = np.array([1.2, 0.6, 0.3, 0.0, -0.2, -0.5, -1.4])
    first, second = np.triu_indices(len(strengths), k=1)
    truth = 1 / (1 + np.exp(-(strengths[first] - strengths[second])))
    studies = 4000
    judgments = rng.integers(40, 160, size=(studies, 1))  # decided judgments per pair, varying between studies
    wins = rng.binomial(np.broadcast_to(judgments, (studies, truth.size)), truth)
    low, high = wilson_interval(wins, np.broadcast_to(judgments, wins.shape))
    coverage = float(np.mean((low <= truth) & (truth <= high)))
    assert 0.94 <= coverage <= 0.96, coverage


def test_sison_glaz_refused_below_seven_cells_and_best_of_falls_back_to_goodman_with_a_note():
    import pandas as pd

    from studies.tallies import best_of_table

    with pytest.raises(ValueError, match="goodman"):
        multinomial_intervals([5, 3, 2], method="sison-glaz")
    assert multinomial_intervals([5, 3, 2, 1, 1, 1, 1], method="sison-glaz").shape == (7, 2)
    rows = [
        {"question": "q", "options": ("a", "b", "c"), "choice": choice, "participant": "p", "clip": "k"}
        for choice in ["a"] * 6 + ["b"] * 3 + ["c"] * 2
    ]
    table, notes = best_of_table(pd.DataFrame(rows), ["a", "b", "c"], interval="sison-glaz")
    assert notes["q"].startswith("goodman") and "valid only for >= 7" in notes["q"]
    np.testing.assert_allclose(table[["ci_low", "ci_high"]].to_numpy(), multinomial_intervals([6, 3, 2]))
    methods = list("abcdefg")
    rows = [
        {"question": "q", "options": tuple(methods), "choice": m, "participant": "p", "clip": "k"}
        for m, n in zip(methods, [9, 4, 3, 2, 2, 1, 1], strict=True)
        for _ in range(n)
    ]
    table, notes = best_of_table(pd.DataFrame(rows), methods, interval="sison-glaz")
    assert notes["q"].startswith("sison-glaz")
    np.testing.assert_allclose(
        table[["ci_low", "ci_high"]].to_numpy(), multinomial_intervals([9, 4, 3, 2, 2, 1, 1], method="sison-glaz")
    )
