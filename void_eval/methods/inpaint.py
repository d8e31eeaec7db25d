"""``telea`` and ``navier-stokes``: per-frame image inpainting of the hole with OpenCV.

The hole is ``remove ∪ overlap`` of the quadmask, grown by ``dilation`` px (square), so the codec fringe around
the object is filled too. Each frame is filled on its own (:func:`cv2.inpaint`); pixels outside the hole are the
input's. No temporal information is used: these are the spatial-only floor for fill-in methods.

References
----------
A. Telea, "An image inpainting technique based on the fast marching method", J. Graphics Tools 9(1), 2004.
M. Bertalmio, A. L. Bertozzi, G. Sapiro, "Navier-Stokes, fluid dynamics, and image and video inpainting",
CVPR 2001.

Examples
--------
>>> TeleaMethod(radius=5, dilation=2).params
{'output_kind': 'lossless', 'radius': 5, 'dilation': 2}
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.methods.base import FrameMethod, hole_masks
from void_eval.video import VideoWriter


def inpaint_frames(frames: np.ndarray, holes: np.ndarray, *, radius: int, algorithm: int) -> np.ndarray:
    """Fill ``holes`` ((T, H, W) bool) in ``frames`` ((T, H, W, 3) uint8) frame by frame with ``cv2.inpaint``.

    Examples
    --------
    >>> frames = np.full((1, 8, 8, 3), 100, np.uint8); frames[0, 3:5, 3:5] = 0
    >>> holes = frames[..., 0] == 0
    >>> int(inpaint_frames(frames, holes, radius=3, algorithm=cv2.INPAINT_TELEA)[0, 4, 4, 0])
    100
    """
    out = frames.copy()
    for index, (frame, hole) in enumerate(zip(frames, holes, strict=True)):
        if hole.any():
            out[index] = cv2.inpaint(np.ascontiguousarray(frame), hole.astype(np.uint8), radius, algorithm)
    return out


class _InpaintMethod(FrameMethod):
    algorithm: ClassVar[int]

    def __init__(
        self, *, radius: int = 3, dilation: int = 4, output_kind: str = "lossless", chunk_size: int = 16
    ) -> None:
        super().__init__(output_kind=output_kind)
        if not 1 <= radius <= 64:
            raise ValueError(f"radius must be in 1..64 px, got {radius}")
        if not 0 <= dilation <= 64:
            raise ValueError(f"dilation must be in 0..64 px, got {dilation}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.radius = int(radius)
        self.dilation = int(dilation)
        self.chunk_size = chunk_size

    def _params(self) -> dict[str, Any]:
        return {"radius": self.radius, "dilation": self.dilation}

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        for chunk in clip.iter_aligned(self.chunk_size):
            holes = hole_masks(chunk.mask, dilation=self.dilation)
            writer.write(inpaint_frames(chunk.frames, holes, radius=self.radius, algorithm=self.algorithm))


class TeleaMethod(_InpaintMethod):
    """Per-frame Telea (fast marching) inpainting of remove ∪ overlap.

    Parameters
    ----------
    radius : int, keyword-only
        Neighbourhood radius in px considered for each filled pixel (1..64, default 3).
    dilation : int, keyword-only
        Grow the hole by this many px before filling (0..64, default 4).
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    chunk_size : int, keyword-only
        Frames processed at a time (memory only).
    """

    name = "telea"
    version = "1"
    description = "per-frame OpenCV Telea inpainting of remove+overlap (dilated)"
    algorithm = cv2.INPAINT_TELEA


class NavierStokesMethod(_InpaintMethod):
    """Per-frame Navier-Stokes inpainting of remove ∪ overlap; parameters as :class:`TeleaMethod`."""

    name = "navier-stokes"
    version = "1"
    description = "per-frame OpenCV Navier-Stokes inpainting of remove+overlap (dilated)"
    algorithm = cv2.INPAINT_NS
