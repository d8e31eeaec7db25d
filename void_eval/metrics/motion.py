"""Motion agreement: how much of the counterfactual's motion, and of the motion that should be gone, the output has.

Definition. For each video ``V`` (output ``O``, counterfactual ``C``, input ``I``): ``G^V_t`` the BT.601 grey frame
blurred by a 5x5 Gaussian (OpenCV, sigma from the kernel size), ``m^V_t = |G^V_t - G^V_{t-1}|`` the per-pixel
motion of frame ``t >= 1`` and ``M^V_t = sum_{s <= t} m^V_s`` the cumulative motion (float32). With ``A`` the
affected region (quadmask 63 or 127) of any frame,

``E_C = sum_{t >= 1} sum_{x in A} |M^O_t(x) - M^C_t(x)|`` and ``E_I`` the same against the input,

``motion_agreement = E_I / (E_I + E_C)``, range [0, 1], higher is better.

1 = the output's motion in the affected region is the counterfactual's (the removed object's influence undone), 0 =
it is the input's (the motion it caused is still there, or the motion it prevented is still missing), 0.5 = as far
from both. Cumulative motion makes the comparison proportional and timed: a ghost at half strength scores about
half way, a delay of ``k`` frames is charged for the motion that arrives ``k`` frames late, and longer delays cost
more. NaN with a reason when there is no counterfactual, ``A`` is empty, or the output matches the input and the
counterfactual equally in motion (``E_I + E_C = 0``: nothing moves differently in the two worlds).

Known-truth ladder (``benchmarks/physics_ladder.py``, demo seeds 0-2): every family ordered; delays of 2/4/8
frames score about 0.96/0.91/0.82, a 50/50 ghost 0.5-0.9, half-time 0.7-0.8. A limit: where the truth moves and the
input does not (support), a frozen fill has no motion either and scores just above the input (0.002).

Streaming: three grey frames and six float32 maps of state; chunked accumulation equals one pass. Two
accumulators over contiguous halves of one clip cannot be merged (the cumulative motion needs every earlier
frame); merging accumulators of different clips pools ``E_C`` and ``E_I``.

Examples
--------
>>> import numpy as np
>>> from void_eval.quadmask import Quadmask
>>> still = np.zeros((6, 32, 32, 3), np.uint8); still[:, 8:20, 2:14] = 200  # the counterfactual
>>> pushed = still.copy()
>>> for t in range(6):
...     pushed[t] = 0; pushed[t, 8:20, 2 + 3 * t : 14 + 3 * t] = 200
>>> mask = Quadmask(np.full((6, 32, 32), 127, np.uint8))
>>> [round(motion_agreement(video, still, pushed, mask).value, 3) for video in (still, pushed)]
[1.0, 0.0]
"""

from __future__ import annotations

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

_VIDEOS = ("output", "counterfactual", "input")


def blurred_grey(frame: np.ndarray) -> np.ndarray:
    """BT.601 grey of an ``(H, W, 3)`` uint8 RGB frame, 5x5 Gaussian blur, as float32."""
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    return cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)


class MotionAgreementAccumulator(Accumulator):
    """Streaming ``motion_agreement`` in region ``affected`` (see the module docstring)."""

    name = "motion_agreement"
    reference = "counterfactual"
    needs_ground_truth = True
    #: Sums pooled over clips (a clip's own per-pixel sums are folded in by :meth:`merge`).
    state = ("to_counterfactual", "to_input", "pixels", "frames_missing")

    def __init__(self) -> None:
        self.start: int | None = None
        self.end: int | None = None
        self.to_counterfactual = ExactSum()
        self.to_input = ExactSum()
        self.pixels = 0
        self.frames_missing = 0
        self._previous: dict[str, np.ndarray] = {}
        self._cumulative: dict[str, np.ndarray] = {}
        self._distance: dict[str, np.ndarray] = {}  # per pixel: sum_t |M^O_t - M^V_t|, V = counterfactual, input
        self._region: np.ndarray | None = None

    def update(self, chunk: ScoreChunk) -> None:
        """Advance the three cumulative motions over the chunk and add their per-pixel distances."""
        if self.end is not None and chunk.start != self.end:
            raise ValueError(f"{type(self).__name__}: expected frame {self.end}, got a chunk starting at {chunk.start}")
        if self.start is None:
            self.start = chunk.start
        self.end = chunk.start + len(chunk.output)
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        affected = chunk.region("affected_any").any(axis=0)
        self._region = affected if self._region is None else self._region | affected
        for index in range(len(chunk.output)):
            greys = {name: blurred_grey(chunk.stream(name)[index]) for name in _VIDEOS}
            if not self._previous:
                self._previous = greys
                self._cumulative = {name: np.zeros_like(grey) for name, grey in greys.items()}
                self._distance = {name: np.zeros(grey.shape, np.float64) for name, grey in greys.items()}
                continue
            for name, grey in greys.items():
                self._cumulative[name] += cv2.absdiff(grey, self._previous[name])
            self._previous = greys
            for name in ("counterfactual", "input"):
                self._distance[name] += cv2.absdiff(self._cumulative["output"], self._cumulative[name])

    def _clip_sums(self) -> tuple[float, float, int]:
        """This clip's ``E_C``, ``E_I`` and affected pixels (not yet pooled)."""
        if self._region is None or not self._distance:
            return 0.0, 0.0, 0
        region = self._region
        return (
            float(self._distance["counterfactual"][region].sum()),
            float(self._distance["input"][region].sum()),
            int(region.sum()),
        )

    def _fold(self) -> None:
        """Add this clip's sums to the pooled ones and drop its per-pixel state."""
        to_counterfactual, to_input, pixels = self._clip_sums()
        self.to_counterfactual.add(to_counterfactual)
        self.to_input.add(to_input)
        self.pixels += pixels
        self._previous, self._cumulative, self._distance, self._region = {}, {}, {}, None

    def merge(self, other: Accumulator) -> None:
        """Pool another clip's sums; refuses a contiguous time range of one clip (cumulative motion)."""
        self.check_mergeable(other)
        if self.end is not None and other.start is not None and (other.start == self.end or other.end == self.start):
            raise ValueError(
                "cumulative motion needs every earlier frame: feed one clip's chunks to one accumulator in order "
                "instead of merging halves"
            )
        self._fold()
        other._fold()
        self.merge_state(other)

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": E_I / (E_I + E_C)}``, NaN with the reason when undefined."""
        if self.frames_missing:
            return {"affected": MetricValue.nan("needs the counterfactual video")}
        own_counterfactual, own_input, own_pixels = self._clip_sums()
        pixels = self.pixels + own_pixels
        if pixels == 0:
            return {"affected": MetricValue.nan("region 'affected' is empty in every frame (or one frame only)")}
        to_counterfactual = self.to_counterfactual.value + own_counterfactual
        to_input = self.to_input.value + own_input
        if to_counterfactual + to_input == 0:
            return {
                "affected": MetricValue.nan(
                    "the output's motion equals both the input's and the counterfactual's in the affected region"
                )
            }
        note = (
            f"E_I/(E_I+E_C) of cumulative grey motion over {pixels} affected pixels; per pixel "
            f"E_C {to_counterfactual / pixels:.4g}, E_I {to_input / pixels:.4g} grey levels x frames"
        )
        return {"affected": MetricValue(to_input / (to_input + to_counterfactual), note=note, count=pixels)}


def motion_agreement(
    output: np.ndarray, counterfactual: np.ndarray, factual: np.ndarray, mask: Quadmask
) -> MetricValue:
    """``motion_agreement`` of whole ``(T, H, W, 3)`` uint8 videos in one call (same steps as the accumulator)."""
    accumulator = MotionAgreementAccumulator()
    chunk = ScoreChunk(
        start=0, output=np.asarray(output), input=np.asarray(factual), mask=mask, counterfactual=counterfactual
    )
    accumulator.update(chunk)
    return accumulator.compute()["affected"]
