"""The responses schema: line-numbered validation, round trip, pseudonyms."""

from __future__ import annotations

import io

import pytest

from studies.responses import format_responses, parse_responses, pseudonymise, read_responses
from void_eval.errors import InputError

HEADER = "participant,trial,clip,question,options,choice,rt_ms,attention\n"


def _parse(body: str, header: str = HEADER):
    return parse_responses(io.StringIO(header + body), source="r.csv")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("P1,0,c,q,a|b,a,10,false\nP1,1,c,q,a|b,x,10,false\n", "r.csv: line 3: choice 'x' is not one of the options"),
        ("P1,0,c,q,a,a,10,false\n", "line 2: options 'a' lists fewer than two methods"),
        ("P1,0,c,q,a|a,a,10,false\n", "line 2: options 'a|a' repeats a method"),
        ("P1,x,c,q,a|b,a,10,false\n", "line 2: trial 'x' is not an integer"),
        ("P1,0,c,q,a|b,a,-3,false\n", "line 2: rt_ms '-3' is not a finite number >= 0"),
        ("P1,0,c,q,a|b,a,nan,false\n", "line 2: rt_ms 'nan' is not a finite number >= 0"),
        ("P1,0,c,q,a|b,a,10,maybe\n", "line 2: attention 'maybe' is not true/false"),
        ("P1,0,c,q,a|b,a,10\n", "line 2: 7 fields, header has 8"),
        (
            "P1,0,c,q,a|b,a,10,false\nP1,0,c,q,a|b,b,10,false\n",
            "line 3: participant 'P1' trial 0 question 'q' already answered on line 2",
        ),
        ("P1,0,c,q,a|tie,a,10,false\n", "reserved name 'tie'"),
        (",0,c,q,a|b,a,10,false\n", "line 2: empty participant"),
    ],
)
def test_validation_names_the_line(body, message):
    with pytest.raises(InputError, match=message.replace("|", r"\|").replace("(", r"\(")):
        _parse(body)


def test_missing_column_and_empty_file(tmp_path):
    with pytest.raises(InputError, match="line 1: missing column"):
        _parse("P1,0,c,q,a|b,a,10\n", header="participant,trial,clip,question,options,choice,rt_ms\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="empty file"):
        read_responses(empty)
    with pytest.raises(InputError, match="not found"):
        read_responses(tmp_path / "absent.csv")
    only_header = tmp_path / "h.csv"
    only_header.write_text(HEADER)
    with pytest.raises(InputError, match="no response rows"):
        read_responses(only_header)


def test_many_errors_are_summarised():
    body = "".join(f"P1,{i},c,q,a|b,zz,10,false\n" for i in range(5))
    with pytest.raises(InputError, match=r"line 2: .*; line 3: .*; line 4: .* \(and 2 more\)"):
        _parse(body)


def test_round_trip_and_extra_columns(tiny_csv):
    frame = read_responses(tiny_csv)
    assert frame.loc[0, "options"] == ("a", "b") and frame.loc[0, "line"] == 2
    again = parse_responses(io.StringIO(format_responses(frame)))
    assert again.drop(columns="line").equals(frame.drop(columns="line"))
    extra = _parse("P1,0,c,q,a|b,a,10,true,hello\n", header=HEADER.strip() + ",note\n")
    assert extra.loc[0, "note"] == "hello" and bool(extra.loc[0, "attention"])
    quoted = _parse('P1,0,"clip, with comma",q,a|b,tie,10.5,TRUE\n')
    assert quoted.loc[0, "clip"] == "clip, with comma" and quoted.loc[0, "rt_ms"] == 10.5


def test_pseudonyms_are_salted_and_stable():
    assert pseudonymise("P01", salt="x") == pseudonymise("P01", salt="x")
    assert pseudonymise("P01", salt="x") != pseudonymise("P01", salt="y")
    assert pseudonymise("P01", salt="x") != pseudonymise("P02", salt="x")
    assert pseudonymise("P01", salt="x").startswith("p-") and len(pseudonymise("P01", salt="x")) == 14
    with pytest.raises(ValueError):
        pseudonymise("P01", salt="")
