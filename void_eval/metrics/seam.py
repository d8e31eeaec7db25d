"""Seam score: is the edge of the filled region visible in the output? (No reference needed.)

Definition. ``g`` is the Sobel gradient magnitude (3x3 kernels, ``sqrt(gx^2 + gy^2)``, reflected borders) of the
output's BT.601 luma rounded to 8 bits (OpenCV ``COLOR_RGB2GRAY``). ``E_t`` is the seam line: pixels within 1 px
(3x3 neighbourhood) of the edge of ``remove_any`` (quadmask 0 or 63) in frame ``t``, on either side. ``K_t``
is the reference texture: ``keep`` pixels (255) outside the quadmask's ``boundary`` band. Pooled over all frames,

``seam = (sum_E g / |E|) / (sum_K g / |K|)``

the mean gradient on the seam line relative to the mean gradient of the kept background. About 1 when the fill
joins the background as smoothly as the background's own texture varies; well above 1 for a visible seam (a
step in brightness or colour along the mask edge). Range [0, inf), lower is better; reported in region
``boundary`` with reference ``output``. NaN with a reason when the remove region has no edge or the kept
background is empty or perfectly flat.

Examples
--------
>>> import numpy as np
>>> from void_eval.quadmask import Quadmask
>>> rng = np.random.default_rng(0)
>>> frame = rng.integers(90, 110, (1, 64, 64, 3)).astype(np.uint8)
>>> levels = np.full((1, 64, 64), 255, np.uint8); levels[:, 20:40, 20:40] = 0
>>> seamless = seam_score(frame, Quadmask(levels)).value
>>> patched = frame.copy(); patched[:, 20:40, 20:40] = 160   # a flat bright patch: a visible seam
>>> bool(0.5 < seamless < 1.5), bool(seam_score(patched, Quadmask(levels)).value > 3)
(True, True)
"""

from __future__ import annotations

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

_RING = np.ones((3, 3), np.uint8)


def gradient_magnitude(frame: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of one ``(H, W, 3)`` uint8 frame's 8-bit luma, float32."""
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT_101)
    # numpy, not cv2.magnitude: OpenCV's SIMD sqrt gives alignment-dependent last bits (chunking would show)
    np.multiply(gx, gx, out=gx)
    np.multiply(gy, gy, out=gy)
    np.add(gx, gy, out=gx)
    return np.sqrt(gx, out=gx)


def seam_line(remove: np.ndarray) -> np.ndarray:
    """Pixels within 1 px of the edge of a ``(H, W)`` bool region, both sides (empty when the region is)."""
    region = remove.astype(np.uint8)
    grown = cv2.dilate(region, _RING, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    shrunk = cv2.erode(region, _RING, borderType=cv2.BORDER_CONSTANT, borderValue=1)
    return (grown > 0) & ~(shrunk > 0)


class SeamAccumulator(Accumulator):
    """Streaming seam score (see the module docstring)."""

    name = "seam"
    state = ("seam_sum", "seam_pixels", "keep_sum", "keep_pixels")

    def __init__(self) -> None:
        self.seam_sum = ExactSum()
        self.seam_pixels = 0
        self.keep_sum = ExactSum()
        self.keep_pixels = 0

    def update(self, chunk: ScoreChunk) -> None:
        """Add each frame's gradient sums on the seam line and in the kept background."""
        remove = chunk.region("remove_any")
        keep = chunk.region("keep") & ~chunk.region("boundary")
        for index in range(len(chunk.output)):
            line = seam_line(remove[index])
            has_line, has_keep = line.any(), keep[index].any()
            if not (has_line or has_keep):
                continue
            gradient = gradient_magnitude(chunk.output[index])
            if has_line:
                self.seam_sum.add(gradient[line].sum(dtype=np.float64))
                self.seam_pixels += int(line.sum())
            if has_keep:
                self.keep_sum.add(gradient[keep[index]].sum(dtype=np.float64))
                self.keep_pixels += int(keep[index].sum())

    def compute(self) -> dict[str, MetricValue]:
        """``{"boundary": seam / background mean gradient}``."""
        if self.seam_pixels == 0:
            return {"boundary": MetricValue.nan("the remove region has no edge in any frame")}
        if self.keep_pixels == 0:
            return {"boundary": MetricValue.nan("no keep pixels outside the boundary band to compare with")}
        if self.keep_sum.value == 0:
            return {"boundary": MetricValue.nan("the kept background is perfectly flat (zero gradient)")}
        seam_mean = self.seam_sum.value / self.seam_pixels
        keep_mean = self.keep_sum.value / self.keep_pixels
        note = (
            f"mean Sobel luma gradient on the remove edge {seam_mean:.3g} / in keep {keep_mean:.3g} "
            f"({self.seam_pixels} edge px)"
        )
        return {"boundary": MetricValue(seam_mean / keep_mean, note=note, count=self.seam_pixels)}


def seam_score(output: np.ndarray, mask: Quadmask) -> MetricValue:
    """Seam score of a whole ``(T, H, W, 3)`` uint8 video in one call (same steps as the accumulator)."""
    output = np.asarray(output)
    accumulator = SeamAccumulator()
    accumulator.update(ScoreChunk(start=0, output=output, input=output, mask=mask))
    return accumulator.compute()["boundary"]
