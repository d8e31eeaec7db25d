"""``median``: temporal-median background for static cameras.

For every pixel, the background is the median of its values over the frames where it lies outside the hole
(``remove ∪ overlap``, dilated). The hole of each frame is replaced by that background; pixels that are inside the
hole in every frame (never seen) are filled by Telea inpainting of the background image. Outside the hole the
output is the input.

Only meaningful for a still camera: a moving camera smears the median. The whole clip is held in memory
(``T x H x W x 3`` bytes, plus twice that while sorting one band of rows).

Examples
--------
>>> frames = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 20, 30, 200)])
>>> holes = np.zeros((4, 4, 4), bool); holes[3] = True
>>> background, seen = masked_temporal_median(frames, holes)
>>> int(background[0, 0, 0]), bool(seen.all())
(20, True)
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.methods.base import FrameMethod, hole_masks
from void_eval.quadmask import Quadmask
from void_eval.video import VideoWriter

_SENTINEL = np.uint16(1024)  # sorts after every uint8 value


def masked_temporal_median(
    frames: np.ndarray, holes: np.ndarray, *, band_rows: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the frames where the pixel is not in ``holes``.

    Parameters
    ----------
    frames : np.ndarray
        ``(T, H, W, 3)`` uint8.
    holes : np.ndarray
        ``(T, H, W)`` bool, True where the pixel must be ignored.
    band_rows : int, keyword-only
        Rows sorted at a time (memory only).

    Returns
    -------
    background : np.ndarray
        ``(H, W, 3)`` uint8; an even count takes the mean of the two middle values, rounded half up.
        Pixels never seen are 0.
    seen : np.ndarray
        ``(H, W)`` bool, False where the pixel is in the hole in every frame.
    """
    frames = np.asarray(frames)
    count, height, width, _ = frames.shape
    valid = (~holes).sum(axis=0)
    background = np.zeros((height, width, 3), np.uint8)
    for top in range(0, height, band_rows):
        rows = slice(top, top + band_rows)
        values = frames[:, rows].astype(np.uint16)
        values[holes[:, rows]] = _SENTINEL
        values.sort(axis=0)
        k = valid[rows][None, :, :, None].repeat(3, axis=3)
        low = np.take_along_axis(values, np.clip((k - 1) // 2, 0, count - 1), axis=0)[0]
        high = np.take_along_axis(values, np.clip(k // 2, 0, count - 1), axis=0)[0]
        median = (low.astype(np.uint32) + high + 1) // 2
        median[k[0] == 0] = 0
        background[rows] = median.astype(np.uint8)
    return background, valid > 0


class MedianMethod(FrameMethod):
    """Fill the hole with the clip's temporal-median background (static cameras).

    Parameters
    ----------
    dilation : int, keyword-only
        Grow remove ∪ overlap by this many px before excluding it from the median and filling it (0..64,
        default 4).
    radius : int, keyword-only
        Telea radius for pixels never seen outside the hole (1..64, default 3).
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    """

    name = "median"
    version = "1"
    description = "temporal-median background of unmasked pixels (static camera); Telea where never seen"

    def __init__(self, *, dilation: int = 4, radius: int = 3, output_kind: str = "lossless") -> None:
        super().__init__(output_kind=output_kind)
        if not 0 <= dilation <= 64:
            raise ValueError(f"dilation must be in 0..64 px, got {dilation}")
        if not 1 <= radius <= 64:
            raise ValueError(f"radius must be in 1..64 px, got {radius}")
        self.dilation = int(dilation)
        self.radius = int(radius)

    def _params(self) -> dict[str, Any]:
        return {"dilation": self.dilation, "radius": self.radius}

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        frames = np.concatenate(list(clip.iter_frames(32)))
        holes = hole_masks(Quadmask.concatenate(list(clip.iter_masks(32))), dilation=self.dilation)
        background, seen = masked_temporal_median(frames, holes)
        never_seen = ~seen
        if never_seen.any():
            background = cv2.inpaint(background, never_seen.astype(np.uint8), self.radius, cv2.INPAINT_TELEA)
        self.last_run = {"never_seen_fraction": float(never_seen.mean())}
        out = np.where(holes[..., None], background[None], frames)
        writer.write(out)
