"""The contract every metric follows: a pure function plus a streaming accumulator sharing private steps.

An accumulator is fed :class:`ScoreChunk` s in frame order (any chunk size), adds raw sums and counts in
``update``, and reduces once in ``compute``. Chunked accumulation must equal one call on the whole clip exactly,
and :meth:`Accumulator.merge` of per-worker accumulators must equal one accumulator over all the data.

Examples
--------
>>> value = MetricValue.nan("region 'affected' is empty in every frame")
>>> value.value != value.value, value.note
(True, "region 'affected' is empty in every frame")
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from void_eval.quadmask import Quadmask

Reference = Literal["counterfactual", "input", "output"]


@dataclass(frozen=True)
class MetricInfo:
    """Metadata the runner and the tables read.

    Attributes
    ----------
    name : str
        Metric name in result rows (``psnr``, ``ssim``, ``lpips``, ``ewarp``, ...).
    higher_is_better : bool
        Direction, shown as an arrow in tables.
    needs_ground_truth : bool
        True when the metric needs ``counterfactual.mp4``; the runner skips it (with a note) otherwise.
    value_range : tuple of float
        Possible values, ``(low, high)``; ``math.inf`` where unbounded.
    regions : tuple of str
        Quadmask regions it reports (see :mod:`void_eval.quadmask`), or ``("frame",)``.
    reference : {"counterfactual", "input", "output"}
        What the output is compared against (``output`` for no-reference metrics on the output alone).
    """

    name: str
    higher_is_better: bool
    needs_ground_truth: bool
    value_range: tuple[float, float]
    regions: tuple[str, ...]
    reference: Reference


@dataclass(frozen=True)
class MetricValue:
    """One reduced value with what was averaged and any caveat; NaN always carries a reason in ``note``."""

    value: float
    note: str = ""
    count: int = 0

    @classmethod
    def nan(cls, reason: str) -> MetricValue:
        return cls(value=math.nan, note=reason, count=0)


@dataclass(frozen=True)
class ScoreChunk:
    """Frames ``[start, start + T)`` of one clip, aligned across streams: all ``(T, H, W, 3)`` uint8."""

    start: int
    output: np.ndarray
    input: np.ndarray
    mask: Quadmask
    counterfactual: np.ndarray | None = None


@runtime_checkable
class Accumulator(Protocol):
    """Streaming form of a metric."""

    info: MetricInfo

    def update(self, chunk: ScoreChunk) -> None:
        """Add one chunk's raw sums and counts."""

    def merge(self, other: Accumulator) -> None:
        """Add another accumulator's sums (from another worker over other frames/clips)."""

    def compute(self) -> dict[str, MetricValue]:
        """Reduce once: region name -> value."""
