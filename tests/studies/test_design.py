"""Designs: balance rules, recorded randomisation, attention checks, bad input."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from studies.design import make_design, parse_questions
from studies.responses import COPY_INPUT


@pytest.mark.parametrize(
    ("methods", "clips", "participants", "rounds"), [(4, 3, 6, 1), (7, 5, 10, 1), (3, 4, 4, 2), (5, 2, 8, 1)]
)
def test_pairwise_balance(methods, clips, participants, rounds):
    names = [f"m{i}" for i in range(methods)]
    design = make_design(names, [f"c{i}" for i in range(clips)], participants=participants, rounds=rounds, seed=5)
    main = [t for t in design.trials if not t.attention]
    pairs = Counter(frozenset(t.options) for t in main)
    assert set(pairs.values()) == {participants * rounds}
    assert len(pairs) == methods * (methods - 1) // 2
    for code in design.participants:
        seen = Counter(m for t in main if t.participant == code for m in t.options)
        assert set(seen.values()) == {(methods - 1) * rounds}
    cells = Counter((frozenset(t.options), t.clip) for t in main)
    counts = [cells.get((frozenset(p), c), 0) for p in itertools.combinations(names, 2) for c in design.clips]
    assert max(counts) - min(counts) <= 1
    assert design.balance["each_pair_clip_equally"] == ((participants * rounds) % clips == 0)
    for pair in itertools.combinations(names, 2):
        left = Counter(t.options[0] for t in main if set(t.options) == set(pair))
        assert abs(left[pair[0]] - left[pair[1]]) <= 1  # sides alternate between participants


def test_best_of_balance_and_slots():
    design = make_design(
        [f"m{i}" for i in range(7)], [f"c{i}" for i in range(7)], participants=7, mode="best-of-n", seed=2
    )
    assert design.balance["balanced"]
    main = [t for t in design.trials if not t.attention]
    assert all(len(t.options) == 7 for t in main)
    slots = Counter((m, s) for t in main for s, m in enumerate(t.options))
    assert set(slots.values()) == {7}


def test_attention_checks_and_recorded_randomisation():
    design = make_design(["a", "b", "c"], ["x", "y"], participants=4, copy_input_checks=2, repeat_checks=1, seed=9)
    for code in design.participants:
        own = design.trials_for(code)
        assert [t.trial for t in own] == list(range(len(own)))
        copies = [t for t in own if t.check == COPY_INPUT]
        assert len(copies) == 2 and all(COPY_INPUT in t.options and t.attention for t in copies)
        (repeat,) = [t for t in own if t.check == "repeat"]
        original = own[repeat.repeat_of]
        assert not original.attention and original.clip == repeat.clip
        assert original.options == tuple(reversed(repeat.options)) and repeat.trial > original.trial
    same = make_design(["a", "b", "c"], ["x", "y"], participants=4, copy_input_checks=2, repeat_checks=1, seed=9)
    other = make_design(["a", "b", "c"], ["x", "y"], participants=4, copy_input_checks=2, repeat_checks=1, seed=10)
    assert same.trials == design.trials and other.trials != design.trials
    frame = design.trials_frame()
    assert list(frame.columns) == ["participant", "trial", "clip", "options", "attention", "check", "repeat_of"]
    assert design.to_json()["seed"] == 9


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": ["a"]}, "at least two methods"),
        ({"methods": ["a", "a"]}, "repeat a name"),
        ({"methods": ["a", "tie"]}, "reserved"),
        ({"methods": ["a", COPY_INPUT]}, "reserved"),
        ({"methods": ["a", "b|c"]}, "must not contain"),
        ({"mode": "triplets"}, "mode must be"),
        ({"methods": [f"m{i}" for i in range(9)], "mode": "best-of-n"}, "at most 9"),
        ({"questions": "colour"}, "unknown question"),
    ],
)
def test_bad_design_input(kwargs, message):
    arguments = {"methods": ["a", "b"], "clips": ["c"], "participants": 2} | kwargs
    methods, clips = arguments.pop("methods"), arguments.pop("clips")
    with pytest.raises(ValueError, match=message):
        make_design(methods, clips, **arguments)


def test_question_parsing():
    questions = parse_questions("plausibility,sharpness=Which video is sharpest?")
    assert list(questions) == ["plausibility", "sharpness"] and questions["sharpness"] == "Which video is sharpest?"
