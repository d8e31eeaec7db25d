"""Agreement statistics: chance terms per option set (random raters give ~0), one answer per rater and item,
and Krippendorff's alpha against the ``krippendorff`` package."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from studies.agreement import agreement_from_table, agreement_table


def _coin_flip_frame(seed: int, *, methods=("a", "b", "c", "d"), clips=10, raters=8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for clip in range(clips):
        for pair in itertools.combinations(methods, 2):
            for rater in range(raters):
                shown = pair if rng.integers(2) else pair[::-1]  # screen side randomised
                rows.append(
                    {
                        "question": "q",
                        "clip": f"c{clip}",
                        "options": shown,
                        "participant": f"p{rater}",
                        "choice": pair[rng.integers(2)],
                    }
                )
    return pd.DataFrame(rows)


def test_random_raters_give_chance_corrected_agreement_near_zero():
    # 4 methods x 6 pairs x 10 clips x 8 raters answering by coin flip: pooling method shares over items with
    # different pairs used to give kappa 0.33; every chance-corrected measure must be ~0
    values = {"fleiss_kappa": [], "gwet_ac1": [], "krippendorff_alpha": []}
    for seed in range(5):
        row = agreement_table(_coin_flip_frame(seed)).iloc[0]
        assert row["items"] == 60 and row["option_sets"] == 6 and row["categories"] == 2
        for name in values:
            values[name].append(row[name])
    for name, found in values.items():
        assert abs(np.mean(found)) < 0.05, (name, found)


def test_random_raters_best_of_n_near_zero():
    rng = np.random.default_rng(1)
    methods = ("a", "b", "c", "d")
    rows = [
        {"question": "q", "clip": f"c{clip}", "options": tuple(rng.permutation(methods)), "participant": f"p{r}"}
        for clip in range(30)
        for r in range(8)
    ]
    frame = pd.DataFrame(rows)
    frame["choice"] = [methods[i] for i in rng.integers(4, size=len(frame))]
    row = agreement_table(frame).iloc[0]
    assert row["kind"] == "best-of-n" and row["categories"] == 4
    for name in ("fleiss_kappa", "gwet_ac1", "krippendorff_alpha"):
        assert abs(row[name]) < 0.05, (name, row[name])


def test_agreement_does_not_depend_on_method_names_or_screen_order():
    frame = _coin_flip_frame(7)
    renamed = frame.copy()
    names = {"a": "z", "b": "y", "c": "x", "d": "w"}
    renamed["options"] = renamed["options"].map(lambda options: tuple(names[o] for o in options[::-1]))
    renamed["choice"] = renamed["choice"].map(names)
    columns = ["raw_agreement", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha"]
    np.testing.assert_allclose(
        agreement_table(frame)[columns].to_numpy(float), agreement_table(renamed)[columns].to_numpy(float)
    )


def test_gwet_ac1_counts_possible_answers_not_seen_ones():
    table = np.array([[3, 0], [3, 0], [0, 3], [2, 1]])
    observed = (1 + 1 + 1 + 1 / 3) / 4
    shares = table.sum(axis=0) / table.sum()
    for possible in (2, 3):
        chance = (shares * (1 - shares)).sum() / (possible - 1)
        expected = (observed - chance) / (1 - chance)
        assert agreement_from_table(table, possible=possible)["gwet_ac1"] == pytest.approx(expected)
    # a forced-choice pair with ties offered: q = 3 although no one chose tie in this block
    frame = pd.DataFrame(
        {
            "question": ["q"] * 6,
            "clip": ["c1", "c1", "c2", "c2", "c3", "c3"],
            "options": [("a", "b"), ("a", "b"), ("a", "b"), ("b", "a"), ("a", "b"), ("a", "b")],
            "participant": ["p1", "p2"] * 3,
            "choice": ["a", "a", "b", "b", "a", "b"],
        }
    )
    assert agreement_table(frame).iloc[0]["categories"] == 2
    assert agreement_table(frame, ties_allowed=True).iloc[0]["categories"] == 3


def test_repeated_answers_count_once_per_participant_and_item():
    base = pd.DataFrame(
        {
            "question": ["q"] * 6,
            "trial": [0, 1, 2, 3, 4, 5],
            "clip": ["c1", "c1", "c1", "c2", "c2", "c2"],
            "options": [("a", "b")] * 6,
            "participant": ["p1", "p2", "p3"] * 2,
            "choice": ["a", "a", "b", "b", "b", "a"],
        }
    )
    repeated = pd.concat(
        [
            base,
            pd.DataFrame(
                {
                    "question": ["q"],
                    "trial": [9],
                    "clip": ["c1"],
                    "options": [("b", "a")],  # the same item shown the other way round
                    "participant": ["p3"],
                    "choice": ["a"],
                }
            ),
        ],
        ignore_index=True,
    )
    clean = agreement_table(base).iloc[0]
    row = agreement_table(repeated).iloc[0]
    assert row["duplicates_dropped"] == 1 and "1 repeated answer" in row["note"]
    assert clean["duplicates_dropped"] == 0
    assert row["ratings"] == clean["ratings"] == 6
    for name in ("raw_agreement", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha"):
        assert row[name] == pytest.approx(clean[name])


def test_alpha_matches_krippendorff_package_with_missing_ratings():
    import krippendorff

    rng = np.random.default_rng(3)
    raters, items = 6, 25
    codes = rng.choice(3, size=(raters, items), p=[0.5, 0.3, 0.2]).astype(float)
    codes[rng.random(codes.shape) < 0.3] = np.nan
    rows = [
        {
            "question": "q",
            "clip": f"c{item}",
            "options": ("a", "b"),
            "participant": f"p{rater}",
            "choice": ("a", "b", "tie")[int(codes[rater, item])],
        }
        for rater in range(raters)
        for item in range(items)
        if not np.isnan(codes[rater, item])
    ]
    row = agreement_table(pd.DataFrame(rows)).iloc[0]
    multi = (~np.isnan(codes)).sum(axis=0) >= 2
    reference = krippendorff.alpha(reliability_data=codes[:, multi], level_of_measurement="nominal")
    assert row["krippendorff_alpha"] == pytest.approx(reference, abs=1e-12)
