"""The card's headline figures and their uncertainty: percentile intervals of a cluster bootstrap.

The headline (:func:`headline`) is what :data:`~forensics.detectors.card.TARGETS` judges: video and pixel AUC
pooled over left-out generators (every generator in training when no generator was left out), the same pooled over
the copy generators and with the copy kind left out whole, and the share of untouched videos flagged. The values
equal those of the card's per-generator rows (:func:`~forensics.detectors.figures.summarise` and
:func:`~forensics.detectors.figures.pool_generators`), computed here on plain arrays so they can be recomputed a
thousand times.

The videos and frames of one clip (all its generators and degradations) show the same footage, and clips cut from
one source share scenery: they are not independent draws. The bootstrap therefore resamples whole *units*, the
footage source when an evaluation holds at least :data:`MIN_SOURCES` sources, else the clip, and gives no interval
below :data:`MIN_UNITS` units. With a handful of units the interval is itself rough, and clips cut from one source
understate how much another source could differ: the result records the unit and how many there were.

A figure every draw repeats at a boundary (no untouched video flagged in any draw, a perfect AUC) says nothing
about how close to the boundary the truth is; its interval is then the exact one-sided bound for a rate over the
units (Clopper-Pearson with no exception among ``n`` units: up to ``1 - ((1 - level) / 2) ** (1 / n)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from forensics.detectors.dataset import UNTOUCHED
from forensics.detectors.generators import GENERATOR_KINDS
from forensics.detectors.localisation import binary_auc
from forensics.detectors.validation import left_out

#: The kind of generators that copy pixels of the same frame.
COPY_KIND = "copy"
#: Fewest footage sources for the bootstrap to resample sources rather than clips.
MIN_SOURCES = 8
#: Fewest units for any interval at all.
MIN_UNITS = 5
#: Bootstrap rounds and the interval's coverage.
ROUNDS = 1000
LEVEL = 0.95

Rows = dict[str | None, np.ndarray]


class _Tables:
    """The frame and video tables of each evaluation entry as arrays, with the rows of each resampling unit."""

    def __init__(
        self,
        frames: Mapping[str | None, pd.DataFrame],
        videos: Mapping[str | None, pd.DataFrame],
        unit_of_clip: dict[str, str],
        units: list[str],
    ) -> None:
        index = {unit: number for number, unit in enumerate(units)}
        self.frames: dict = {}
        self.videos: dict = {}
        self.frame_rows: dict = {}
        self.video_rows: dict = {}
        for entry in videos:
            video, frame = videos[entry], frames[entry]
            self.videos[entry] = {
                "score": video["video_score"].to_numpy(np.float64),
                "processed": video["processed"].to_numpy(bool),
                "generator": video["generator"].to_numpy(str),
                "flagged": video["flagged"].to_numpy(bool),
            }
            positive = (frame["positives"].to_numpy() > 0) & (frame["generator"].to_numpy(str) != UNTOUCHED)
            self.frames[entry] = {
                "auc": frame["pixel_auc"].to_numpy(np.float64)[positive],
                "generator": frame["generator"].to_numpy(str)[positive],
            }
            video_units = np.array([index[unit_of_clip[clip]] for clip in video["clip"]], np.int64)
            frame_units = np.array([index[unit_of_clip[clip]] for clip in frame["clip"]], np.int64)[positive]
            self.video_rows[entry] = [np.flatnonzero(video_units == n) for n in range(len(units))]
            self.frame_rows[entry] = [np.flatnonzero(frame_units == n) for n in range(len(units))]

    def rows(self, draw: np.ndarray | None) -> tuple[Rows, Rows]:
        """Row indices of each entry's frames and videos for a draw of units (None: every row once)."""

        def pick(per_unit: list[np.ndarray]) -> np.ndarray:
            chosen = range(len(per_unit)) if draw is None else draw
            return np.concatenate([per_unit[n] for n in chosen]) if len(per_unit) else np.zeros(0, np.int64)

        frames = {entry: pick(per_unit) for entry, per_unit in self.frame_rows.items()}
        return frames, {entry: pick(per_unit) for entry, per_unit in self.video_rows.items()}


def _generator_figures(
    tables: _Tables, entry: str | None, rows: tuple[Rows, Rows], generators: set[str] | None
) -> tuple[float, float, int]:
    """``(video AUC, mean pixel AUC, positive frames)`` of ``generators`` (None: all) against the untouched."""
    frame, video = tables.frames[entry], tables.videos[entry]
    frame_rows, video_rows = rows[0][entry], rows[1][entry]
    processed = video["processed"][video_rows]
    if generators is None:
        chosen = np.ones(len(video_rows), bool)
        frames = frame_rows
    else:
        chosen = ~processed | np.isin(video["generator"][video_rows], sorted(generators))
        frames = frame_rows[np.isin(frame["generator"][frame_rows], sorted(generators))]
    labels, scores = processed[chosen], video["score"][video_rows][chosen]
    video_auc = binary_auc(scores, labels) if labels.any() else math.nan
    aucs = frame["auc"][frames]
    aucs = aucs[np.isfinite(aucs)]
    return video_auc, float(aucs.mean()) if len(aucs) else math.nan, len(frames)


def _pool(figures: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Plain mean of the video AUCs, frame-weighted mean of the pixel AUCs (as ``pool_generators``)."""
    video = np.array([item[0] for item in figures], np.float64)
    pixel = np.array([item[1] for item in figures], np.float64)
    weights = np.array([item[2] for item in figures], np.float64)
    finite = np.isfinite(pixel) & (weights > 0)
    video_mean = float(video[np.isfinite(video)].mean()) if np.isfinite(video).any() else math.nan
    return video_mean, float(np.average(pixel[finite], weights=weights[finite])) if finite.any() else math.nan


def _values(tables: _Tables, rows: tuple[Rows, Rows]) -> dict[str, float]:
    singles = [entry for entry in tables.videos if entry is not None and len(left_out(entry)) == 1]
    scored = sorted(entry for entry in singles if entry in tables.videos[entry]["generator"])
    logo = {entry: _generator_figures(tables, entry, rows, {entry}) for entry in scored}
    if logo:
        video_auc, pixel_auc = _pool(list(logo.values()))
    else:
        video_auc, pixel_auc = _generator_figures(tables, None, rows, None)[:2]
    untouched = rows[1][None][~tables.videos[None]["processed"][rows[1][None]]]
    flagged = tables.videos[None]["flagged"][untouched]
    values = {
        "video_auc": video_auc,
        "pixel_auc": pixel_auc,
        "untouched_flagged": float(flagged.mean()) if len(flagged) else math.nan,
    }
    copies = [item for entry, item in logo.items() if GENERATOR_KINDS.get(entry) == COPY_KIND]
    values["copy_video_auc"], values["copy_pixel_auc"] = _pool(copies) if copies else (math.nan, math.nan)
    whole = _generator_figures(tables, COPY_KIND, rows, None) if COPY_KIND in tables.videos else (math.nan,) * 2
    values["copy_video_auc_kind_out"], values["copy_pixel_auc_kind_out"] = whole[:2]
    return values


def _units(videos: pd.DataFrame) -> tuple[dict[str, str], str]:
    """Each clip's resampling unit and the unit's name (``source`` with enough sources, else ``clip``)."""
    if "group" in videos:
        pairs = videos[["clip", "group"]].drop_duplicates()
        if pairs["group"].nunique() >= MIN_SOURCES:
            return dict(zip(pairs["clip"], pairs["group"], strict=True)), "source"
    return {clip: clip for clip in videos["clip"].unique()}, "clip"


def _interval(draws: list[float], value: float, units: int, level: float) -> list[float] | None:
    """Percentile interval of the finite draws; None when fewer than half are finite; at a boundary that every
    draw repeats, the exact one-sided bound over the units (module notes)."""
    finite = np.array([draw for draw in draws if np.isfinite(draw)], np.float64)
    if len(finite) < len(draws) / 2 or not np.isfinite(value):
        return None
    tail = (1 - level) / 2
    low, high = (float(bound) for bound in np.percentile(finite, [100 * tail, 100 * (1 - tail)]))
    if low == high == value and value in (0.0, 1.0):
        reach = 1 - tail ** (1 / units)
        return [0.0, reach] if value == 0.0 else [1 - reach, 1.0]
    return [low, high]


def headline(
    frames: Mapping[str | None, pd.DataFrame],
    videos: Mapping[str | None, pd.DataFrame],
    *,
    rounds: int = ROUNDS,
    level: float = LEVEL,
    seed: int = 0,
) -> dict[str, Any]:
    """The headline figures of an evaluation with their cluster-bootstrap intervals (see the module notes).

    Parameters
    ----------
    frames, videos : mapping
        Evaluation entry -> its frame and video tables (:func:`~forensics.detectors.validation.score_tables`
        columns): None for the models with every generator in training, a generator's or a kind's name for the
        models fitted without it (scored on its videos and the untouched ones).
    rounds : int, keyword-only
        Bootstrap rounds.
    level : float, keyword-only
        Coverage of each interval.
    seed : int, keyword-only
        Seed of the draws.

    Returns
    -------
    dict
        ``figures`` (name -> ``{"value", "interval"}``, None where not computable), ``level``, ``rounds``,
        ``unit`` (``source`` or ``clip``), ``units`` and ``note`` (why there are no intervals, else empty).

    Examples
    --------
    >>> import pandas as pd
    >>> videos = pd.DataFrame({"clip": ["a", "b", "c", "d", "e"] * 2, "generator": ["untouched"] * 5 + ["telea"] * 5,
    ...     "processed": [False] * 5 + [True] * 5, "video_score": [0.1, 0.2, 0.6, 0.3, 0.2, 0.9, 0.8, 0.7, 0.4, 0.9]})
    >>> videos["flagged"] = videos["video_score"] >= 0.5
    >>> frames = pd.DataFrame({"clip": list("abcde"), "generator": ["telea"] * 5, "positives": [5] * 5,
    ...     "pixel_auc": [0.9, 0.7, 0.8, 0.6, 0.9]})
    >>> result = headline({None: frames}, {None: videos}, rounds=200)
    >>> result["figures"]["video_auc"]["value"], result["figures"]["untouched_flagged"]["value"]
    (0.96, 0.2)
    >>> result["unit"], result["units"], [round(bound, 2) for bound in result["figures"]["video_auc"]["interval"]]
    ('clip', 5, [0.84, 1.0])
    """
    if rounds < 1 or not 0 < level < 1:
        raise ValueError(f"rounds must be >= 1 and level in (0, 1), got {rounds}, {level}")
    unit_of_clip, unit = _units(videos[None])
    units = sorted(set(unit_of_clip.values()))
    tables = _Tables(frames, videos, unit_of_clip, units)
    values = _values(tables, tables.rows(None))
    intervals: dict[str, list[float] | None] = dict.fromkeys(values)
    note = f"fewer than {MIN_UNITS} {unit}s: no intervals" if len(units) < MIN_UNITS else ""
    if not note:
        rng = np.random.default_rng([seed, 11])
        draws = [_values(tables, tables.rows(rng.integers(len(units), size=len(units)))) for _ in range(rounds)]
        intervals = {name: _interval([d[name] for d in draws], values[name], len(units), level) for name in values}
    figures = {
        name: {"value": float(value) if np.isfinite(value) else None, "interval": intervals[name]}
        for name, value in values.items()
    }
    return {"figures": figures, "level": level, "rounds": rounds, "unit": unit, "units": len(units), "note": note}


def headline_lines(document: dict) -> list[str]:
    """The headline figures of ``headline.json`` as text lines, each value with its interval (figures that could
    not be computed, e.g. copy fills when no copy generator ran, are left out).

    Examples
    --------
    >>> document = {"figures": {"video_auc": {"value": 0.8, "interval": [0.61, 0.93]},
    ...     "pixel_auc": {"value": 0.7, "interval": None}, "copy_video_auc": {"value": None, "interval": None}},
    ...     "level": 0.95, "rounds": 1000, "unit": "clip", "units": 6, "note": ""}
    >>> print("\\n".join(headline_lines(document)))
    headline (95% intervals: 1000-round bootstrap over 6 clips)
      video_auc                 0.800  [0.610, 0.930]
      pixel_auc                 0.700  [no interval]
    """
    if document["note"]:
        lines = [f"headline ({document['note']})"]
    else:
        level, units = round(100 * document["level"]), f"{document['units']} {document['unit']}s"
        lines = [f"headline ({level}% intervals: {document['rounds']}-round bootstrap over {units})"]
    for name, figure in document["figures"].items():
        if figure["value"] is not None:
            interval = figure["interval"]
            shown = "[no interval]" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"
            lines.append(f"  {name:24} {figure['value']:6.3f}  {shown}")
    return lines
