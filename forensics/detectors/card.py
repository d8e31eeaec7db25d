"""The model card's figures: cross-validation and held-out footage tables turned into JSON-ready records.

Every figure in the card comes from footage the scoring models never saw: out-of-fold scores of the grouped
cross-validation (:func:`forensics.detectors.validation.cross_validate`) and scores of *held-out footage* (clips
cut from videos no training clip comes from). ``leave_one_generator_out`` rows score each generator with models
fitted without it; their ``pooled`` row (:func:`forensics.detectors.figures.pool_generators`) is the headline.
``leave_one_kind_out`` rows leave out every generator of a kind at once (both copy fills, all smooth fills): the
stricter test for a kind of fill no training example showed. :func:`targets` sets the headline
(:func:`forensics.detectors.intervals.headline`) against the targets the detector is held to (:data:`TARGETS`;
copy fills: the left-out copy generators pooled), each with its 95% cluster-bootstrap interval: a target is *met*
when its value is, and the interval says how far chance alone could move it.

Examples
--------
>>> targets({"video_auc": 0.8, "copy_pixel_auc_kind_out": 0.5}, {"video_auc": [0.7, 0.9]})
{'video_auc': {'value': 0.8, 'interval': [0.7, 0.9], 'target': '>= 0.85', 'met': False}, \
'copy_pixel_auc_kind_out': {'value': 0.5}}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from forensics.detectors.figures import pool_generators, summarise
from forensics.detectors.intervals import headline
from forensics.detectors.validation import left_out

#: The targets: pooled over left-out generators, on copy fills, and untouched footage flagged.
TARGETS: dict[str, tuple[str, float]] = {
    "video_auc": (">=", 0.85),
    "pixel_auc": (">=", 0.85),
    "copy_video_auc": (">=", 0.75),
    "copy_pixel_auc": (">=", 0.75),
    "untouched_flagged": ("<=", 0.05),
}


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready records (NaN as None)."""
    clean = table.astype(object).where(pd.notna(table), None)
    return clean.to_dict(orient="records")


def _all_row(summary: pd.DataFrame, generator: str) -> dict[str, Any]:
    chosen = summary[(summary["generator"] == generator) & (summary["degradation"] == "all")]
    return chosen.iloc[0].to_dict() if len(chosen) else {}


def logo_rows(frames: dict, videos: dict) -> list[dict[str, Any]]:
    """One row per left-out generator (its ``degradation == "all"`` figures) and a ``pooled`` row."""
    rows = []
    for entry in sorted(key for key in frames if key is not None and len(left_out(key)) == 1):
        row = _all_row(summarise(frames[entry], videos[entry]), entry)
        if row:
            row["held_out_generator"] = row.pop("generator")
            rows.append(row)
    if not rows:
        return []
    pooled = pool_generators(pd.DataFrame(rows))
    return _records(pd.DataFrame([*rows, {**pooled, "held_out_generator": "pooled", "degradation": "all"}]))


def kind_rows(frames: dict, videos: dict) -> list[dict[str, Any]]:
    """One row per left-out kind of generator: its generators' videos against the untouched ones (``all`` row)."""
    rows = []
    for entry in sorted(key for key in frames if key is not None and len(left_out(key)) > 1):
        row = _all_row(summarise(frames[entry], videos[entry]), "all")
        if row:
            row.pop("generator")
            rows.append({"held_out_kind": entry, "generators": sorted(left_out(entry)), **row})
    return _records(pd.DataFrame(rows)) if rows else []


def by_source(frames: pd.DataFrame, videos: pd.DataFrame, sources: dict[str, str]) -> list[dict[str, Any]]:
    """``degradation == "all"`` summary rows per source kind (clip name -> kind in ``sources``)."""
    rows = []
    for source in sorted(set(sources.values())):
        names = {name for name, kind in sources.items() if kind == source}
        chosen = videos["clip"].isin(names)
        if not chosen.any():
            continue
        summary = summarise(frames[frames["clip"].isin(names)], videos[chosen])
        rows.extend(_records(summary[summary["degradation"] == "all"].assign(source=source)))
    return rows


def figures_block(frames: dict, videos: dict, sources: dict[str, str]) -> dict[str, Any]:
    """The card section of one evaluation: ``summary`` (all generators in training), ``by_source``,
    ``leave_one_generator_out`` (with its pooled row), ``leave_one_kind_out``, ``targets`` (with intervals) and
    ``intervals`` (how they were drawn: level, rounds, the unit resampled, how many units, a note when none)."""
    summary = summarise(frames[None], videos[None])
    logo = logo_rows(frames, videos)
    kinds = kind_rows(frames, videos)
    drawn = headline(frames, videos)
    figures = drawn.pop("figures")
    untouched = ~videos[None]["processed"].astype(bool)
    return {
        "summary": _records(summary),
        "by_source": by_source(frames[None], videos[None], sources),
        "leave_one_generator_out": logo,
        "leave_one_kind_out": kinds,
        "targets": targets(
            {name: figure["value"] for name, figure in figures.items()},
            {name: figure["interval"] for name, figure in figures.items()},
        ),
        "intervals": drawn,
        "untouched_videos": int(untouched.sum()),
        "videos_per_generator": {
            str(name): int(count) for name, count in videos[None]["generator"].value_counts().sort_index().items()
        },
    }


def targets(
    values: dict[str, Any], intervals: dict[str, list[float] | None] | None = None
) -> dict[str, dict[str, Any]]:
    """Each target (:data:`TARGETS`) with its value, its interval (where ``intervals`` holds one) and whether it is
    met; other values are listed as they are."""
    out = {}
    for name, value in values.items():
        known = value is not None and bool(np.isfinite(value))
        entry: dict[str, Any] = {"value": float(value) if known else None}
        if intervals and intervals.get(name) is not None:
            entry["interval"] = [float(bound) for bound in intervals[name]]
        if name in TARGETS:
            sign, bound = TARGETS[name]
            entry["target"] = f"{sign} {bound}"
            entry["met"] = bool(known and (value >= bound if sign == ">=" else value <= bound))
        out[name] = entry
    return out
