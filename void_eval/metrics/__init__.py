"""Metrics: per-region fidelity, temporal consistency, physical plausibility and no-reference checks.

See :mod:`void_eval.metrics.base` for the contract every metric follows, :func:`score_clip` (in
:mod:`void_eval.metrics.score`, imported on first use) to score an output against its clip, and
:data:`void_eval.metrics.registry.METRICS` for the metric names.
"""

from __future__ import annotations

from typing import Any

__all__ = ["score_clip"]


def __getattr__(name: str) -> Any:
    if name == "score_clip":
        from void_eval.metrics.score import score_clip

        return score_clip
    raise AttributeError(f"module 'void_eval.metrics' has no attribute {name!r}")
