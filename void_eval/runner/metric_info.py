"""Metric metadata for the metrics a run reported, read from the metric registry's accumulators.

Each :class:`~void_eval.metrics.base.MetricInfo` is built by the metric's own accumulator (the tables read
``higher_is_better`` from it to draw arrows). A result row's metric name is matched to the registry entry of the
same name, else to the longest registry name it starts with (``motion_iou_st`` comes from ``motion_iou``'s
accumulator, which reports several scores sharing one direction). Names with no entry get ``None``.

Examples
--------
>>> registry_name_for("motion_iou_st", ["motion_iou", "psnr"])
'motion_iou'
>>> registry_name_for("psnr", ["motion_iou", "psnr"])
'psnr'
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("void_eval.runner")
_CACHE: dict[tuple[str, str], dict[str, Any]] = {}


def registry_name_for(metric: str, names: Sequence[str]) -> str | None:
    """The registry entry that reports result metric ``metric`` (exact name, else longest prefix + ``_``)."""
    if metric in names:
        return metric
    prefixes = [name for name in names if metric.startswith(name + "_")]
    return max(prefixes, key=len) if prefixes else None


def metric_infos(clip, metrics: Sequence[str], *, preset: str = "default") -> dict[str, dict[str, Any] | None]:
    """``{result metric name: MetricInfo fields as a dict, or None}`` for ``metrics`` (memoised per process;
    None where no accumulator could be built)."""
    from void_eval.metrics.registry import METRICS
    from void_eval.metrics.score import build_accumulator

    names = METRICS.names()
    infos: dict[str, dict[str, Any] | None] = {}
    for metric in metrics:
        entry = registry_name_for(metric, names)
        memo = (entry or metric, preset)
        if memo not in _CACHE:
            if entry is None:
                infos[metric] = None
                continue
            try:
                info = build_accumulator(entry, clip, preset=preset, device="cpu").info
            except Exception as err:  # recorded as unknown for this clip; retried on the next
                log.warning("no metric info for %s from %s: %s", metric, clip.path, err)
                infos[metric] = None
                continue
            _CACHE[memo] = {
                "higher_is_better": bool(info.higher_is_better),
                "needs_ground_truth": bool(info.needs_ground_truth),
                "value_range": [float(info.value_range[0]), float(info.value_range[1])],
                "reference": str(info.reference),
                "source": entry,
            }
        infos[metric] = _CACHE[memo]
    return infos
