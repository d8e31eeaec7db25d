"""The rungs of the known-truth ladder and the pixel constructions of the rungs that need no re-rendering.

Every rung is an output video whose quality is known by construction, relative to the clip's counterfactual ``C``
(the perfect output) and input ``I`` (the worst: nothing removed):

==================  ========  ==========================================================================================
rung                truth     construction
==================  ========  ==========================================================================================
``counterfactual``  perfect   ``C`` itself
``delay_k``         partial   the counterfactual world re-rendered with the affected objects' poses replayed ``k``
                              frames late (:mod:`void_eval.suite.ladder.delay`); ``k`` = 2, 4, 8 by default, and a
                              longer delay is worse
``ghost``           partial   ``C``, with the affected region (quadmask 63 or 127) a 50/50 mix of ``C`` and ``I``
``half``            partial   ``C`` up to the middle of the interaction, ``I`` from there on (:func:`half_time`)
``shadow_30``       partial   ``C``, with the removed object's shadow (``shadow_mask.mp4``) left at 30% of its depth:
                              ``C + 0.3 (I - C)`` there
``frozen``          partial   ``C``, with every pixel that is ever in the remove or affected region held at ``C``'s
                              per-pixel temporal median (a frozen fill: right content, no motion); ``C`` itself
                              when no object moves in the counterfactual world (nothing to freeze)
``input``           worst     ``I`` itself
==================  ========  ==========================================================================================

Each rung declares what it degrades (:data:`ASPECTS`): ``objects``, the affected objects' motion (delays, frozen),
``shadow``, the removed object's shadow (``shadow_30``), or both (ghost, half, input). A metric of one aspect is
blind by design to a rung that degrades only the other (a trajectory metric to a residual shadow). A partial rung can
also coincide with ``C`` in a clip (a delay or frozen fill where nothing moves in the counterfactual world, a shadow
rung without a shadow): the ladder's manifest says so per rung, and such a rung is no partial case there.

Examples
--------
>>> import numpy as np
>>> counterfactual = np.zeros((4, 2, 2, 3), np.uint8); factual = np.full_like(counterfactual, 100)
>>> region = np.ones((4, 2, 2), bool)
>>> int(ghost(counterfactual, factual, region)[0, 0, 0, 0])
50
>>> int(residual_shadow(counterfactual, factual, region)[0, 0, 0, 0])
30
>>> [int(frame[0, 0, 0]) for frame in half_time(counterfactual, factual, 2)]
[0, 0, 100, 100]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Truth = Literal["perfect", "partial", "worst"]
#: Delays (frames) of the default ladder.
DEFAULT_DELAYS: tuple[int, ...] = (2, 4, 8)
#: Share of the input mixed into the affected region by ``ghost``.
GHOST_MIX = 0.5
#: Share of the shadow's depth left by ``shadow_30``.
SHADOW_DEPTH = 0.3


#: What a rung can degrade: the affected objects' motion, and the removed object's shadow.
ASPECTS: tuple[str, ...] = ("objects", "shadow")


@dataclass(frozen=True)
class Rung:
    """One rung: its name (also the video's file stem), its truth, the aspects it degrades and what it is."""

    name: str
    truth: Truth
    changes: frozenset[str]
    description: str


def delay_name(delay: int) -> str:
    """Rung name of a delay of ``delay`` frames (``delay_4``)."""
    return f"delay_{delay}"


def ladder_rungs(delays: Sequence[int] = DEFAULT_DELAYS) -> tuple[Rung, ...]:
    """The rungs in ladder order (perfect first, worst last) for the given delays (each >= 1, increasing)."""
    delays = tuple(int(delay) for delay in delays)
    if any(delay < 1 for delay in delays) or list(delays) != sorted(set(delays)):
        raise ValueError(f"delays must be increasing integers >= 1, got {delays}")
    both, objects, shadow = frozenset(ASPECTS), frozenset({"objects"}), frozenset({"shadow"})
    return (
        Rung("counterfactual", "perfect", frozenset(), "the counterfactual itself"),
        *(
            Rung(delay_name(delay), "partial", objects, f"affected objects' counterfactual poses {delay} frames late")
            for delay in delays
        ),
        Rung("ghost", "partial", both, f"affected region {1 - GHOST_MIX:.0%} counterfactual, {GHOST_MIX:.0%} input"),
        Rung("half", "partial", both, "counterfactual up to the middle of the interaction, input after"),
        Rung(
            f"shadow_{round(SHADOW_DEPTH * 100)}", "partial", shadow, f"removed object's shadow at {SHADOW_DEPTH:.0%}"
        ),
        Rung("frozen", "partial", objects, "remove and affected regions held at the counterfactual's temporal median"),
        Rung("input", "worst", both, "the input, nothing removed"),
    )


def _blend(counterfactual: np.ndarray, factual: np.ndarray, region: np.ndarray, share: float) -> np.ndarray:
    """``C`` with ``round(C + share (I - C))`` inside ``region`` ``(T, H, W)``."""
    out = counterfactual.copy()
    mixed = counterfactual[region].astype(np.float32) + share * (
        factual[region].astype(np.float32) - counterfactual[region]
    )
    out[region] = np.floor(mixed + 0.5).clip(0, 255).astype(np.uint8)
    return out


def ghost(
    counterfactual: np.ndarray, factual: np.ndarray, affected: np.ndarray, *, mix: float = GHOST_MIX
) -> np.ndarray:
    """``C`` with the ``affected`` pixels ``(T, H, W)`` a ``mix`` share of the input (rounded half up)."""
    return _blend(counterfactual, factual, affected, mix)


def residual_shadow(
    counterfactual: np.ndarray, factual: np.ndarray, shadow: np.ndarray, *, depth: float = SHADOW_DEPTH
) -> np.ndarray:
    """``C`` with the removed object's shadow pixels ``(T, H, W)`` at ``depth`` of the factual darkening."""
    return _blend(counterfactual, factual, shadow, depth)


def half_time(counterfactual: np.ndarray, factual: np.ndarray, switch: int) -> np.ndarray:
    """Frames ``[0, switch)`` of ``C`` followed by frames ``[switch, T)`` of ``I``."""
    if not 0 <= switch <= len(counterfactual):
        raise ValueError(f"switch frame must be in 0..{len(counterfactual)}, got {switch}")
    return np.concatenate([counterfactual[:switch], factual[switch:]])


def interaction_switch(affected: np.ndarray) -> int:
    """The middle of the frames in which the affected region ``(T, H, W)`` is not empty (``T // 2`` if never)."""
    frames = np.flatnonzero(affected.any(axis=(1, 2)))
    if len(frames) == 0:
        return len(affected) // 2
    return int((frames[0] + frames[-1] + 1) // 2)


def temporal_median(frames: np.ndarray) -> np.ndarray:
    """Per-pixel median along the first axis of uint8 frames ``(T, ...)`` (even counts: mean of the middle two,
    rounded half up)."""
    ordered = np.sort(frames, axis=0)
    count = len(frames)
    low = ordered[(count - 1) // 2].astype(np.uint16)
    high = ordered[count // 2]
    return ((low + high + 1) // 2).astype(np.uint8)


def frozen_fill(counterfactual: np.ndarray, held: np.ndarray) -> np.ndarray:
    """``C`` with the pixels of ``held`` ``(H, W)`` replaced in every frame by ``C``'s temporal median."""
    out = counterfactual.copy()
    out[:, held] = temporal_median(counterfactual[:, held])
    return out
