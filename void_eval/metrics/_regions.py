"""Region names of result rows and the quadmask regions behind them (shared by the metrics of this package).

Rows use the issue's names: ``remove`` = quadmask 0 and 63 (``remove_any``), ``affected`` = 63 and 127
(``affected_any``), ``keep`` = 255, ``boundary`` = the band around ``remove_any``, ``frame`` = every pixel.
"""

from __future__ import annotations

import numpy as np

from void_eval.quadmask import Quadmask

ROW_REGION_TO_QUADMASK: dict[str, str | None] = {
    "frame": None,
    "remove": "remove_any",
    "affected": "affected_any",
    "keep": "keep",
    "boundary": "boundary",
}


def row_region(mask: Quadmask, name: str) -> np.ndarray:
    """Boolean ``(T, H, W)`` pixels of row region ``name`` in ``mask``."""
    if name not in ROW_REGION_TO_QUADMASK:
        raise ValueError(f"unknown region {name!r}; expected one of {', '.join(ROW_REGION_TO_QUADMASK)}")
    quad_name = ROW_REGION_TO_QUADMASK[name]
    if quad_name is None:
        return np.ones(mask.levels.shape, dtype=bool)
    return mask.region(quad_name)


def luma(frames: np.ndarray) -> np.ndarray:
    """BT.601 luma ``0.299 R + 0.587 G + 0.114 B`` of uint8 RGB, float32 in [0, 255]."""
    frames = np.asarray(frames, dtype=np.float32)
    return frames[..., 0] * 0.299 + frames[..., 1] * 0.587 + frames[..., 2] * 0.114
