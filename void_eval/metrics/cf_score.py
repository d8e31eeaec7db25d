"""Counterfactual score: does the affected region behave as if the removed object had never existed?

Definition. For frame ``t`` let ``A_t`` be the affected region (quadmask 63 or 127) and ``d(x, y)`` the mean
squared error over the pixels of ``A_t`` and the 3 channels of uint8 RGB frames. With ``O`` the output, ``I`` the
input (the factual video) and ``C`` the counterfactual,

``s_t = d(O_t, I_t) / (d(O_t, I_t) + d(O_t, C_t))``

and ``cf_score`` is the mean of ``s_t`` over the frames where ``A_t`` is not empty and the input and counterfactual
actually differ there, ``d(I_t, C_t) >= min_mse`` (default 9, an RMS difference of 3 grey levels, above h264 noise).
1 = the output matches the counterfactual (the object's interactions were undone), 0 = it matches the input (they
were left in place), 0.5 = halfway or equally far from both. Range [0, 1], higher is better. NaN with a reason when
no frame qualifies or there is no counterfactual.

Examples
--------
>>> import numpy as np
>>> from void_eval.quadmask import Quadmask
>>> factual = np.zeros((2, 4, 4, 3), np.uint8); counterfactual = np.full_like(factual, 100)
>>> mask = Quadmask(np.full((2, 4, 4), 127, np.uint8))
>>> as_if_never_there = cf_score(counterfactual, factual, counterfactual, mask).value
>>> left_in_place = cf_score(factual, factual, counterfactual, mask).value
>>> as_if_never_there, left_in_place
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask


def _region_mse(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    """Mean squared difference over the region's pixels and 3 channels (exact integer sum of squares)."""
    difference = a[region].astype(np.int32) - b[region]
    return int(np.einsum("ij,ij->", difference, difference, dtype=np.int64)) / difference.size


class CfScoreAccumulator(Accumulator):
    """Streaming ``cf_score`` in region ``affected`` (see the module docstring).

    Parameters
    ----------
    min_mse : float, keyword-only
        Frames whose input and counterfactual differ less than this (MSE in 8-bit units over ``A_t``) are skipped.
    """

    name = "cf_score"
    reference = "counterfactual"
    needs_ground_truth = True
    state = ("score_sum", "frames_counted", "frames_empty", "frames_alike", "frames_missing")

    def __init__(self, *, min_mse: float = 9.0) -> None:
        if not min_mse >= 0:
            raise ValueError(f"min_mse must be >= 0, got {min_mse}")
        self.min_mse = float(min_mse)
        self.score_sum = ExactSum()
        self.frames_counted = 0
        self.frames_empty = 0
        self.frames_alike = 0
        self.frames_missing = 0

    def update(self, chunk: ScoreChunk) -> None:
        """Add each frame's ``s_t`` (or count why it was skipped)."""
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        affected = chunk.region("affected_any")
        for index in range(len(chunk.output)):
            region = affected[index]
            if not region.any():
                self.frames_empty += 1
                continue
            factual, counterfactual, output = chunk.input[index], chunk.counterfactual[index], chunk.output[index]
            if _region_mse(factual, counterfactual, region) < self.min_mse:
                self.frames_alike += 1
                continue
            to_input = _region_mse(output, factual, region)
            to_counterfactual = _region_mse(output, counterfactual, region)
            if to_input + to_counterfactual == 0:  # only when min_mse = 0 and all three agree
                self.frames_alike += 1
                continue
            self.score_sum.add(to_input / (to_input + to_counterfactual))
            self.frames_counted += 1

    def settings(self) -> tuple:
        return (self.min_mse,)

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": mean s_t}``, NaN with the reason when no frame qualifies."""
        skipped = (
            f"{self.frames_empty} frames with no affected pixels, {self.frames_alike} where input and "
            f"counterfactual differ by MSE < {self.min_mse:g} there"
        )
        if self.frames_missing:
            return {"affected": MetricValue.nan("needs the counterfactual video")}
        if self.frames_counted == 0:
            return {"affected": MetricValue.nan(f"no frame qualifies ({skipped})")}
        note = (
            f"mean over {self.frames_counted} frames of d(out,in)/(d(out,in)+d(out,cf)), d = region MSE; "
            f"skipped {skipped}"
        )
        return {
            "affected": MetricValue(self.score_sum.value / self.frames_counted, note=note, count=self.frames_counted)
        }


def cf_score(
    output: np.ndarray, factual: np.ndarray, counterfactual: np.ndarray, mask: Quadmask, *, min_mse: float = 9.0
) -> MetricValue:
    """``cf_score`` of whole ``(T, H, W, 3)`` uint8 videos in one call (same steps as the accumulator)."""
    accumulator = CfScoreAccumulator(min_mse=min_mse)
    accumulator.update(
        ScoreChunk(
            start=0, output=np.asarray(output), input=np.asarray(factual), mask=mask, counterfactual=counterfactual
        )
    )
    return accumulator.compute()["affected"]
