"""Physics-IQ motion IoU of the output against the counterfactual, inside the affected region.

Motion mask (Physics-IQ, Motamed et al. 2025), per video: grey (BT.601) -> Gaussian blur 5x5 (sigma from the
kernel size, OpenCV's ``sigma=0``) -> running-average background ``B_t = 0.7 B_{t-1} + 0.3 G_t`` (alpha 0.3,
``B_0 = G_0``, float32) -> ``|G_t - round(B_t)| > 10`` -> morphological opening then closing with a 5x5 square.
Frame 0 has no history and is not scored.

Scores, with ``M^o_t`` and ``M^c_t`` the output's and counterfactual's masks restricted to ``A_t`` (the affected
region, quadmask 63 or 127) and frames ``t >= 1`` where ``A_t`` is not empty:

- ``motion_iou`` (spatial IoU): IoU of ``OR_t M^o_t`` and ``OR_t M^c_t``; 1 when both are empty;
- ``motion_iou_st`` (spatiotemporal IoU): mean over frames of the IoU of ``M^o_t`` and ``M^c_t``, 1 for a frame
  where both are empty;
- ``motion_iou_weighted`` (weighted spatial IoU): ``sum min(m^o, m^c) / sum max(m^o, m^c)`` of the
  time-averaged masks ``m = mean_t M_t``; 1 when both are empty.

All in [0, 1], higher is better. The running average makes the masks depend on every earlier frame, so chunked
accumulation equals one call exactly, but two accumulators over halves of one clip cannot be merged (``merge``
refuses contiguous ranges of the same clip); merging accumulators of different clips pools their sums.

Examples
--------
>>> import numpy as np
>>> from void_eval.quadmask import Quadmask
>>> video = np.zeros((6, 32, 32, 3), np.uint8)
>>> for t in range(6):
...     video[t, 8:20, 2 + 3 * t : 14 + 3 * t] = 200
>>> result = motion_iou(video, video, Quadmask(np.full((6, 32, 32), 127, np.uint8)))
>>> [round(result[name].value, 3) for name in ("motion_iou", "motion_iou_st", "motion_iou_weighted")]
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

MOTION_METRICS: tuple[str, ...] = ("motion_iou", "motion_iou_st", "motion_iou_weighted")
_KERNEL = np.ones((5, 5), np.uint8)


class MotionMasker:
    """Physics-IQ motion masks of one video, frame by frame (state: the running-average background).

    Parameters
    ----------
    alpha : float, keyword-only
        Running-average weight of the new frame (0.3).
    threshold : int, keyword-only
        Grey-level difference above which a pixel moves (10).
    """

    def __init__(self, *, alpha: float = 0.3, threshold: int = 10) -> None:
        self.alpha = alpha
        self.threshold = threshold
        self.background: np.ndarray | None = None

    def __call__(self, frame: np.ndarray) -> np.ndarray | None:
        """Motion mask of the next ``(H, W, 3)`` uint8 frame; ``None`` for the first frame (no history)."""
        grey = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY), (5, 5), 0)
        if self.background is None:
            self.background = grey.astype(np.float32)
            return None
        cv2.accumulateWeighted(grey, self.background, self.alpha)
        difference = cv2.absdiff(grey, cv2.convertScaleAbs(self.background))
        moving = (difference > self.threshold).astype(np.uint8)
        moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, _KERNEL)
        moving = cv2.morphologyEx(moving, cv2.MORPH_CLOSE, _KERNEL)
        return moving.astype(bool)


class MotionIouAccumulator(Accumulator):
    """Streaming Physics-IQ motion IoUs (output vs counterfactual) in region ``affected``; see the module docstring.

    ``compute()`` returns the spatial IoU (``motion_iou``); ``compute_metrics()`` returns all three scores.
    """

    name = "motion_iou"
    reference = "counterfactual"
    needs_ground_truth = True
    #: Sums pooled over clips (a clip's own masks are folded in by :meth:`merge` first).
    state = (
        "frames_scored",
        "frame_iou_sum",
        "frames_missing",
        "spatial_intersection",
        "spatial_union",
        "clips_spatial",
        "weighted_min",
        "weighted_max",
    )

    def __init__(self, *, alpha: float = 0.3, threshold: int = 10) -> None:
        self.alpha = alpha
        self.threshold = threshold
        self._output_masker = MotionMasker(alpha=alpha, threshold=threshold)
        self._counterfactual_masker = MotionMasker(alpha=alpha, threshold=threshold)
        self.start: int | None = None
        self.end: int | None = None
        self.frames_scored = 0
        self.frame_iou_sum = ExactSum()
        self.frames_missing = 0
        # pooled over clips: spatial intersection/union counts, weighted min/max sums (in frames)
        self.spatial_intersection = 0
        self.spatial_union = 0
        self.clips_spatial = 0
        self.weighted_min = 0.0
        self.weighted_max = 0.0
        self._union_output: np.ndarray | None = None
        self._union_counterfactual: np.ndarray | None = None
        self._count_output: np.ndarray | None = None
        self._count_counterfactual: np.ndarray | None = None

    def update(self, chunk: ScoreChunk) -> None:
        """Advance both maskers over the chunk and add the affected-region scores."""
        if self.end is not None and chunk.start != self.end:
            raise ValueError(f"MotionIouAccumulator: expected frame {self.end}, got a chunk starting at {chunk.start}")
        if self.start is None:
            self.start = chunk.start
        self.end = chunk.start + len(chunk.output)
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        affected = chunk.region("affected_any")
        for index in range(len(chunk.output)):
            output_mask = self._output_masker(chunk.output[index])
            counterfactual_mask = self._counterfactual_masker(chunk.counterfactual[index])
            if output_mask is None or not affected[index].any():
                continue
            if self._union_output is None:
                shape = output_mask.shape
                self._union_output = np.zeros(shape, bool)
                self._union_counterfactual = np.zeros(shape, bool)
                self._count_output = np.zeros(shape, np.uint32)
                self._count_counterfactual = np.zeros(shape, np.uint32)
            output_mask &= affected[index]
            counterfactual_mask &= affected[index]
            union = int((output_mask | counterfactual_mask).sum())
            self.frame_iou_sum.add(1.0 if union == 0 else int((output_mask & counterfactual_mask).sum()) / union)
            self.frames_scored += 1
            self._union_output |= output_mask
            self._union_counterfactual |= counterfactual_mask
            self._count_output += output_mask
            self._count_counterfactual += counterfactual_mask

    def _clip_sums(self) -> tuple[int, int, float, float, int]:
        """This clip's spatial intersection/union and weighted min/max sums (time-averaged masks)."""
        if self._union_output is None:
            return 0, 0, 0.0, 0.0, 0
        intersection = int((self._union_output & self._union_counterfactual).sum())
        union = int((self._union_output | self._union_counterfactual).sum())
        frames = self.frames_scored
        low = float(np.minimum(self._count_output, self._count_counterfactual).sum()) / frames
        high = float(np.maximum(self._count_output, self._count_counterfactual).sum()) / frames
        return intersection, union, low, high, 1

    def settings(self) -> tuple:
        return (self.alpha, self.threshold)

    def merge(self, other: Accumulator) -> None:
        """Pool another clip's sums; refuses a contiguous time range (a running average cannot be split)."""
        self.check_mergeable(other)
        if self.end is not None and other.start is not None and (other.start == self.end or other.end == self.start):
            raise ValueError(
                "motion masks use a running average over every earlier frame: feed one clip's chunks to one "
                "accumulator in order instead of merging halves"
            )
        for accumulator in (self, other):  # each clip's spatial and weighted sums, from its own masks
            intersection, union, low, high, clips = accumulator._clip_sums()
            self.spatial_intersection += intersection
            self.spatial_union += union
            self.weighted_min += low
            self.weighted_max += high
            self.clips_spatial += clips
        self.merge_state(other)
        self._union_output = self._union_counterfactual = self._count_output = self._count_counterfactual = None

    def compute_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """All three scores: metric name -> ``{"affected": value}``."""
        if self.frames_missing:
            reason = MetricValue.nan("needs the counterfactual video")
            return {name: {"affected": reason} for name in MOTION_METRICS}
        if self.frames_scored == 0:
            reason = MetricValue.nan("no frame after the first has affected pixels")
            return {name: {"affected": reason} for name in MOTION_METRICS}
        intersection, union, low, high, _ = self._clip_sums()
        intersection += self.spatial_intersection
        union += self.spatial_union
        low += self.weighted_min
        high += self.weighted_max
        frames = self.frames_scored
        note = f"Physics-IQ motion masks of output vs counterfactual inside affected, {frames} frames"
        return {
            "motion_iou": {"affected": MetricValue(1.0 if union == 0 else intersection / union, note, frames)},
            "motion_iou_st": {"affected": MetricValue(self.frame_iou_sum.value / frames, note, frames)},
            "motion_iou_weighted": {"affected": MetricValue(1.0 if high == 0 else low / high, note, frames)},
        }

    def compute(self) -> dict[str, MetricValue]:
        """The spatial motion IoU, ``{"affected": value}``."""
        return self.compute_metrics()["motion_iou"]


def motion_iou(
    output: np.ndarray, counterfactual: np.ndarray, mask: Quadmask, *, alpha: float = 0.3, threshold: int = 10
) -> dict[str, MetricValue]:
    """The three motion IoUs of whole ``(T, H, W, 3)`` uint8 videos: metric name -> value."""
    accumulator = MotionIouAccumulator(alpha=alpha, threshold=threshold)
    output = np.asarray(output)
    accumulator.update(ScoreChunk(start=0, output=output, input=output, mask=mask, counterfactual=counterfactual))
    return {name: values["affected"] for name, values in accumulator.compute_metrics().items()}
