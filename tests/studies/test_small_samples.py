"""Small samples are never printed as confident: separation, few participants, few judgments; a pilot where
everybody is excluded still gets its exclusion table; an unbalanced design says what would balance it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from studies.analysis import analyze
from studies.bradley_terry import choice_counts, separation
from studies.design import balancing_participants, make_design
from studies.small_samples import MIN_BOOTSTRAP_PARTICIPANTS
from void_eval.cli import main

COLUMNS = ["participant", "trial", "clip", "question", "options", "choice", "rt_ms", "attention"]


def _responses(people: int, winner_always: bool, *, check_answer: str = "void") -> pd.DataFrame:
    """``people`` participants, 4 void-vs-telea screens each (+1 copy-input check); void wins every one, or
    person ``p`` gives telea ``p % 3`` of them (people differ, so a participant bootstrap has spread)."""
    rows = []
    for p in range(people):
        for t in range(4):
            options = ("void", "telea") if t % 2 else ("telea", "void")
            choice = "void" if winner_always or t >= p % 3 else "telea"
            rows.append((f"person{p}", t, f"c{t % 3}", "plausibility", options, choice, 5000.0, False))
        rows.append((f"person{p}", 4, "c0", "plausibility", ("copy-input", "void"), check_answer, 5000.0, True))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_separation_names_the_undefeated_group():
    sets = np.array([[True, True, False], [False, True, True], [True, False, True]])
    cycle = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0], [2.0, 0.0, 1.0]])
    assert separation(cycle, sets, ("a", "b", "c")) == ""
    top = np.array([[3.0, 0.0, 0.0], [0.0, 1.0, 2.0], [3.0, 0.0, 0.0]])  # a beats b and c; b and c split
    assert separation(top, sets, ("a", "b", "c")) == "a was never beaten by b, c"
    tie = choice_counts([("p", ("a", "b"), "a"), ("p", ("a", "b"), "tie")], ["a", "b"])
    assert separation(tie.total(), tie.sets, tie.methods) == ""  # a tie is half a win each: no separation


@pytest.mark.parametrize(
    ("people", "winner_always", "interval", "words"),
    [
        (2, True, False, ["separation (void was never beaten by telea", "2 participants < 5"]),
        (8, True, False, ["separation"]),
        (2, False, False, ["2 participants < 5"]),
        (8, False, True, []),
    ],
)
def test_bradley_terry_interval_only_when_it_means_something(people, winner_always, interval, words):
    result = analyze(_responses(people, winner_always), salt="s", bootstrap=200)
    table = result.bradley_terry
    assert table["ci_low"].notna().all() == interval and table["ci_high"].notna().all() == interval
    note = table["note"].iloc[0]
    assert all(word in note for word in words) and (note == "") == interval
    assert ("participants" in note) == (people < MIN_BOOTSTRAP_PARTICIPANTS)
    if interval:
        assert (table["ci_high"] - table["ci_low"] > 0.1).all()  # a real width, not the separation artefact
    assert result.summary["per_question"]["plausibility"]["bradley_terry_note"] == note


def test_pairwise_rows_on_few_judgments_say_so():
    few = analyze(_responses(2, False), salt="s", bootstrap=50).pairwise
    assert few["note"].iloc[0] == "few: 8 decided judgments < 10, 2 participants < 5"
    enough = analyze(_responses(8, False), salt="s", bootstrap=50).pairwise
    assert enough["note"].iloc[0] == "" and enough["participants"].iloc[0] == 8


def test_cli_prints_no_interval_and_the_reason(tmp_path, capsys):
    from studies.responses import format_responses

    path = tmp_path / "two.csv"
    path.write_text(format_responses(_responses(2, True)))
    assert main(["study", "analyze", str(path), "--out", str(tmp_path / "out"), "--salt", "s"]) == 0
    printed = capsys.readouterr().out
    assert "no interval: separation" in printed and "[+" not in printed  # no signed BT interval anywhere
    assert (tmp_path / "out" / "bt_ladder.png").exists()


def test_everyone_excluded_writes_the_exclusion_table_and_exits_1(tmp_path, capsys):
    from studies.responses import format_responses

    path = tmp_path / "pilot.csv"
    path.write_text(format_responses(_responses(3, True, check_answer="copy-input")))
    out = tmp_path / "out"
    assert main(["study", "analyze", str(path), "--out", str(out), "--salt", "s"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert "no answers left after exclusions (3 of 3 participants excluded" in captured.err
    assert captured.out.count("failed 1 of 1 copy-input checks") == 3
    participants = pd.read_csv(out / "participants.csv")
    assert participants["excluded"].all() and (participants["reason"] == "failed 1 of 1 copy-input checks").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["exclusions"]["participants_excluded"] == 3 and summary["nothing_analysed"]
    assert pd.read_csv(out / "pairwise.csv").empty and not (out / "forest.png").exists()


def test_unbalanced_design_says_which_participant_counts_balance_it(tmp_path, capsys):
    arguments = ["study", "design", "--methods", "void,propainter,telea", "--clips", "a,b", "--participants", "3"]
    assert main([*arguments, "--out", str(tmp_path / "study")]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("balanced:"))
    assert line.startswith("balanced: no (") and "2 or 4 participants would balance it" in line
    for count in (2, 4):
        assert make_design(["void", "propainter", "telea"], ["a", "b"], participants=count).balance["balanced"]
    best_of = make_design(["a", "b", "c"], ["x", "y"], participants=4, mode="best-of-n", rounds=1)
    assert not best_of.balance["balanced"] and balancing_participants(best_of) == [3, 6]
