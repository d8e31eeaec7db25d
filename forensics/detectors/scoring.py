"""From block probabilities to heatmaps, frame scores and a calibrated video score (shared by detection and evaluation).

**Frame score.** Block probabilities are averaged over a window of :data:`TUBE_FRAMES` frames centred on the frame
and over 3x3 blocks before the maximum is taken: a fill is a region that persists, while false alarms on real
content flicker from block to block and frame to frame, so a lone high block is not a flagged frame.

**Video score.** :func:`video_features` summarises a ``(T, rows, cols)`` probability volume by

- ``peak``: mean of the top quarter of frame scores;
- ``level``: mean over frames of the frame's median block probability (how busy the video is overall);
- ``contrast``: top-quarter mean of ``frame score - frame median`` (a region standing out of its frame);
- ``spread``: mean share of blocks at or above 0.5;
- ``top_blocks``: mean of the highest :data:`TOP_BLOCK_SHARE` of all the video's block probabilities (every frame
  pooled): how strong the most suspicious part of the video is, whatever its length or how the fill moves;

and :class:`VideoScoreModel`, stored with the fusion model, maps them to a raw score: one summary as it is (the
shipped recipe uses ``top_blocks``), or a logistic regression fitted on *out-of-fold* probabilities of the training
videos (the trees that scored a video never saw its footage; see :mod:`forensics.detectors.validation`). Without a
video model the raw score is ``peak``.

**Calibration.** :class:`Calibration` holds two thresholds chosen on held-out untouched footage (out-of-fold
scores of untouched training videos) for a stated false-alarm rate: the raw video score and the raw frame score
that the stated share of untouched videos (frames) reach. Both scores are then reported on one calibrated scale on
which that threshold is 0.5 (:meth:`Calibration.scale`, piecewise linear and monotone, 0 and 1 kept): a video
(frame) scoring 0.5 or more is flagged, and at most the stated share of untouched held-out videos (frames) was.

Examples
--------
>>> import numpy as np
>>> probs = np.zeros((2, 6, 6), np.float32); probs[1, 2:5, 2:5] = 0.9
>>> [round(value, 2) for value in frame_scores(probs)]  # both frames see the 2-frame tube's mean
[0.45, 0.45]
>>> model = VideoScoreModel(features=("contrast",), coefficients=(8.0,), intercept=-4.0)
>>> round(raw_video_score(probs, model), 3)
0.401
>>> calibration = Calibration(false_alarm_rate=0.05, video_threshold=0.3, frame_threshold=0.6, videos=40, frames=800)
>>> calibration.scale(0.3, "video"), calibration.scale(0.65, "video"), calibration.scale(0.3, "frame")
(0.5, 0.75, 0.25)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import cv2
import numpy as np

from forensics.detectors.blocks import expand_block_map

SMOOTH_BLOCKS = 3
TOP_FRAME_SHARE = 0.25
#: Share of a video's blocks (all frames pooled) whose probabilities ``top_blocks`` averages.
TOP_BLOCK_SHARE = 0.02
#: Frames in the window a frame's score is taken over (centred: two before, one after... see :func:`tubes`).
TUBE_FRAMES = 4
VIDEO_FEATURES: tuple[str, ...] = ("peak", "level", "contrast", "spread", "top_blocks")
#: The calibrated score from which a video or frame is flagged.
FLAG_AT = 0.5


def tubes(probabilities: np.ndarray, frames: int = TUBE_FRAMES) -> np.ndarray:
    """Mean of ``(T, rows, cols)`` probabilities over a window of ``frames`` frames around each frame.

    The window of frame ``t`` is ``[t - frames // 2, t + (frames - 1) // 2]`` clipped to the video (frames 2 before
    to 1 after for the default 4).
    """
    count = len(probabilities)
    cumulative = np.cumsum(
        np.concatenate([np.zeros_like(probabilities[:1], np.float64), probabilities.astype(np.float64)]), axis=0
    )
    starts = np.clip(np.arange(count) - frames // 2, 0, count)
    ends = np.clip(np.arange(count) + (frames - 1) // 2 + 1, 0, count)
    return ((cumulative[ends] - cumulative[starts]) / (ends - starts)[:, None, None]).astype(np.float32)


def frame_scores(probabilities: np.ndarray) -> list[float]:
    """Raw scores of ``(T, rows, cols)`` block probabilities, one per frame: max of the 3x3-block tube mean."""
    smoothed = [
        cv2.blur(frame, (SMOOTH_BLOCKS, SMOOTH_BLOCKS), borderType=cv2.BORDER_REFLECT)
        for frame in tubes(np.asarray(probabilities, np.float32))
    ]
    return [float(np.clip(frame.max(), 0.0, 1.0)) for frame in smoothed]


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
    return {
        "peak": top_share_mean(peaks),
        "level": float(medians.mean()),
        "contrast": top_share_mean(peaks - medians),
        "spread": float((probabilities >= 0.5).mean()),
        "top_blocks": top_share_mean(probabilities.reshape(-1), TOP_BLOCK_SHARE),
    }


@dataclass(frozen=True)
class VideoScoreModel:
    """Logistic map from :func:`video_features` to a raw video score in [0, 1].

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
    link : {"logistic", "identity"}
        ``logistic``: the sigmoid of the weighted sum; ``identity``: the weighted sum clipped to [0, 1] (a fixed
        summary such as ``peak`` with weight 1).
    """

    features: tuple[str, ...]
    coefficients: tuple[float, ...]
    intercept: float
    fitted_on: dict[str, Any] | None = None
    link: str = "logistic"

    def __post_init__(self) -> None:
        unknown = set(self.features) - set(VIDEO_FEATURES)
        if unknown or len(self.features) != len(self.coefficients) or self.link not in ("logistic", "identity"):
            raise ValueError(f"bad video model: unknown features {sorted(unknown)}, coefficient count or link")

    @classmethod
    def summary(cls, name: str) -> VideoScoreModel:
        """The fixed score that is one summary of :func:`video_features` (identity link, weight 1)."""
        return cls(features=(name,), coefficients=(1.0,), intercept=0.0, fitted_on={"fixed": name}, link="identity")

    def score(self, features: dict[str, float]) -> float:
        """Raw score in [0, 1] (NaN when a feature is NaN)."""
        values = [features[name] for name in self.features]
        if any(math.isnan(value) for value in values):
            return math.nan
        total = self.intercept + sum(weight * value for weight, value in zip(self.coefficients, values, strict=True))
        if self.link == "identity":
            return float(min(max(total, 0.0), 1.0))
        return float(1.0 / (1.0 + math.exp(-min(max(total, -60.0), 60.0))))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored in the fusion model's ``extra["video_model"]``)."""
        return {
            "features": list(self.features),
            "coefficients": list(self.coefficients),
            "intercept": self.intercept,
            "fitted_on": self.fitted_on or {},
            "link": self.link,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> VideoScoreModel:
        """Inverse of :meth:`to_json`."""
        return cls(
            features=tuple(document["features"]),
            coefficients=tuple(float(value) for value in document["coefficients"]),
            intercept=float(document["intercept"]),
            fitted_on=dict(document.get("fitted_on", {})),
            link=str(document.get("link", "logistic")),
        )


@dataclass(frozen=True)
class Calibration:
    """Thresholds for a stated false-alarm rate, chosen on held-out untouched footage (see the module notes).

    Attributes
    ----------
    false_alarm_rate : float
        The stated share of untouched held-out videos (and frames) allowed to reach the threshold.
    video_threshold, frame_threshold : float
        Raw video and frame scores in (0, 1) at which the calibrated scale reads :data:`FLAG_AT`.
    videos, frames : int
        Untouched held-out videos and frames the thresholds were chosen on.
    """

    false_alarm_rate: float
    video_threshold: float
    frame_threshold: float
    videos: int
    frames: int

    def __post_init__(self) -> None:
        for name in ("video_threshold", "frame_threshold"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name} must be in (0, 1), got {getattr(self, name)}")

    def scale(self, raw: float, kind: Literal["video", "frame"]) -> float:
        """A raw score on the calibrated scale: ``FLAG_AT`` at the threshold, linear on each side, 0 and 1 kept."""
        threshold = self.video_threshold if kind == "video" else self.frame_threshold
        if math.isnan(raw):
            return math.nan
        if raw <= threshold:
            return float(FLAG_AT * raw / threshold)
        return float(FLAG_AT + (1 - FLAG_AT) * (raw - threshold) / (1 - threshold))

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (stored in the fusion model's ``extra["calibration"]``)."""
        return {**asdict(self), "flag_at": FLAG_AT}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> Calibration:
        """Inverse of :meth:`to_json`."""
        thresholds = {key: float(document[key]) for key in ("false_alarm_rate", "video_threshold", "frame_threshold")}
        return cls(**thresholds, videos=int(document["videos"]), frames=int(document["frames"]))


def threshold_for_rate(untouched: np.ndarray, rate: float) -> float:
    """The lowest threshold in (0, 1) that at most ``rate`` of the ``untouched`` scores reach (``score >= t``).

    It lies halfway between the highest score left below it and the next one up (or a hair above the highest).
    """
    ordered = np.sort(np.asarray(untouched, np.float64))[::-1]
    allowed = math.floor(rate * len(ordered) + 1e-9)
    if allowed >= len(ordered):
        return 1e-6
    below = ordered[allowed]
    above = ordered[allowed - 1] if allowed > 0 else min(1.0, below + 2e-6)
    return float(np.clip((below + above) / 2 if above > below else below + 1e-6, 1e-6, 1 - 1e-6))


def fit_calibration(untouched_videos: list[float], untouched_frames: list[float], rate: float) -> Calibration:
    """Thresholds at which at most ``rate`` of the untouched held-out video (frame) scores are flagged."""
    if not 0 < rate < 1:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    if not untouched_videos or not untouched_frames:
        raise ValueError("calibration needs untouched held-out videos and frames")
    return Calibration(
        false_alarm_rate=rate,
        video_threshold=threshold_for_rate(np.asarray(untouched_videos), rate),
        frame_threshold=threshold_for_rate(np.asarray(untouched_frames), rate),
        videos=len(untouched_videos),
        frames=len(untouched_frames),
    )


def raw_video_score(probabilities: np.ndarray, model: VideoScoreModel | dict | None = None) -> float:
    """The raw video score in [0, 1]: the video model on :func:`video_features`, or ``peak`` without one."""
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


@dataclass(frozen=True)
class VideoScores:
    """A video's scores, raw and on the calibrated scale (equal to the raw ones without a calibration).

    Attributes
    ----------
    video, frames : float, list of float
        Calibrated video and frame scores (flagged from :data:`FLAG_AT`).
    raw_video, raw_frames : float, list of float
        Before calibration.
    """

    video: float
    frames: list[float]
    raw_video: float
    raw_frames: list[float]


def score_probabilities(
    probabilities: np.ndarray, video_model: VideoScoreModel | dict | None, calibration: Calibration | dict | None
) -> VideoScores:
    """Video and frame scores of ``(T, rows, cols)`` block probabilities under a video model and a calibration."""
    raw_video = raw_video_score(probabilities, video_model)
    raw_frames = frame_scores(probabilities)
    if calibration is None:
        return VideoScores(raw_video, raw_frames, raw_video, raw_frames)
    if isinstance(calibration, dict):
        calibration = Calibration.from_json(calibration)
    frames = [calibration.scale(value, "frame") for value in raw_frames]
    return VideoScores(calibration.scale(raw_video, "video"), frames, raw_video, raw_frames)
