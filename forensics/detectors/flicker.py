"""Flicker: brightness that jumps between frames after motion compensation, and flicker inside candidate regions.

Per-frame fills drift in brightness from frame to frame where the surrounding real content is steady. Given the
signed mean aligned difference of each block (:attr:`TemporalStats.mean_difference`), the block flicker is its
absolute value relative to the frame's typical value, and its temporal spread over a short window. For a
candidate region (a heatmap above threshold), :func:`region_flicker` compares the mean absolute aligned change
inside the region with the change outside it.

Examples
--------
>>> import numpy as np
>>> steady = np.zeros((4, 4), np.float32)
>>> history = FlickerHistory(window=4)
>>> for value in (2.0, -2.0, 2.0, -2.0):
...     out = history.update(steady + np.pad(np.full((1, 1), value, np.float32), ((1, 2), (1, 2))))
>>> float(out.spread[1, 1]) > 1.5, float(out.spread[0, 0])
(True, 0.0)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from forensics.detectors.blocks import relative_to_frame


@dataclass(frozen=True)
class BlockFlicker:
    """Per-block flicker values, ``(rows, cols)`` float32.

    Attributes
    ----------
    level : np.ndarray
        ``log(0.1 + |mean aligned difference|)`` minus its frame median.
    spread : np.ndarray
        Standard deviation over the window of each block's signed mean aligned difference, after removing the
        frame-wide change of every frame (global exposure changes do not count).
    """

    level: np.ndarray
    spread: np.ndarray


class FlickerHistory:
    """Streaming flicker over a window of frames.

    Parameters
    ----------
    window : int, keyword-only
        Number of recent frames whose aligned differences enter :attr:`BlockFlicker.spread` (>= 2).
    """

    def __init__(self, *, window: int = 8) -> None:
        if window < 2:
            raise ValueError(f"window must be >= 2, got {window}")
        self.window = window
        self._recent: deque[np.ndarray] = deque(maxlen=window)

    def update(self, mean_difference: np.ndarray) -> BlockFlicker:
        """Add one frame's per-block signed mean aligned difference and return the block flicker."""
        centred = mean_difference - np.float32(np.median(mean_difference))
        self._recent.append(centred.astype(np.float32))
        spread = np.std(np.stack(self._recent), axis=0).astype(np.float32)
        level = relative_to_frame(np.log(0.1 + np.abs(centred)).astype(np.float32))
        return BlockFlicker(level=level, spread=spread)


def region_flicker(aligned_differences: np.ndarray, region: np.ndarray) -> tuple[float, float]:
    """Mean absolute aligned change inside and outside a candidate region.

    Parameters
    ----------
    aligned_differences : np.ndarray
        ``(T, H, W)`` float: ``I_t - W(I_{t-1})`` for consecutive frames (or per-block values on a block grid).
    region : np.ndarray
        ``(T, H, W)`` bool candidate region on the same grid.

    Returns
    -------
    tuple of float
        ``(inside, outside)``; NaN where the region (or its complement) is empty.
    """
    if aligned_differences.shape != region.shape:
        raise ValueError(f"shapes differ: differences {aligned_differences.shape}, region {region.shape}")
    magnitude = np.abs(aligned_differences.astype(np.float64))
    inside = float(magnitude[region].mean()) if region.any() else float("nan")
    outside = float(magnitude[~region].mean()) if (~region).any() else float("nan")
    return inside, outside
