"""Fixture data for the full-reference metric tests (PSNR, SSIM, LPIPS, propainter preset).

Real frames: the first frames of the BigBen sample clip (real footage, real quadmask) and a perturbed copy
(Gaussian noise plus a blurred band), so every region has a non-trivial error. Synthetic quadmask: rectangles of all
four levels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.quadmask import QuadLevel, Quadmask, read_quadmask
from void_eval.video import VideoReader

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "void_samples"


def perturb(frames: np.ndarray, *, seed: int = 0, noise: float = 6.0) -> np.ndarray:
    """Noise everywhere plus a Gaussian-blurred horizontal band: ``(T, H, W, 3)`` uint8."""
    rng = np.random.default_rng(seed)
    out = np.clip(frames + rng.normal(0, noise, frames.shape), 0, 255).astype(np.uint8)
    band = slice(frames.shape[1] // 3, 2 * frames.shape[1] // 3)
    for frame in out:
        frame[band] = cv2.GaussianBlur(np.ascontiguousarray(frame[band]), (0, 0), 1.5)
    return out


@lru_cache(maxsize=2)
def bigben(frames: int = 4) -> tuple[np.ndarray, np.ndarray, Quadmask]:
    """``(reference, output, mask)``: BigBen's first frames (544x360), a perturbed copy and the real quadmask."""
    clip = SAMPLES / "BigBen"
    reference = next(VideoReader(clip / "input_video.mp4").chunks(frames, stop=frames))
    mask = read_quadmask(clip / "trimask_quadmask.mp4")[:frames]
    return reference, perturb(reference), mask


def four_level_mask(frames: int, height: int, width: int) -> Quadmask:
    """KEEP everywhere, a REMOVE block with an OVERLAP edge, an AFFECTED strip; moves one pixel per frame."""
    levels = np.full((frames, height, width), QuadLevel.KEEP, np.uint8)
    for t in range(frames):
        top, left = height // 4, width // 4 + t
        levels[t, top : top + height // 3, left : left + width // 4] = QuadLevel.REMOVE
        levels[t, top : top + height // 3, left + width // 4 : left + width // 4 + 3] = QuadLevel.OVERLAP
        levels[t, top + height // 3 : top + height // 3 + 6, left : left + width // 3] = QuadLevel.AFFECTED
    return Quadmask(levels, boundary_width=4)


def chunks(
    output: np.ndarray,
    reference: np.ndarray,
    mask: Quadmask,
    size: int,
    *,
    first: int = 0,
    stop: int | None = None,
) -> Iterator[ScoreChunk]:
    """Score chunks of ``size`` frames over ``[first, stop)``; the reference is both input and counterfactual."""
    stop = len(output) if stop is None else stop
    for start in range(first, stop, size):
        end = min(start + size, stop)
        yield ScoreChunk(
            start=start,
            output=output[start:end],
            input=reference[start:end],
            mask=mask[start:end],
            counterfactual=reference[start:end],
        )


def same_values(first: dict[str, MetricValue], second: dict[str, MetricValue]) -> bool:
    """Bit-identical values (NaN equals NaN), counts and notes."""
    if first.keys() != second.keys():
        return False
    for name in first:
        a, b = first[name], second[name]
        both_nan = math.isnan(a.value) and math.isnan(b.value)
        if not (both_nan or a.value == b.value) or a.count != b.count or a.note != b.note:
            return False
    return True


def check_chunking(make, output: np.ndarray, reference: np.ndarray, mask: Quadmask) -> dict[str, MetricValue]:
    """Assert chunk sizes 1, 3 and all, and merging two halves, give identical results; return them."""
    results = []
    for size in (len(output), 1, 3):
        accumulator = make()
        for chunk in chunks(output, reference, mask, size):
            accumulator.update(chunk)
        results.append(accumulator.compute())
    half = len(output) // 2
    left, right = make(), make()
    for chunk in chunks(output, reference, mask, 2, stop=half):
        left.update(chunk)
    for chunk in chunks(output, reference, mask, 2, first=half):
        right.update(chunk)
    left.merge(right)
    results.append(left.compute())
    for other in results[1:]:
        assert same_values(results[0], other), (results[0], other)
    return results[0]
