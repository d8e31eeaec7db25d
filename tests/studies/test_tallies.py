"""Tallies equal hand counts on a tiny fixture; exclusions, ties and position counts by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import multinomial_proportions_confint, proportion_confint

from studies.analysis import analyze
from studies.bradley_terry import choice_counts
from studies.responses import read_responses


@pytest.fixture
def tiny(tiny_csv):
    return analyze(read_responses(tiny_csv), salt="t", bootstrap=50, methods=["a", "b", "c"], mixed_model=False)


def test_exclusion_counts_by_hand(tiny):
    counts = tiny.summary["exclusions"]
    assert counts["participants"] == 4 and counts["participants_excluded"] == 1  # P3 chose copy-input
    assert counts["answers"] == 19 and counts["attention_answers"] == 3 and counts["main_answers"] == 16
    assert counts["main_answers_of_excluded_participants"] == 2
    assert counts["fast_answers_dropped"] == 1  # P4 trial 3 (400 ms); P3's 500 ms answer went with P3
    assert counts["answers_analysed"] == 13
    assert counts["repeat_checks_matched"] == 1 and counts["repeat_checks_inconsistent"] == 1  # P2: c then a
    reasons = tiny.participants.set_index("excluded")["reason"]
    assert reasons[True] == "failed 1 of 1 copy-input checks"


def test_pairwise_tallies_by_hand(tiny):
    table = tiny.pairwise.set_index(["method_a", "method_b"])
    assert set(tiny.pairwise.question) == {"q"}
    expected = {("a", "b"): (5, 3, 2, 0), ("a", "c"): (2, 0, 1, 1), ("b", "c"): (2, 1, 0, 1)}
    for pair, (n, wins_a, wins_b, ties) in expected.items():
        row = table.loc[pair]
        assert (row.n, row.wins_a, row.wins_b, row.ties) == (n, wins_a, wins_b, ties)
        decided = wins_a + wins_b
        assert row.win_rate_a == pytest.approx(wins_a / decided)
        low, high = proportion_confint(wins_a, decided, method="wilson")
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high), abs=1e-12)
        assert row.p_value == pytest.approx(stats.binomtest(wins_a, decided).pvalue, rel=1e-12)
    # Holm over the three pairs of question q
    p = np.sort(tiny.pairwise.p_value.to_numpy())
    assert tiny.pairwise.p_holm.min() == pytest.approx(min(1.0, 3 * p[0]))


def test_best_of_tallies_by_hand(tiny):
    table = tiny.best_of.set_index("method")
    assert (table.question == "r").all()
    assert table.chosen.to_dict() == {"a": 2, "b": 0, "c": 1, "tie": 1}
    assert set(table.trials) == {4}
    assert table.loc["a", "share"] == 0.5
    reference = multinomial_proportions_confint([2, 0, 1, 1], alpha=0.05, method="goodman")
    np.testing.assert_allclose(table[["ci_low", "ci_high"]].to_numpy(), reference, atol=1e-12)


def test_position_counts_by_hand(tiny):
    row = tiny.position_bias.set_index(["question", "kind"]).loc[("q", "left-vs-right")]
    assert row.n == 7 and row.slot_counts == "4|3"
    assert row.p_value == pytest.approx(stats.binomtest(4, 7).pvalue)
    slots = tiny.position_bias.set_index(["question", "kind"]).loc[("r", "slot-uniformity")]
    assert slots.slot_counts == "1|1|1"  # a at slot 0 (P1), a at slot 1 (P2), c at slot 2 (P4); tie dropped


def test_ties_split_evenly_in_bradley_terry_counts():
    data = choice_counts(
        [("p", ("a", "b"), "tie"), ("p", ("a", "b", "c"), "tie"), ("p", ("b", "a"), "a")], ["a", "b", "c"]
    )
    totals = data.total()
    pair = data.sets.sum(axis=1) == 2
    np.testing.assert_allclose(totals[pair][0], [1.5, 0.5, 0.0])
    np.testing.assert_allclose(totals[~pair][0], [1 / 3, 1 / 3, 1 / 3])


def test_ties_policy_is_stated(tiny):
    assert "ties" in tiny.summary["ties_policy"] and "decided" in tiny.summary["ties_policy"]
