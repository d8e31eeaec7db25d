"""Segmentation videos: which object covers each pixel, as a lossless grey video.

Object ``i`` is drawn with grey ``(i + 1) * SEGMENTATION_SCALE`` and background with 0, so up to
``MAX_OBJECTS + 1`` objects fit in 8 bits with room for rounding. The suite writes these videos
(:mod:`void_eval.suite.writer`), and the trajectory metrics read them (:mod:`void_eval.metrics.trajectory`).

Examples
--------
>>> import numpy as np
>>> ids = np.array([[[-1, 0], [2, 1]]])
>>> segmentation_frames(ids)[0].tolist(), decode_segmentation(segmentation_frames(ids)).tolist() == ids.tolist()
([[0, 8], [24, 16]], True)
"""

from __future__ import annotations

import numpy as np

#: Grey value of object ``i`` in the segmentation videos is ``(i + 1) * SEGMENTATION_SCALE``; 0 is background.
SEGMENTATION_SCALE = 8
MAX_OBJECTS = 255 // SEGMENTATION_SCALE - 1


def segmentation_frames(ids: np.ndarray) -> np.ndarray:
    """Object ids ``(T, H, W)`` (-1 background) to grey uint8 frames (``(id + 1) * SEGMENTATION_SCALE``)."""
    if ids.max(initial=-1) > MAX_OBJECTS:
        raise ValueError(f"at most {MAX_OBJECTS + 1} objects fit the segmentation encoding, got id {ids.max()}")
    return ((ids.astype(np.int16) + 1) * SEGMENTATION_SCALE).astype(np.uint8)


def decode_segmentation(grey: np.ndarray) -> np.ndarray:
    """Inverse of :func:`segmentation_frames`: grey ``(..., H, W)`` or RGB ``(..., H, W, 3)`` to ids (-1 background)."""
    grey = np.asarray(grey)
    if grey.ndim >= 3 and grey.shape[-1] == 3:
        grey = grey[..., 0]
    return (grey.astype(np.int16) // SEGMENTATION_SCALE) - 1
