"""The responses CSV: schema, line-numbered validation and salted-hash pseudonymisation.

One row per answered question. Columns (all required, in any order; extra columns are kept):

``participant``
    Participant code as issued by the design (``P01``...). Replaced by a salted hash in every analysis output.
``trial``
    Integer >= 0, the trial's index within the participant's packet (screen order).
``clip``
    Clip name.
``question``
    Question key (``plausibility``, ``artifacts``, ...).
``options``
    The methods shown, in screen order (left to right), joined by ``|``; at least two, no repeats.
``choice``
    One of the options, or ``tie`` (the participant declared no preference).
``rt_ms``
    Response time in milliseconds from the trial's start to this answer, a number >= 0.
``attention``
    ``true`` for attention-check trials (copy-input or repeated trials), ``false`` otherwise.

Example
-------
>>> import io
>>> text = (
...     "participant,trial,clip,question,options,choice,rt_ms,attention\\n"
...     "P01,0,beach,plausibility,void|propainter,void,5230,false\\n"
... )
>>> frame = parse_responses(io.StringIO(text), source="demo.csv")
>>> frame.loc[0, "options"], frame.loc[0, "choice"], bool(frame.loc[0, "attention"])
(('void', 'propainter'), 'void', False)
>>> pseudonymise("P01", salt="s3cret")
'p-e7c13f239ed1'
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from void_eval.errors import InputError

RESPONSE_COLUMNS: tuple[str, ...] = (
    "participant",
    "trial",
    "clip",
    "question",
    "options",
    "choice",
    "rt_ms",
    "attention",
)


class ResponseValidationError(ValueError):
    """Responses (or the options given with them) that cannot be analysed: bad input, not an internal fault."""


#: The ``choice`` value that records "no preference".
TIE = "tie"
#: Reserved method name of the copy-input attention check: the unedited input, object still present.
COPY_INPUT = "copy-input"
OPTION_SEPARATOR = "|"
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_MAX_LISTED_ERRORS = 5


def pseudonymise(participant: str, *, salt: str) -> str:
    """Salted hash (HMAC-SHA256, first 12 hex digits) of a participant code, prefixed ``p-``.

    The same code and salt always give the same pseudonym; without the salt the code cannot be recovered by
    trying the few possible codes.

    Example
    -------
    >>> pseudonymise("P01", salt="a") == pseudonymise("P01", salt="a") != pseudonymise("P01", salt="b")
    True
    """
    if not isinstance(participant, str) or not isinstance(salt, str):
        raise TypeError("participant and salt must be strings")
    if not salt:
        raise ValueError("the pseudonymisation salt must not be empty")
    digest = hmac.new(salt.encode(), participant.encode(), hashlib.sha256).hexdigest()
    return f"p-{digest[:12]}"


def read_responses(path: str | Path) -> pd.DataFrame:
    """Read and validate a responses CSV file (see the module docstring for the schema).

    Returns a frame with ``options`` as tuples, ``trial`` int, ``rt_ms`` float, ``attention`` bool.
    Raises :class:`~void_eval.errors.InputError` naming the file and the first bad line (lines counted from 1,
    the header being line 1).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "responses file not found")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return parse_responses(handle, source=str(path))
    except UnicodeDecodeError as err:
        raise InputError(path, f"not UTF-8 text ({err.reason})") from err


def parse_responses(handle: TextIO | io.StringIO, *, source: str = "<responses>") -> pd.DataFrame:
    """Parse and validate responses CSV text from an open text handle; see :func:`read_responses`."""
    reader = csv.reader(handle)
    header = _read_header(reader, source)
    rows = _read_rows(reader, header, source)
    frame = pd.DataFrame(rows)
    for name in RESPONSE_COLUMNS:
        if name not in frame:
            frame[name] = pd.Series(dtype=object)
    frame["trial"] = frame["trial"].astype(int)
    frame["rt_ms"] = frame["rt_ms"].astype(float)
    frame["attention"] = frame["attention"].astype(bool)
    frame = frame.rename(columns={"_line": "line"})
    ordered = [*RESPONSE_COLUMNS, "line"]
    return frame[ordered + [name for name in frame.columns if name not in ordered]].reset_index(drop=True)


def _read_header(reader: Any, source: str) -> list[str]:
    """The stripped column names of the header line of ``reader`` (a :func:`csv.reader`); InputError when it is
    missing, lacks a column or repeats one."""
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(source, "empty file (expected a header line)") from None
    except csv.Error as err:
        raise InputError(source, f"line 1: {err}") from err
    header = [name.strip() for name in header]
    missing = [name for name in RESPONSE_COLUMNS if name not in header]
    if missing:
        raise InputError(source, f"line 1: missing column(s) {', '.join(missing)} (header: {','.join(header)})")
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(source, f"line 1: duplicated column(s) {', '.join(duplicated)}")
    return header


def _read_rows(reader: Any, header: list[str], source: str) -> list[dict]:
    """The validated records after the header (each with its ``_line``); InputError listing the first problems."""
    index = {name: header.index(name) for name in header}
    rows: list[dict] = []
    errors: list[str] = []
    seen: dict[tuple[str, int, str], int] = {}
    line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            errors.append(f"line {reader.line_num}: {err}")
            break
        line = reader.line_num
        if not fields or all(not field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            errors.append(f"line {line}: {len(fields)} fields, header has {len(header)}")
            continue
        record = {name: fields[position].strip() for name, position in index.items()}
        problem = _check_record(record)
        if problem:
            errors.append(f"line {line}: {problem}")
            continue
        key = (record["participant"], record["trial"], record["question"])
        if key in seen:
            errors.append(
                f"line {line}: participant {key[0]!r} trial {key[1]} question {key[2]!r} already answered on "
                f"line {seen[key]}"
            )
            continue
        seen[key] = line
        record["_line"] = line
        rows.append(record)
        if len(errors) > _MAX_LISTED_ERRORS:
            break
    if errors:
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise InputError(source, "; ".join(errors[:3]) + more)
    if not rows:
        raise InputError(source, "no response rows after the header")
    return rows


def _check_record(record: dict) -> str | None:
    """Validate one row in place (converting fields); returns a problem or None."""
    for name in ("participant", "clip", "question", "options", "choice", "trial", "attention"):
        if not record[name]:
            return f"empty {name}"
    try:
        trial = int(record["trial"])
    except ValueError:
        return f"trial {record['trial']!r} is not an integer"
    if trial < 0:
        return f"trial {trial} is negative"
    record["trial"] = trial
    options = tuple(part.strip() for part in record["options"].split(OPTION_SEPARATOR))
    if len(options) < 2:
        return f"options {record['options']!r} lists fewer than two methods (separator is '|')"
    if any(not option for option in options):
        return f"options {record['options']!r} has an empty method name"
    if len(set(options)) != len(options):
        return f"options {record['options']!r} repeats a method"
    if TIE in options:
        return f"options {record['options']!r} uses the reserved name {TIE!r}"
    record["options"] = options
    if record["choice"] != TIE and record["choice"] not in options:
        return f"choice {record['choice']!r} is not one of the options {OPTION_SEPARATOR.join(options)} or {TIE!r}"
    try:
        rt_ms = float(record["rt_ms"])
    except ValueError:
        return f"rt_ms {record['rt_ms']!r} is not a number"
    if not math.isfinite(rt_ms) or rt_ms < 0:
        return f"rt_ms {record['rt_ms']!r} is not a finite number >= 0"
    record["rt_ms"] = rt_ms
    flag = record["attention"].lower()
    if flag not in _TRUE | _FALSE:
        return f"attention {record['attention']!r} is not true/false"
    record["attention"] = flag in _TRUE
    return None


def format_responses(frame: pd.DataFrame) -> str:
    """Render a responses frame (as returned by :func:`read_responses`) back to CSV text in schema order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESPONSE_COLUMNS)
    for row in frame.itertuples(index=False):
        options = row.options if isinstance(row.options, str) else OPTION_SEPARATOR.join(row.options)
        rt = row.rt_ms
        rt_text = str(int(rt)) if float(rt).is_integer() else f"{rt:.1f}"
        writer.writerow(
            [
                row.participant,
                int(row.trial),
                row.clip,
                row.question,
                options,
                row.choice,
                rt_text,
                "true" if row.attention else "false",
            ]
        )
    return out.getvalue()


def write_responses(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a responses frame atomically (temp file in the same folder, then rename)."""
    from void_eval.atomic import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, format_responses(frame))


def method_names(frame: pd.DataFrame) -> list[str]:
    """Methods that appear in any ``options`` cell, in first-appearance order."""
    names: dict[str, None] = {}
    for options in frame["options"]:
        for option in options:
            names.setdefault(option, None)
    return list(names)


def iter_option_methods(options: Iterable[str]) -> list[str]:
    """The methods of one options cell given as text (``a|b``) or a sequence."""
    if isinstance(options, str):
        return [part.strip() for part in options.split(OPTION_SEPARATOR)]
    return list(options)
