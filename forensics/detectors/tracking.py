"""Evidence accumulated along motion: block maps averaged over recent frames, following the optical flow.

A removal leaves a *tube*: the filled region persists over many frames and moves with the scene (or with the
removed object), while false alarms on real content flicker from frame to frame. Averaging a block signal over
the last few frames along the motion keeps the tube's evidence and thins the flicker out. :class:`MotionTrack`
keeps a normalised exponential average per block: each frame the previous average is carried to where its content
moved (the mean optical flow of the block, from the current frame back to the previous one, sampled bilinearly on
the block grid) and mixed with the new values,

``S_t = (decay * W(S_{t-1} N_{t-1}) + (1 - decay) F_t) / (decay * W(N_{t-1}) + (1 - decay))``

where ``N`` is the accumulated weight (so the first frames are plain averages of what was seen, not biased
towards zero) and a NaN value (a signal undefined on this frame) contributes no weight.

:func:`block_flow` gives the per-block flow and :func:`flow_deviation` how far a block's motion departs from its
neighbours' (a fill copied from the wrong place, or a static median over a panning scene, moves unlike its
surroundings).

Examples
--------
>>> import numpy as np
>>> track = MotionTrack(decay=0.5)
>>> still = np.zeros((3, 4, 2), np.float32)
>>> for value in (1.0, 3.0):
...     out = track.update(np.full((3, 4, 1), value, np.float32), still, block=16)
>>> float(out[0, 0, 0])  # (0.5 * 0.5 * 1 + 0.5 * 3) / (0.5 * 0.5 + 0.5)
2.3333332538604736
"""

from __future__ import annotations

import cv2
import numpy as np

from forensics.detectors.blocks import block_reduce, relative_to_neighbours


def block_flow(flow: np.ndarray, block: int) -> np.ndarray:
    """Mean ``(H, W, 2)`` pixel flow of each block, ``(rows, cols, 2)`` float32 (pixels)."""
    return np.stack([block_reduce(flow[..., 0], block, "mean"), block_reduce(flow[..., 1], block, "mean")], axis=-1)


def flow_deviation(flow_blocks: np.ndarray, *, radius: int = 2) -> np.ndarray:
    """``log1p(|v_b - mean of the surrounding blocks' v|)`` (pixels) for ``(rows, cols, 2)`` block flow."""
    dx = relative_to_neighbours(np.ascontiguousarray(flow_blocks[..., 0]), radius=radius)
    dy = relative_to_neighbours(np.ascontiguousarray(flow_blocks[..., 1]), radius=radius)
    return np.log1p(np.sqrt(dx * dx + dy * dy)).astype(np.float32)


def carry_along_flow(values: np.ndarray, flow_blocks: np.ndarray, block: int) -> np.ndarray:
    """Block map of the previous frame sampled where each current block's content came from.

    Parameters
    ----------
    values : np.ndarray
        ``(rows, cols, K)`` float32 block values of the previous frame (finite).
    flow_blocks : np.ndarray
        ``(rows, cols, 2)`` mean flow of each current block towards the previous frame, in pixels.
    block : int
        Block side in pixels (flow / block = displacement in blocks).

    Returns
    -------
    np.ndarray
        ``(rows, cols, K)`` float32, bilinear on the block grid with replicated borders.
    """
    rows, cols = values.shape[:2]
    map_x = (np.arange(cols, dtype=np.float32)[None, :] + flow_blocks[..., 0] / block).astype(np.float32)
    map_y = (np.arange(rows, dtype=np.float32)[:, None] + flow_blocks[..., 1] / block).astype(np.float32)
    parts = []
    for start in range(0, values.shape[-1], 4):  # OpenCV remaps up to 4 channels at once, each as on its own
        part = np.ascontiguousarray(values[..., start : start + 4])
        moved = cv2.remap(part, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        parts.append(moved.reshape(rows, cols, part.shape[-1]))
    return np.concatenate(parts, axis=-1)


class MotionTrack:
    """Normalised exponential average of block values along the motion (streaming, one video).

    Parameters
    ----------
    decay : float, keyword-only
        Weight of the carried history in (0, 1); the average spans about ``1 / (1 - decay)`` frames.
    """

    def __init__(self, *, decay: float = 0.75) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"decay must be in (0, 1), got {decay}")
        self.decay = float(decay)
        self._sum: np.ndarray | None = None
        self._weight: np.ndarray | None = None
        self._carried: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, values: np.ndarray, flow_blocks: np.ndarray | None, *, block: int) -> np.ndarray:
        """Add one frame's ``(rows, cols, K)`` values; returns the tracked averages (NaN where nothing was seen).

        ``flow_blocks`` (``(rows, cols, 2)``, pixels, towards the previous frame) may be None on a first frame.
        """
        finite = np.isfinite(values)
        fresh_weight = np.where(finite, 1.0 - self.decay, 0.0).astype(np.float32)
        fresh_sum = np.where(finite, values, 0.0).astype(np.float32) * fresh_weight
        if self._sum is None or flow_blocks is None:
            total, weight = fresh_sum, fresh_weight
            self._carried = (np.zeros_like(fresh_sum), np.zeros_like(fresh_weight))
        else:
            carried = carry_along_flow(np.concatenate([self._sum, self._weight], axis=-1), flow_blocks, block)
            count = values.shape[-1]
            self._carried = (carried[..., :count], carried[..., count:])
            total = self.decay * self._carried[0] + fresh_sum
            weight = self.decay * self._carried[1] + fresh_weight
        self._sum, self._weight = total, weight
        return _average(total, weight)

    @property
    def previous(self) -> np.ndarray | None:
        """After :meth:`update`: the average of the frames *before* the last one, carried to where each block's
        content is now (NaN where nothing was seen): what this piece of the scene looked like until now."""
        return None if self._carried is None else _average(*self._carried)


def _average(total: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.where(weight > 1e-6, total / np.maximum(weight, 1e-6), np.nan).astype(np.float32)
