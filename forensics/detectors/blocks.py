"""The block grid every signal reports on.

A frame of ``H x W`` pixels is cut into ``H // block`` by ``W // block`` square blocks starting at the top-left
corner; the right and bottom remainders (fewer than ``block`` pixels) are not scored by the signals and receive the
nearest block's value when a block map is expanded back to pixels (:func:`expand_block_map`).

Examples
--------
>>> import numpy as np
>>> grid = BlockGrid(height=40, width=70, block=16)
>>> grid.shape
(2, 4)
>>> sums = block_reduce(np.ones((40, 70), np.float32), 16, "mean")
>>> sums.shape, float(sums[0, 0])
((2, 4), 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

Reduction = Literal["mean", "median", "max", "sum"]


@dataclass(frozen=True)
class BlockGrid:
    """Geometry of the block grid of a frame.

    Attributes
    ----------
    height, width : int
        Frame size in pixels.
    block : int
        Block side in pixels (>= 2, even).
    """

    height: int
    width: int
    block: int

    def __post_init__(self) -> None:
        if self.block < 2 or self.block % 2:
            raise ValueError(f"block must be an even number >= 2, got {self.block}")
        if self.height < self.block or self.width < self.block:
            raise ValueError(f"frame {self.height}x{self.width} is smaller than one {self.block}-pixel block")

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)`` of blocks."""
        return self.height // self.block, self.width // self.block

    @property
    def covered(self) -> tuple[int, int]:
        """``(height, width)`` in pixels covered by whole blocks."""
        rows, cols = self.shape
        return rows * self.block, cols * self.block


def to_luma(frame: np.ndarray) -> np.ndarray:
    """BT.601 luma of an ``(H, W, 3)`` uint8 RGB frame as float32 in [0, 255] (grey frames pass through)."""
    if frame.ndim == 2:
        return frame.astype(np.float32)
    if frame.ndim != 3 or frame.shape[-1] != 3:
        raise ValueError(f"frame must be (H, W, 3) or (H, W), got shape {frame.shape}")
    # OpenCV's RGB -> grey uses the BT.601 weights 0.299, 0.587, 0.114; on float input it does not round.
    return cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.float32), cv2.COLOR_RGB2GRAY)


def block_view(image: np.ndarray, block: int) -> np.ndarray:
    """View an ``(H, W)`` image as ``(rows, cols, block * block)`` (the remainder is cropped)."""
    rows, cols = image.shape[0] // block, image.shape[1] // block
    cropped = image[: rows * block, : cols * block]
    return cropped.reshape(rows, block, cols, block).transpose(0, 2, 1, 3).reshape(rows, cols, block * block)


def block_reduce(image: np.ndarray, block: int, how: Reduction = "mean") -> np.ndarray:
    """Reduce each ``block x block`` cell of an ``(H, W)`` image to one float32 value.

    ``mean`` and ``sum`` use OpenCV's area resize, which for a whole-number factor is the exact cell average
    (accumulated in float32: relative error about 1e-7).
    """
    rows, cols = image.shape[0] // block, image.shape[1] // block
    cropped = image[: rows * block, : cols * block]
    if how in ("mean", "sum", "max", "median") and (rows == 0 or cols == 0):
        return np.zeros((rows, cols), np.float32)
    if how in ("mean", "sum"):
        source = np.ascontiguousarray(cropped, dtype=np.float32)
        means = cv2.resize(source, (cols, rows), interpolation=cv2.INTER_AREA).reshape(rows, cols)
        return means if how == "mean" else means * np.float32(block * block)
    if how == "max":
        return cropped.reshape(rows, block, cols, block).max(axis=(1, 3)).astype(np.float32)
    if how == "median":
        return np.median(block_view(image, block), axis=-1).astype(np.float32)
    raise ValueError(f"how must be mean, median, max or sum, got {how!r}")


def block_fraction(mask: np.ndarray, block: int) -> np.ndarray:
    """Fraction of ``True`` pixels of an ``(H, W)`` boolean mask inside each block (float32 in [0, 1])."""
    return block_reduce(mask.astype(np.float32), block, "mean")


def expand_block_map(values: np.ndarray, height: int, width: int, block: int) -> np.ndarray:
    """Bilinearly expand a ``(rows, cols)`` block map to an ``(height, width)`` float32 pixel map.

    Block values sit at block centres; pixels beyond the last whole block take the edge value.
    """
    rows, cols = values.shape
    covered = cv2.resize(values.astype(np.float32), (cols * block, rows * block), interpolation=cv2.INTER_LINEAR)
    return cv2.copyMakeBorder(
        covered, 0, height - rows * block, 0, width - cols * block, borderType=cv2.BORDER_REPLICATE
    )


def relative_to_frame(values: np.ndarray) -> np.ndarray:
    """Block values minus their frame median (finite values only): a block's deviation from the rest."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.full_like(values, np.nan)
    return values - np.float32(np.median(finite))


def relative_to_neighbours(values: np.ndarray, *, radius: int = 2) -> np.ndarray:
    """Block values minus the mean of the surrounding ``(2 radius + 1)^2`` blocks (excluding the block itself)."""
    if radius < 1:
        raise ValueError(f"radius must be >= 1, got {radius}")
    filled = np.where(np.isfinite(values), values, 0.0).astype(np.float32)
    weight = np.isfinite(values).astype(np.float32)
    size = (2 * radius + 1, 2 * radius + 1)
    total = cv2.boxFilter(filled, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT)
    count = cv2.boxFilter(weight, -1, size, normalize=False, borderType=cv2.BORDER_REFLECT)
    others = (total - filled) / np.maximum(count - weight, 1.0)
    return values - others
