"""The model card's figures: cross-validation and held-out footage tables turned into JSON-ready records.

Every figure in the card comes from footage the scoring models never saw: out-of-fold scores of the grouped
cross-validation (:func:`forensics.detectors.validation.cross_validate`) and scores of *held-out footage* (clips
cut from videos no training clip comes from). ``leave_one_generator_out`` rows score each generator with models
fitted without it; their ``pooled`` row (:func:`forensics.detectors.figures.pool_generators`) is the headline.
:func:`targets` sets the headline against the targets the detector is held to (:data:`TARGETS`).

Examples
--------
>>> targets({"pixel_auc": 0.9, "video_auc": 0.8, "untouched_flagged": 0.02}, {"pixel_auc": 0.7, "video_auc": 0.9})
... # doctest: +NORMALIZE_WHITESPACE
{'video_auc': {'target': '>= 0.85', 'value': 0.8, 'met': False}, 'pixel_auc': {'target': '>= 0.85', 'value': 0.9,
 'met': True}, 'copy_video_auc': {'target': '>= 0.75', 'value': 0.9, 'met': True}, 'copy_pixel_auc': {'target':
 '>= 0.75', 'value': 0.7, 'met': False}, 'untouched_flagged': {'target': '<= 0.05', 'value': 0.02, 'met': True}}
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from forensics.detectors.dataset import UNTOUCHED
from forensics.detectors.figures import pool_generators, summarise

#: The targets: pooled over left-out generators, on copy fills, and untouched footage flagged.
TARGETS: dict[str, tuple[str, float]] = {
    "video_auc": (">=", 0.85),
    "pixel_auc": (">=", 0.85),
    "copy_video_auc": (">=", 0.75),
    "copy_pixel_auc": (">=", 0.75),
    "untouched_flagged": ("<=", 0.05),
}
#: The generator that copies pixels of the same frame.
COPY_GENERATOR = "patch"


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
    for entry in sorted(key for key in frames if key is not None):
        row = _all_row(summarise(frames[entry], videos[entry]), entry)
        if row:
            row["held_out_generator"] = row.pop("generator")
            rows.append(row)
    if not rows:
        return []
    pooled = pool_generators(pd.DataFrame(rows))
    return _records(pd.DataFrame([*rows, {**pooled, "held_out_generator": "pooled", "degradation": "all"}]))


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
    ``leave_one_generator_out`` (with its pooled row) and ``targets``."""
    summary = summarise(frames[None], videos[None])
    logo = logo_rows(frames, videos)
    pooled = next((row for row in logo if row["held_out_generator"] == "pooled"), None)
    copy = next((row for row in logo if row["held_out_generator"] == COPY_GENERATOR), {})
    headline = dict(pooled or _all_row(summary, "all"))
    headline["untouched_flagged"] = _all_row(summary, "all").get("untouched_flagged", math.nan)
    return {
        "summary": _records(summary),
        "by_source": by_source(frames[None], videos[None], sources),
        "leave_one_generator_out": logo,
        "targets": targets(headline, copy),
        "untouched_videos": int((~videos[None]["processed"].astype(bool)).sum()),
        "videos_per_generator": {
            str(name): int(count) for name, count in videos[None]["generator"].value_counts().sort_index().items()
        },
    }


def targets(headline: dict[str, Any], copy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its value (pooled left-out-generator figures; copy = the patch generator left out)."""
    values = {
        "video_auc": headline.get("video_auc"),
        "pixel_auc": headline.get("pixel_auc"),
        "copy_video_auc": copy.get("video_auc"),
        "copy_pixel_auc": copy.get("pixel_auc"),
        "untouched_flagged": headline.get("untouched_flagged"),
    }
    out = {}
    for name, (sign, bound) in TARGETS.items():
        value = values[name]
        known = value is not None and np.isfinite(value)
        met = bool(known and (value >= bound if sign == ">=" else value <= bound))
        out[name] = {"target": f"{sign} {bound}", "value": float(value) if known else None, "met": met}
    return out


def untouched_only(videos: pd.DataFrame) -> pd.DataFrame:
    """The untouched rows of a video table."""
    return videos[videos["generator"] == UNTOUCHED]
