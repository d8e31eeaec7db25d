"""From block probabilities to heatmaps, frame scores and a video score (shared by detection and evaluation).

A frame's score is the highest block probability after a 3x3-block mean (a lone noisy block counts less than a
coherent region); the video's score is the mean of its top-quarter frame scores (a removal may last only part of
the clip). Both stay in [0, 1].

Examples
--------
>>> import numpy as np
>>> probs = np.zeros((2, 6, 6), np.float32); probs[1, 2:5, 2:5] = 0.9
>>> [round(value, 2) for value in frame_scores(probs)]
[0.0, 0.9]
>>> round(video_score(frame_scores(probs)), 2)
0.9
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from forensics.detectors.blocks import expand_block_map

SMOOTH_BLOCKS = 3
TOP_FRAME_SHARE = 0.25


def frame_score(probabilities: np.ndarray) -> float:
    """Score of one frame from its ``(rows, cols)`` block probabilities."""
    smoothed = cv2.blur(probabilities.astype(np.float32), (SMOOTH_BLOCKS, SMOOTH_BLOCKS), borderType=cv2.BORDER_REFLECT)
    return float(np.clip(smoothed.max(), 0.0, 1.0))


def frame_scores(probabilities: np.ndarray) -> list[float]:
    """Scores of ``(T, rows, cols)`` block probabilities, one per frame."""
    return [frame_score(frame) for frame in probabilities]


def raw_video_score(scores: list[float] | np.ndarray) -> float:
    """Mean of the highest quarter (at least one) of the frame scores; NaN for no frames."""
    values = np.sort(np.asarray(scores, np.float64))[::-1]
    if values.size == 0:
        return math.nan
    count = max(1, math.ceil(values.size * TOP_FRAME_SHARE))
    return float(values[:count].mean())


def video_score(scores: list[float] | np.ndarray, calibration: dict | None = None) -> float:
    """The video's score in [0, 1]: :func:`raw_video_score`, through the model's logistic calibration if given.

    ``calibration = {"slope": a, "intercept": b}`` maps the raw score ``r`` to ``1 / (1 + exp(-(a r + b)))``, fitted
    on training videos so that 0.5 separates untouched from processed videos (a monotone map: AUC is unchanged).
    """
    raw = raw_video_score(scores)
    if calibration is None or math.isnan(raw):
        return raw
    return float(1.0 / (1.0 + math.exp(-(calibration["slope"] * raw + calibration["intercept"]))))


def heatmap_frame(probabilities: np.ndarray, height: int, width: int, block: int) -> np.ndarray:
    """``(height, width)`` uint8 heatmap (probability x 255, rounded) of one frame's block probabilities."""
    pixels = expand_block_map(probabilities, height, width, block)
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
