"""Screen orders of a study design, drawn from the design's one random Generator: each participant's main screens
(pairwise or best-of-N, see :mod:`studies.design` for the balance rules), then the attention checks inserted
among them. The draws happen in a fixed order, so the same seed gives the same screens.

A screen is ``(clip, options, check, source)``: ``check`` is ``""``, ``"copy-input"`` or ``"repeat"``, and
``source`` is, for a repeat, the index its original screen had when the repeat was inserted.
"""

from __future__ import annotations

import itertools

import numpy as np

from studies.responses import COPY_INPUT

#: One main screen: clip and methods in screen order.
MainScreen = tuple[str, tuple[str, ...]]
#: One screen of a packet: clip, options, check kind and (for a repeat) the source screen's index at insertion.
Screen = tuple[str, tuple[str, ...], str, int | None]


def main_screens(
    mode: str,
    methods: tuple[str, ...],
    clip_order: list[str],
    codes: tuple[str, ...],
    rounds: int,
    rng: np.random.Generator,
) -> dict[str, list[MainScreen]]:
    """Each participant's main screens before shuffling (pairwise draws the pair sides, best-of-n the Latin
    square's column order)."""
    main: dict[str, list[MainScreen]] = {}
    if mode == "pairwise":
        pairs = list(itertools.combinations(methods, 2))
        pair_flip = rng.integers(0, 2, size=len(pairs))
        for p, code in enumerate(codes):
            items = []
            for j, (a, b) in enumerate(pairs):
                for k in range(rounds):
                    clip = clip_order[(p * rounds + k + j) % len(clip_order)]
                    flip = (pair_flip[j] + p + k) % 2
                    items.append((clip, (b, a) if flip else (a, b)))
            main[code] = items
    else:
        column_order = [methods[i] for i in rng.permutation(len(methods))]
        for p, code in enumerate(codes):
            items = []
            for t, clip in enumerate(c for _ in range(rounds) for c in clip_order):
                shift = (p + t) % len(methods)
                items.append((clip, tuple(column_order[(i + shift) % len(methods)] for i in range(len(methods)))))
            main[code] = items
    return main


def participant_screens(
    p: int,
    main: list[MainScreen],
    *,
    mode: str,
    methods: tuple[str, ...],
    clips: tuple[str, ...],
    copy_input_checks: int,
    repeat_checks: int,
    rng: np.random.Generator,
) -> list[Screen]:
    """Participant ``p``'s packet: the main screens shuffled, then copy-input checks, then repeats inserted."""
    items = [main[i] for i in rng.permutation(len(main))]
    screens: list[Screen] = [(c, o, "", None) for c, o in items]
    _insert_copy_input_checks(screens, p, mode, methods, clips, copy_input_checks, rng)
    _insert_repeat_checks(screens, repeat_checks, rng)
    return screens


def _insert_copy_input_checks(
    screens: list[Screen],
    p: int,
    mode: str,
    methods: tuple[str, ...],
    clips: tuple[str, ...],
    copy_input_checks: int,
    rng: np.random.Generator,
) -> None:
    """Insert the copy-input checks (random clip, rival or screen order, and position) in place."""
    for check in range(copy_input_checks):
        clip = clips[int(rng.integers(len(clips)))]
        if mode == "pairwise":
            rival = methods[(p * copy_input_checks + check) % len(methods)]
            options = (COPY_INPUT, rival) if rng.integers(2) else (rival, COPY_INPUT)
        else:
            options = list(methods)
            rng.shuffle(options)
            options.insert(int(rng.integers(len(options) + 1)), COPY_INPUT)
            options = tuple(options)
        position = int(rng.integers(1, len(screens) + 1))
        screens.insert(position, (clip, options, COPY_INPUT, None))


def _insert_repeat_checks(screens: list[Screen], repeat_checks: int, rng: np.random.Generator) -> None:
    """Insert the repeat checks in place: a random earlier non-check screen, reversed, at least two screens later."""
    for _ in range(repeat_checks):
        originals = [i for i, screen in enumerate(screens) if not screen[2]]
        if not originals:
            break
        source = originals[int(rng.integers(len(originals)))]
        later = min(source + 2, len(screens))
        position = int(rng.integers(later, len(screens) + 1))
        clip, options, _, _ = screens[source]
        screens.insert(position, (clip, tuple(reversed(options)), "repeat", source))
