"""Shadow residual: how much of the removed object's shadow is still in the output.

Definition. ``S_t`` is the removed object's shadow in frame ``t``: pixels shadowed in the factual video and not in
the counterfactual, read from the clip's shadow-mask video (white = shadow, ``> 127``; suite clips name it in
``meta.json``, see :func:`find_shadow_mask`). With ``Y`` the BT.601 luma in [0, 255] of the input ``I`` (factual),
the counterfactual ``C`` and the output ``O``, pooled over all shadow pixels of all frames:

``shadow_residual = |sum_S (Y(C) - Y(O))| / sum_S (Y(C) - Y(I))``, range ``[0, inf)``, lower is better

the magnitude of the share of the shadow's luminance drop that remains: 0 = the shadow is gone (the output is as
bright as the counterfactual there), 1 = it was left in place (or the output is as much *brighter* than the
counterfactual as the shadow was dark), > 1 = worse than doing nothing. The sign of the pooled remainder is not
lost: the note says whether the output is under-brightened (darker than the counterfactual; above 1 it is darker
than the input) or over-brightened (brighter than the counterfactual). The signed sum is pooled before the
magnitude is taken, so darker and brighter shadow pixels offset each other. NaN with a reason when there is no
shadow mask, the mask is empty, or the factual shadow does not darken the scene (``sum_S (Y(C) - Y(I)) <= 0.5``
per pixel on average).

Examples
--------
>>> import numpy as np
>>> counterfactual = np.full((1, 4, 4, 3), 200, np.uint8)
>>> factual = counterfactual.copy(); factual[:, :2] = 100   # a shadow on the top half
>>> output = counterfactual.copy(); output[:, :2] = 150     # half of it remains
>>> shadow = np.zeros((1, 4, 4), bool); shadow[:, :2] = True
>>> round(shadow_residual(output, factual, counterfactual, shadow).value, 3)
0.5
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from void_eval.errors import InputError
from void_eval.metrics._exact import ExactSum
from void_eval.metrics._streams import SyncedVideo
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

SHADOW_FILE_NAMES = ("shadow_mask.mp4", "shadow.mp4", "segmentation_shadow.mp4")


def find_shadow_mask(folder: str | Path, meta: dict[str, Any]) -> Path | None:
    """The clip's shadow-mask video: ``meta["shadow"]["file"]`` (suite clips), a ``meta["segmentation"]`` entry
    whose key or file name contains "shadow", else one of :data:`SHADOW_FILE_NAMES` in the folder; None if none."""
    folder = Path(folder)
    candidates: list[str] = []
    shadow = meta.get("shadow")
    if isinstance(shadow, dict) and isinstance(shadow.get("file"), str):
        candidates.append(shadow["file"])
    segmentation = meta.get("segmentation")
    if isinstance(segmentation, dict):
        for key, value in segmentation.items():
            if isinstance(value, str) and ("shadow" in str(key).lower() or "shadow" in value.lower()):
                candidates.append(value)
    elif isinstance(segmentation, list | tuple):
        candidates.extend(name for name in segmentation if isinstance(name, str) and "shadow" in name.lower())
    candidates.extend(SHADOW_FILE_NAMES)
    for name in candidates:
        path = folder / name
        if path.is_file():
            return path
    return None


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` of uint8 RGB, float32 in [0, 255]."""
    frames = np.asarray(frames, dtype=np.float32)
    return frames[..., 0] * 0.299 + frames[..., 1] * 0.587 + frames[..., 2] * 0.114


class ShadowResidualAccumulator(Accumulator):
    """Streaming ``shadow_residual`` in region ``affected`` (see the module docstring).

    Parameters
    ----------
    shadow_mask : str or Path or None
        Shadow-mask video of the clip (same size and length as the input), or None (every value NaN).
    """

    name = "shadow_residual"
    reference = "counterfactual"
    needs_ground_truth = True
    state = ("remaining", "original", "pixels", "frames_missing")

    def __init__(self, shadow_mask: str | Path | None) -> None:
        self.shadow_mask = None if shadow_mask is None else Path(shadow_mask)
        self._stream = None if shadow_mask is None else SyncedVideo(shadow_mask)
        self.remaining = ExactSum()
        self.original = ExactSum()
        self.pixels = 0
        self.frames_missing = 0

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> ShadowResidualAccumulator:
        """The clip's shadow mask (:func:`find_shadow_mask`) unless ``shadow_mask`` is given."""
        return cls(**{"shadow_mask": find_shadow_mask(clip.path, clip.meta), **options})

    def update(self, chunk: ScoreChunk, *, shadow: np.ndarray | None = None) -> None:
        """Add one chunk; ``shadow`` ``(T, H, W)`` bool overrides reading the shadow-mask video."""
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        if shadow is None:
            if self._stream is None:
                return
            frames = self._stream.frames(chunk.start, len(chunk.output))
            if frames.shape[1:3] != chunk.output.shape[1:3]:
                raise InputError(
                    self.shadow_mask,
                    f"is {frames.shape[2]}x{frames.shape[1]}, the clip is "
                    f"{chunk.output.shape[2]}x{chunk.output.shape[1]}",
                )
            shadow = frames[..., 0] > 127
        if not shadow.any():
            return
        counterfactual = luma(chunk.counterfactual[shadow])
        self.remaining.add((counterfactual - luma(chunk.output[shadow])).sum(dtype=np.float64))
        self.original.add((counterfactual - luma(chunk.input[shadow])).sum(dtype=np.float64))
        self.pixels += int(shadow.sum())

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": magnitude of the remaining share of the shadow's luma drop}``, sign in the note."""
        if self.frames_missing:
            return {"affected": MetricValue.nan("needs the counterfactual video")}
        if self._stream is None and self.pixels == 0:
            return {
                "affected": MetricValue.nan("the clip has no shadow mask (meta.json segmentation / shadow_mask.mp4)")
            }
        if self.pixels == 0:
            return {"affected": MetricValue.nan("the shadow mask is empty in every frame")}
        original, remaining = self.original.value, self.remaining.value
        if original <= 0.5 * self.pixels:
            return {
                "affected": MetricValue.nan(
                    f"the factual shadow does not darken the scene (mean luma drop {original / self.pixels:.3g})"
                )
            }
        if remaining > 0:
            direction = "under-brightened: output darker than the counterfactual"
            if remaining > original:
                direction += " and than the input"
        elif remaining < 0:
            direction = "over-brightened: output brighter than the counterfactual"
        else:
            direction = "output as bright as the counterfactual"
        note = (
            f"|share of the shadow's luma drop left|; {direction}; factual drop {original / self.pixels:.3g}, "
            f"remaining {remaining / self.pixels:+.3g} luma levels (counterfactual - output) over {self.pixels} "
            "shadow pixels"
        )
        return {"affected": MetricValue(abs(remaining) / original, note=note, count=self.pixels)}


def shadow_residual(
    output: np.ndarray, factual: np.ndarray, counterfactual: np.ndarray, shadow: np.ndarray
) -> MetricValue:
    """``shadow_residual`` of whole videos in one call; ``shadow`` is ``(T, H, W)`` bool."""
    output = np.asarray(output)
    accumulator = ShadowResidualAccumulator(None)
    mask = Quadmask(np.full(output.shape[:3], 255, np.uint8))
    chunk = ScoreChunk(start=0, output=output, input=np.asarray(factual), mask=mask, counterfactual=counterfactual)
    accumulator.update(chunk, shadow=np.asarray(shadow, dtype=bool))
    return accumulator.compute()["affected"]
