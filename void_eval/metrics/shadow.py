"""Shadow residual: how much of the removed object's shadow is still in the output, as a magnitude.

Definition. ``S_t`` is the removed object's shadow in frame ``t``: pixels shadowed in the factual video and not in
the counterfactual, read from the clip's shadow-mask video (white = shadow, ``> 127``; suite clips name it in
``meta.json``, see :func:`find_shadow_mask`). With ``Y`` the BT.601 luma in [0, 255] of the input ``I`` (factual),
the counterfactual ``C`` and the output ``O``, pooled over every shadow pixel of every frame:

``shadow_residual = sum_S |Y(O) - Y(C)| / sum_S |Y(I) - Y(C)|``, range ``[0, inf)``, lower is better

the luminance error against the truth inside the factual shadow, relative to the shadow's depth: 0 = the shadow is
gone (the output is as bright as the counterfactual there), 0.3 = 30% of the shadow left, 1 = left in place (or an
error as large the other way), > 1 = worse than doing nothing. Per-pixel magnitudes cannot cancel: a patch left too
dark and one made too bright both count. The note gives the signed remainder (``sum (Y(C) - Y(O))`` per pixel:
positive = under-brightened, darker than the counterfactual; negative = over-brightened). NaN with a reason when
there is no shadow mask, it is empty, or the factual shadow barely changes the scene (mean ``|Y(I) - Y(C)|``
below 0.5 luma levels).

Applies to every family with a shadow (NaN elsewhere, per clip); known-truth ladder (``benchmarks/physics_ladder.py``,
demo seeds 0-2): counterfactual 0, residual shadow at 30% about 0.3, 50/50 ghost about 0.5, input 1.

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

#: Smallest mean luma change the factual shadow must make for the ratio to mean anything.
MIN_DEPTH = 0.5

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
    state = ("error", "depth", "signed", "pixels", "frames_missing")

    def __init__(self, shadow_mask: str | Path | None) -> None:
        self.shadow_mask = None if shadow_mask is None else Path(shadow_mask)
        self._stream = None if shadow_mask is None else SyncedVideo(shadow_mask)
        self.error, self.depth, self.signed = ExactSum(), ExactSum(), ExactSum()
        self.pixels = 0
        self.frames_missing = 0

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> ShadowResidualAccumulator:
        """The clip's shadow mask (:func:`find_shadow_mask`) unless ``shadow_mask`` is given."""
        return cls(**{"shadow_mask": find_shadow_mask(clip.path, clip.meta), **options})

    def _read_shadow(self, chunk: ScoreChunk) -> np.ndarray | None:
        if self._stream is None:
            return None
        frames = self._stream.frames(chunk.start, len(chunk.output))
        if frames.shape[1:3] != chunk.output.shape[1:3]:
            raise InputError(
                self.shadow_mask,
                f"is {frames.shape[2]}x{frames.shape[1]}, the clip is {chunk.output.shape[2]}x{chunk.output.shape[1]}",
            )
        return frames[..., 0] > 127

    def update(self, chunk: ScoreChunk, *, shadow: np.ndarray | None = None) -> None:
        """Add one chunk; ``shadow`` ``(T, H, W)`` bool overrides reading the shadow-mask video."""
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        shadow = self._read_shadow(chunk) if shadow is None else shadow
        if shadow is None or not shadow.any():
            return
        counterfactual = luma(chunk.counterfactual[shadow])
        remaining = counterfactual - luma(chunk.output[shadow])
        self.error.add(np.abs(remaining).sum(dtype=np.float64))
        self.signed.add(remaining.sum(dtype=np.float64))
        self.depth.add(np.abs(counterfactual - luma(chunk.input[shadow])).sum(dtype=np.float64))
        self.pixels += int(shadow.sum())

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": sum |Y(O) - Y(C)| / sum |Y(I) - Y(C)| over the shadow}``, signed remainder in the note."""
        if self.frames_missing:
            return {"affected": MetricValue.nan("needs the counterfactual video")}
        if self._stream is None and self.pixels == 0:
            return {
                "affected": MetricValue.nan("the clip has no shadow mask (meta.json segmentation / shadow_mask.mp4)")
            }
        if self.pixels == 0:
            return {"affected": MetricValue.nan("the shadow mask is empty in every frame")}
        depth, signed = self.depth.value / self.pixels, self.signed.value / self.pixels
        if depth < MIN_DEPTH:
            return {
                "affected": MetricValue.nan(
                    f"the factual shadow barely changes the scene (mean |luma drop| {depth:.3g} < {MIN_DEPTH})"
                )
            }
        direction = "under-brightened (darker than the counterfactual)" if signed > 0 else "over-brightened"
        direction = "as bright as the counterfactual" if signed == 0 else direction
        note = (
            f"sum|Y(out)-Y(cf)| / sum|Y(in)-Y(cf)| over {self.pixels} shadow pixels; depth {depth:.3g} "
            f"luma levels; signed remainder {signed:+.3g} per pixel: {direction}"
        )
        return {"affected": MetricValue(self.error.value / self.depth.value, note=note, count=self.pixels)}


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
