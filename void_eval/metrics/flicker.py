"""Temporal flicker, VBench's formula: ``(255 - mean |F_t - F_{t+1}|) / 255``, 1 = perfectly steady.

Definition (VBench ``temporal_flickering``): for each consecutive pair of uint8 RGB frames, the mean absolute
difference over pixels and channels; the score is ``(255 - m) / 255`` with ``m`` the mean of those per-pair means
over the ``T - 1`` pairs. Region ``frame`` is exactly that. Region ``remove`` takes each pair's mean over the pixels
that are ``remove_any`` (0 or 63) in frame ``t`` **or** ``t+1`` (the fill moves with the object), then averages the
per-pair means over the pairs where that union is not empty. Range [0, 1], higher is better. VBench's score applies
to a video without a static-content check: a frozen output scores 1.

Examples
--------
>>> import numpy as np
>>> video = np.zeros((3, 4, 4, 3), np.uint8)
>>> video[1] = 51  # one jump of 51 then back: per-pair means 51, 51
>>> flicker_score(video)["frame"].value
0.8
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics._temporal import PackedArray, PairAccumulator
from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

FLICKER_REGIONS: tuple[str, ...] = ("frame", "remove")


@dataclass
class _FrameState:
    frame: np.ndarray
    remove: np.ndarray | None


class FlickerAccumulator(PairAccumulator):
    """Streaming VBench flicker of the output over regions ``frame`` and ``remove`` (see the module docstring).

    Parameters
    ----------
    regions : tuple of str, keyword-only
        Subset of ``("frame", "remove")``.
    """

    name = "flicker"
    state = ("_sum_of_means", "_pairs_counted")

    def __init__(self, *, regions: tuple[str, ...] = FLICKER_REGIONS) -> None:
        super().__init__()
        unknown = set(regions) - set(FLICKER_REGIONS)
        if unknown:
            raise ValueError(f"flicker regions must be among {FLICKER_REGIONS}, got {sorted(unknown)}")
        self.regions = tuple(regions)
        self._sum_of_means = {name: ExactSum() for name in self.regions}
        self._pairs_counted = dict.fromkeys(self.regions, 0)

    def settings(self) -> tuple:
        return self.regions

    def _frame_state(self, chunk: ScoreChunk, index: int) -> _FrameState:
        remove = chunk.region("remove_any")[index].copy() if "remove" in self.regions else None
        # a copy, not a view: a view would keep the whole decoded chunk alive between chunks
        return _FrameState(frame=chunk.output[index].copy(), remove=remove)

    def _pack_state(self, state: _FrameState) -> tuple[PackedArray, PackedArray | None]:
        return PackedArray.pack(state.frame), None if state.remove is None else PackedArray.pack(state.remove)

    def _unpack_state(self, packed: tuple[PackedArray, PackedArray | None]) -> _FrameState:
        frame, remove = packed
        return _FrameState(frame=frame.unpack(), remove=None if remove is None else remove.unpack())

    def _add_pair(self, previous: _FrameState, current: _FrameState) -> None:
        difference = cv2.absdiff(previous.frame, current.frame)  # uint8 |a - b|, no wider copies
        for name in self.regions:
            if name == "frame":
                self._sum_of_means[name].add(difference.mean(dtype=np.float64))
                self._pairs_counted[name] += 1
                continue
            union = previous.remove | current.remove
            pixels = int(union.sum())
            if pixels:
                self._sum_of_means[name].add(float(difference[union].sum(dtype=np.float64)) / (3 * pixels))
                self._pairs_counted[name] += 1

    def compute(self) -> dict[str, MetricValue]:
        """Region -> flicker score; NaN with a reason for fewer than 2 frames or an empty region."""
        results = {}
        for name in self.regions:
            counted = self._pairs_counted[name]
            if self.pairs == 0:
                results[name] = MetricValue.nan("flicker needs at least 2 frames")
            elif counted == 0:
                results[name] = MetricValue.nan(f"region '{name}' is empty in every frame pair")
            else:
                mean_difference = self._sum_of_means[name].value / counted
                note = (
                    f"VBench (255 - mean|F_t - F_t+1|)/255; mean abs difference {mean_difference:.4g} "
                    f"over {counted} pairs"
                )
                results[name] = MetricValue(value=(255.0 - mean_difference) / 255.0, note=note, count=counted)
        return results


def flicker_score(video: np.ndarray, mask: Quadmask | None = None) -> dict[str, MetricValue]:
    """Flicker of a whole ``(T, H, W, 3)`` uint8 video in one call; region ``remove`` too when ``mask`` is given."""
    video = np.asarray(video)
    regions = FLICKER_REGIONS if mask is not None else ("frame",)
    accumulator = FlickerAccumulator(regions=regions)
    levels = mask if mask is not None else Quadmask(np.full(video.shape[:3], 255, np.uint8))
    accumulator.update(ScoreChunk(start=0, output=video, input=video, mask=levels))
    return accumulator.compute()
