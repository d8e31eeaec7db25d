"""Check returned responses against the design that produced them (``trials.csv`` of ``study design``).

Catches packets mixed up between participants, hand-edited files and pages from another design: every answer's
(participant, trial) must exist in the design with the same clip, the same options in the same screen order and
the same attention flag. Unanswered screens are counted, not errors (participants may stop early).

Example
-------
>>> import pandas as pd
>>> design = pd.DataFrame({"participant": ["P1"], "trial": [0], "clip": ["c"], "options": ["a|b"],
...                        "attention": [False]})
>>> answers = pd.DataFrame({"participant": ["P1"], "trial": [0], "clip": ["c"], "options": [("b", "a")],
...                         "attention": [False], "line": [2], "question": ["q"]})
>>> check_against_design(answers, design, source="r.csv")
Traceback (most recent call last):
...
void_eval.errors.InputError: r.csv: line 2: options b|a differ from the design's a|b (participant P1, trial 0)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from void_eval.errors import InputError

TRIAL_COLUMNS = ("participant", "trial", "clip", "options", "attention")


def read_design_trials(path: str | Path) -> pd.DataFrame:
    """Read ``trials.csv`` (or the ``trials.csv`` inside a design folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / "trials.csv"
    if not path.is_file():
        raise InputError(path, "design trials file not found")
    try:
        trials = pd.read_csv(path, dtype={"participant": str, "clip": str, "options": str})
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise InputError(path, f"unreadable trials CSV ({err})") from err
    missing = [name for name in TRIAL_COLUMNS if name not in trials.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}")
    return trials


def check_against_design(frame: pd.DataFrame, trials: pd.DataFrame, *, source: str = "<responses>") -> dict:
    """Raise :class:`InputError` at the first answer that disagrees with the design; return counts otherwise."""
    design = {(str(row.participant), int(row.trial)): row for row in trials.itertuples(index=False)}
    for row in frame.itertuples(index=False):
        key = (str(row.participant), int(row.trial))
        where = f"line {getattr(row, 'line', '?')}"
        if key not in design:
            raise InputError(source, f"{where}: participant {key[0]} trial {key[1]} is not in the design")
        expected = design[key]
        options = "|".join(row.options) if not isinstance(row.options, str) else row.options
        if str(expected.clip) != str(row.clip):
            raise InputError(
                source,
                f"{where}: clip {row.clip} differs from the design's {expected.clip} "
                f"(participant {key[0]}, trial {key[1]})",
            )
        if str(expected.options) != options:
            raise InputError(
                source,
                f"{where}: options {options} differ from the design's {expected.options} "
                f"(participant {key[0]}, trial {key[1]})",
            )
        if bool(expected.attention) != bool(row.attention):
            raise InputError(
                source,
                f"{where}: attention {bool(row.attention)} differs from the design "
                f"(participant {key[0]}, trial {key[1]})",
            )
    answered = {(str(p), int(t)) for p, t in zip(frame["participant"], frame["trial"], strict=True)}
    responding = {p for p, _ in answered}
    return {
        "design_screens": len(design),
        "screens_answered": len(answered),
        "participants_in_design": len({p for p, _ in design}),
        "participants_responding": len(responding),
        "unanswered_screens_of_responding_participants": sum(
            1 for key in design if key[0] in responding and key not in answered
        ),
    }
