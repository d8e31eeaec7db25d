"""From block probabilities to heatmaps, frame scores and a video score (shared by detection and evaluation).

A frame's score is the highest block probability after a 3x3-block mean (a lone noisy block counts less than a
coherent region).

The video score asks whether *some region stands out* over time, not whether probabilities are high: a busy,
fast-moving untouched video raises block probabilities everywhere, a fill raises them in one region that persists.
:func:`video_features` summarises a ``(T, rows, cols)`` probability volume by

- ``peak``: mean of the top quarter of frame scores;
- ``level``: mean over frames of the frame's median block probability (how busy the video is overall);
- ``contrast``: top-quarter mean of ``frame score - frame median``;
- ``tube_contrast``: the same on probabilities averaged over a sliding window of :data:`TUBE_FRAMES` frames
  (a region that persists keeps its peak, flicker averages away);
- ``spread``: mean share of blocks at or above 0.5;

and :class:`VideoScoreModel`, a logistic regression on these features stored with the fusion model, maps them to
``P(processed)``. It is fitted on *out-of-fold* block probabilities of the training videos (the fusion model that
scored a video never saw any clip cut from the same footage; see :func:`forensics.detectors.train.fit_video_model`),
never on evaluation clips.
Without a video model the score is ``peak``.

Examples
--------
>>> import numpy as np
>>> probs = np.zeros((2, 6, 6), np.float32); probs[1, 2:5, 2:5] = 0.9
>>> [round(value, 2) for value in frame_scores(probs)]
[0.0, 0.9]
>>> round(video_features(probs)["peak"], 2), round(video_features(probs)["contrast"], 2)
(0.9, 0.9)
>>> model = VideoScoreModel(features=("contrast",), coefficients=(8.0,), intercept=-4.0)
>>> round(video_score(probs, model), 3)
0.961
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from forensics.detectors.blocks import expand_block_map

SMOOTH_BLOCKS = 3
TOP_FRAME_SHARE = 0.25
TUBE_FRAMES = 4
VIDEO_FEATURES: tuple[str, ...] = ("peak", "level", "contrast", "tube_contrast", "spread")


def frame_score(probabilities: np.ndarray) -> float:
    """Score of one frame from its ``(rows, cols)`` block probabilities."""
    smoothed = cv2.blur(probabilities.astype(np.float32), (SMOOTH_BLOCKS, SMOOTH_BLOCKS), borderType=cv2.BORDER_REFLECT)
    return float(np.clip(smoothed.max(), 0.0, 1.0))


def frame_scores(probabilities: np.ndarray) -> list[float]:
    """Scores of ``(T, rows, cols)`` block probabilities, one per frame."""
    return [frame_score(frame) for frame in probabilities]


def top_share_mean(values: list[float] | np.ndarray, share: float = TOP_FRAME_SHARE) -> float:
    """Mean of the highest ``share`` (at least one) of ``values``; NaN for none."""
    ordered = np.sort(np.asarray(values, np.float64))[::-1]
    if ordered.size == 0:
        return math.nan
    return float(ordered[: max(1, math.ceil(ordered.size * share))].mean())


def video_features(probabilities: np.ndarray) -> dict[str, float]:
    """The video-level summaries of ``(T, rows, cols)`` block probabilities (see the module notes); NaN if T = 0."""
    probabilities = np.asarray(probabilities, np.float32)
    if probabilities.ndim != 3:
        raise ValueError(f"probabilities must be (T, rows, cols), got shape {probabilities.shape}")
    if len(probabilities) == 0:
        return dict.fromkeys(VIDEO_FEATURES, math.nan)
    peaks = np.asarray(frame_scores(probabilities))
    medians = np.median(probabilities.reshape(len(probabilities), -1), axis=1)
    cumulative = np.cumsum(np.concatenate([np.zeros_like(probabilities[:1]), probabilities]), axis=0, dtype=np.float64)
    starts = np.maximum(np.arange(len(probabilities)) - TUBE_FRAMES + 1, 0)
    ends = np.arange(1, len(probabilities) + 1)
    tubes = (cumulative[ends] - cumulative[starts]) / (ends - starts)[:, None, None]
    tube_peaks = np.asarray(frame_scores(tubes.astype(np.float32)))
    return {
        "peak": top_share_mean(peaks),
        "level": float(medians.mean()),
        "contrast": top_share_mean(peaks - medians),
        "tube_contrast": top_share_mean(tube_peaks - medians),
        "spread": float((probabilities >= 0.5).mean()),
    }


@dataclass(frozen=True)
class VideoScoreModel:
    """Logistic map from :func:`video_features` to ``P(processed)``.

    Attributes
    ----------
    features : tuple of str
        Names from :data:`VIDEO_FEATURES`, in coefficient order.
    coefficients : tuple of float
        One weight per feature.
    intercept : float
        Bias (log-odds).
    fitted_on : dict
        What it was fitted on (videos, folds), for the model card.
    """

    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float
    fitted_on: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(VIDEO_FEATURES)
        if unknown or len(self.features) != len(self.coefficients):
            raise ValueError(f"bad video model: unknown features {sorted(unknown)} or coefficient count mismatch")

    def score(self, features: dict[str, float]) -> float:
        """``P(processed)`` in [0, 1] (NaN when a feature is NaN)."""
        values = [features[name] for name in self.features]
        if any(math.isnan(value) for value in values):
            return math.nan
        logit = self.intercept + sum(weight * value for weight, value in zip(self.coefficients, values, strict=True))
        return float(1.0 / (1.0 + math.exp(-min(max(logit, -60.0), 60.0))))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored in the fusion model's ``extra["video_model"]``)."""
        return {
            "features": list(self.features),
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
            "fitted_on": self.fitted_on or {},
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> VideoScoreModel:
        """Inverse of :meth:`to_json`."""
        return cls(
            features=tuple(document["features"]),
            coefficients=tuple(float(value) for value in document["coefficients"]),
            intercept=float(document["intercept"]),
            fitted_on=dict(document.get("fitted_on", {})),
        )


def video_score(probabilities: np.ndarray, model: VideoScoreModel | dict | None = None) -> float:
    """The video's score in [0, 1] from its ``(T, rows, cols)`` block probabilities.

    With a :class:`VideoScoreModel` (or its JSON dict) the logistic map of :func:`video_features`; without one the
    ``peak`` feature.
    """
    features = video_features(probabilities)
    if model is None:
        return features["peak"]
    if isinstance(model, dict):
        model = VideoScoreModel.from_json(model)
    return model.score(features)


def heatmap_frame(probabilities: np.ndarray, height: int, width: int, block: int) -> np.ndarray:
    """``(height, width)`` uint8 heatmap (probability x 255, rounded) of one frame's block probabilities."""
    pixels = expand_block_map(probabilities, height, width, block)
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)
