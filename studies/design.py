"""Balanced study designs: pairwise or best-of-N trials, recorded randomisation and attention checks.

Balance rules (checked and reported in :attr:`StudyDesign.balance`):

* **pairwise** — every participant sees every pair of methods ``rounds`` times, so each participant sees each
  method equally often; clips rotate over participants so every (pair, clip) cell is shown equally often
  (exactly when ``participants * rounds`` is a multiple of the number of clips, otherwise within one); the side
  of each pair alternates between consecutive participants from a random start per pair, so each method is on
  the left half of the time.
* **best-of-n** — every trial shows all methods; each participant sees every clip ``rounds`` times; screen
  orders are rows of a randomised cyclic Latin square, so each method takes each screen slot equally often
  (exactly when a participant's trial count is a multiple of the number of methods).

Attention checks (``attention = true`` in the responses): a *copy-input* trial shows the unedited input (object
still present, reserved method name ``copy-input``) next to real outputs and should lose; a *repeat* trial shows
an earlier trial again with the screen order reversed and should get the same answer.

Example
-------
>>> design = make_design(["void", "propainter", "telea"], ["a", "b", "c"], participants=6, seed=1)
>>> design.balance["pair_counts"]
{'void|propainter': 6, 'void|telea': 6, 'propainter|telea': 6}
>>> len(design.trials_for("P01")), sum(t.attention for t in design.trials_for("P01"))
(5, 2)
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np

from studies.responses import COPY_INPUT, OPTION_SEPARATOR, TIE
from studies.screens import Screen, main_screens, participant_screens
from void_eval.paths import check_name

MODES = ("pairwise", "best-of-n")
#: Built-in question texts; other keys need a text (``key=text``).
QUESTION_TEXTS: dict[str, str] = {
    "plausibility": "Which video looks most natural, as if the removed object had never been there?",
    "artifacts": "Which video shows the fewest artifacts (blur, smears, flicker, ghost outlines)?",
    "effects": "Which video best removes the object's effects too (shadows, reflections, things it moved)?",
    "overall": "Which video is best overall?",
}
MAX_OPTIONS = 9  # keyboard shortcuts 1-9


@dataclass(frozen=True)
class Trial:
    """One screen of a packet: a clip, the methods in screen order (left to right) and the check kind."""

    participant: str
    trial: int
    clip: str
    options: tuple[str, ...]
    attention: bool = False
    check: str = ""  # "", "copy-input" or "repeat"
    repeat_of: int | None = None


@dataclass
class StudyDesign:
    """A full design: settings, every participant's trials and the balance report."""

    mode: str
    methods: tuple[str, ...]
    clips: tuple[str, ...]
    questions: dict[str, str]
    participants: tuple[str, ...]
    seed: int
    rounds: int
    trials: list[Trial]
    balance: dict = field(default_factory=dict)
    allow_tie: bool = True

    def trials_for(self, participant: str) -> list[Trial]:
        """The participant's trials in screen order."""
        return [trial for trial in self.trials if trial.participant == participant]

    def trials_frame(self):
        """All trials as a pandas frame (``options`` joined by ``|``)."""
        import pandas as pd

        rows = []
        for trial in self.trials:
            row = asdict(trial)
            row["options"] = OPTION_SEPARATOR.join(trial.options)
            row["repeat_of"] = "" if trial.repeat_of is None else trial.repeat_of
            rows.append(row)
        return pd.DataFrame(rows)

    def to_json(self) -> dict:
        """Settings and balance report (trials go to ``trials.csv``)."""
        return {
            "mode": self.mode,
            "methods": list(self.methods),
            "clips": list(self.clips),
            "questions": self.questions,
            "participants": list(self.participants),
            "seed": self.seed,
            "rounds": self.rounds,
            "allow_tie": self.allow_tie,
            "randomisation": (
                "numpy.random.default_rng(seed): pair sides, Latin-square column order, clip order, trial order "
                "and attention-check placement; every drawn screen order is recorded in trials.csv"
            ),
            "balance": self.balance,
        }


def parse_questions(spec: str | list[str] | tuple[str, ...]) -> dict[str, str]:
    """Question keys (``plausibility,artifacts``) or ``key=text`` items to an ordered key -> text mapping.

    Example
    -------
    >>> list(parse_questions("plausibility,artifacts"))
    ['plausibility', 'artifacts']
    """
    items = [part.strip() for part in spec.split(",")] if isinstance(spec, str) else [s.strip() for s in spec]
    questions: dict[str, str] = {}
    for item in items:
        if not item:
            continue
        key, _, text = item.partition("=")
        key = key.strip()
        if not key.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"question key {key!r} must be letters, digits, '-' or '_'")
        if key in questions:
            raise ValueError(f"question {key!r} given twice")
        if text.strip():
            questions[key] = text.strip()
        elif key in QUESTION_TEXTS:
            questions[key] = QUESTION_TEXTS[key]
        else:
            raise ValueError(f"unknown question {key!r}: use one of {', '.join(QUESTION_TEXTS)} or give key=text")
    if not questions:
        raise ValueError("no questions given")
    return questions


def _check_names(kind: str, names) -> tuple[str, ...]:
    names = tuple(str(name).strip() for name in names)
    if len(set(names)) != len(names):
        raise ValueError(f"{kind} repeat a name: {', '.join(sorted(n for n in set(names) if names.count(n) > 1))}")
    for name in names:
        check_name(name)
        if OPTION_SEPARATOR in name or "," in name:
            raise ValueError(f"{kind[:-1]} name {name!r} must not contain '|' or ','")
        if name in {TIE, COPY_INPUT}:
            raise ValueError(f"{kind[:-1]} name {name!r} is reserved")
    return names


def make_design(
    methods,
    clips,
    *,
    participants: int,
    mode: str = "pairwise",
    questions: str | list[str] | dict[str, str] = "plausibility",
    rounds: int = 1,
    copy_input_checks: int = 1,
    repeat_checks: int = 1,
    seed: int = 0,
    participant_prefix: str = "P",
    allow_tie: bool = True,
) -> StudyDesign:
    """Build a balanced design (see the module docstring for the rules).

    Parameters
    ----------
    methods : sequence of str
        2 or more method names (at most 9 for best-of-n; the copy-input check adds one more option).
    clips : sequence of str
        1 or more clip names.
    participants : int, keyword-only, >= 1
    mode : "pairwise" or "best-of-n"
    questions : str, list or dict
        Question keys (see :data:`QUESTION_TEXTS`) or ``key=text`` items, or a ready key -> text mapping.
    rounds : int, >= 1
        Pairwise: times each participant sees each pair; best-of-n: times each participant sees each clip.
    copy_input_checks, repeat_checks : int, >= 0
        Attention checks per participant.
    seed : int
        Seed of every random draw; the same arguments and seed give the same design.
    allow_tie : bool
        Offer a "no preference" answer (recorded as ``tie``); ``False`` makes every question a forced choice.
    """
    methods = _check_names("methods", methods)
    clips = _check_names("clips", clips)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if len(methods) < 2:
        raise ValueError("need at least two methods")
    if mode == "best-of-n" and len(methods) + (copy_input_checks > 0) > MAX_OPTIONS:
        raise ValueError(f"best-of-n shows every method at once: at most {MAX_OPTIONS} options per screen")
    if not clips:
        raise ValueError("need at least one clip")
    if participants < 1 or rounds < 1 or copy_input_checks < 0 or repeat_checks < 0:
        raise ValueError("participants and rounds must be >= 1, checks >= 0")
    question_map = dict(questions) if isinstance(questions, dict) else parse_questions(questions)
    width = max(2, len(str(participants)))
    codes = tuple(f"{participant_prefix}{index + 1:0{width}d}" for index in range(participants))
    rng = np.random.default_rng(seed)
    clip_order = [clips[i] for i in rng.permutation(len(clips))]
    main = main_screens(mode, methods, clip_order, codes, rounds, rng)
    trials: list[Trial] = []
    for p, code in enumerate(codes):
        screens = participant_screens(
            p,
            main[code],
            mode=mode,
            methods=methods,
            clips=clips,
            copy_input_checks=copy_input_checks,
            repeat_checks=repeat_checks,
            rng=rng,
        )
        trials.extend(_resolve_trials(code, screens))
    design = StudyDesign(mode, methods, clips, question_map, codes, int(seed), rounds, trials, allow_tie=allow_tie)
    design.balance = balance_report(design)
    return design


def _resolve_trials(code: str, screens: list[Screen]) -> list[Trial]:
    """One participant's screens as trials; a repeat's ``repeat_of`` names its original's final trial number."""
    # repeat_of holds the index of the source screen at insertion; resolve to final trial numbers
    resolved: list[Trial] = []
    for index, (clip, options, check, _source) in enumerate(screens):
        resolved.append(Trial(code, index, clip, options, attention=bool(check), check=check))
    for index, (clip, options, check, _source) in enumerate(screens):
        if check == "repeat":
            match = next(
                t.trial
                for t in resolved[:index]
                if not t.check and t.clip == clip and t.options == tuple(reversed(options))
            )
            resolved[index] = Trial(code, index, clip, options, True, "repeat", match)
    return resolved


def balance_report(design: StudyDesign) -> dict:
    """Counts of what the main (non-check) trials show, and whether each balance rule holds exactly."""
    main = [trial for trial in design.trials if not trial.attention]
    method_rank = {name: i for i, name in enumerate(design.methods)}
    report: dict = {"main_trials_per_participant": {}, "checks_per_participant": {}}
    per_participant_methods: dict[str, Counter] = {}
    for code in design.participants:
        own = [t for t in main if t.participant == code]
        report["main_trials_per_participant"][code] = len(own)
        report["checks_per_participant"][code] = sum(1 for t in design.trials if t.participant == code and t.attention)
        per_participant_methods[code] = Counter(m for t in own for m in t.options)
    clip_counts = Counter(t.clip for t in main)
    report["clip_counts"] = {clip: clip_counts.get(clip, 0) for clip in design.clips}
    report["each_participant_sees_each_method_equally"] = all(
        len(set(c.values())) == 1 and len(c) == len(design.methods) for c in per_participant_methods.values()
    )
    report["each_clip_equally"] = len(set(clip_counts.values())) == 1 and len(clip_counts) == len(design.clips)
    slot_counts: Counter = Counter()
    for t in main:
        for slot, method in enumerate(t.options):
            slot_counts[(method, slot)] += 1
    if design.mode == "pairwise":

        def pair_key(t: Trial) -> str:
            return OPTION_SEPARATOR.join(sorted(t.options, key=method_rank.__getitem__))

        pair_counts = Counter(pair_key(t) for t in main)
        report["pair_counts"] = {
            OPTION_SEPARATOR.join(pair): pair_counts.get(OPTION_SEPARATOR.join(pair), 0)
            for pair in itertools.combinations(design.methods, 2)
        }
        cells = Counter((pair_key(t), t.clip) for t in main)
        all_cells = [cells.get((pair, clip), 0) for pair in report["pair_counts"] for clip in design.clips]
        report["pair_clip_counts_range"] = [min(all_cells), max(all_cells)]
        report["each_pair_equally"] = len(set(report["pair_counts"].values())) == 1
        report["each_pair_clip_equally"] = min(all_cells) == max(all_cells)
        left = Counter(t.options[0] for t in main)
        report["left_counts"] = {m: left.get(m, 0) for m in design.methods}
    slots = len(design.methods) if design.mode == "best-of-n" else 2
    report["slot_counts"] = {m: [slot_counts.get((m, s), 0) for s in range(slots)] for m in design.methods}
    report["each_method_each_slot_equally"] = len({v for counts in report["slot_counts"].values() for v in counts}) == 1
    report["balanced"] = all(report[key] for key in report if key.startswith("each_"))
    return report


def balancing_participants(design: StudyDesign) -> list[int]:
    """The nearest participant counts below and above ``design``'s that give a balanced design with the same
    methods, clips, mode, rounds and seed (empty when none does within a few periods).

    Balance recurs with the participant count (pairwise: when participants x rounds is a multiple of the clips
    and even; best-of-n: of the methods over the clips x rounds), so the smallest balanced count is found by
    building small designs, and its nearest multiples are checked by building them.

    Example
    -------
    >>> balancing_participants(make_design(["a", "b"], ["x", "y", "z"], participants=3))
    [6]
    >>> balancing_participants(make_design(["a", "b"], ["x", "y", "z"], participants=8))
    [6, 12]
    """

    def balanced(count: int) -> bool:
        trial = make_design(
            design.methods,
            design.clips,
            participants=count,
            mode=design.mode,
            questions=design.questions,
            rounds=design.rounds,
            copy_input_checks=0,
            repeat_checks=0,
            seed=design.seed,
            allow_tie=design.allow_tie,
        )
        return bool(trial.balance["balanced"])

    limit = 2 * len(design.clips) * len(design.methods) * design.rounds
    period = next((count for count in range(1, limit + 1) if balanced(count)), None)
    if period is None:
        return []
    have = len(design.participants)
    below, above = (have // period) * period, -(-have // period) * period
    above = above if above != have else above + period
    below = below if below != have else below - period
    return [count for count in (below, above) if count >= 1 and balanced(count)]


def design_summary(design: StudyDesign) -> str:
    """A short human-readable summary (for the CLI); an unbalanced design says which counts would balance it."""
    per = len(design.trials_for(design.participants[0]))
    flags = [key for key, value in design.balance.items() if key.startswith("each_") and not value]
    balance = "yes"
    if not design.balance["balanced"]:
        counts = balancing_participants(design)
        fix = (
            f"; {' or '.join(map(str, counts))} participants would balance it (same clips, rounds and seed)"
            if counts
            else "; no nearby participant count balances it: change --rounds or the number of clips"
        )
        balance = "no (" + ", ".join(flags) + ")" + fix
    lines = [
        f"{design.mode} study: {len(design.methods)} methods, {len(design.clips)} clips, "
        f"{len(design.participants)} participants, {per} trials each x {len(design.questions)} question(s)",
        "balanced: " + balance,
    ]
    return "\n".join(lines)


def design_to_json_text(design: StudyDesign) -> str:
    """``design.json`` text."""
    return json.dumps(design.to_json(), indent=2)
