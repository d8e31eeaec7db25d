"""Per-frame block features: each block's signals set against what untouched footage of the frame's kind shows.

The signals (:mod:`forensics.detectors.signals`) are absolute measurements; a smooth block means little in a clean
render or a heavily compressed video and much in a noisy camera frame. This module is the cheap, block-level half
of feature extraction: :class:`ContextFeatures` turns each frame's :class:`~forensics.detectors.signals.FrameSignals`
into a ``(rows, cols, F)`` float32 array whose columns are :data:`FEATURE_NAMES`:

- the signals as they are (the model learns absolute levels of untouched footage across many sources);
- *frame descriptors*, what this footage is like: the frame's median and upper (80th percentile) noise level,
  median residual energy, temporal ratio and static share, the copy-peak and grid strengths. Upper quantiles stay
  put when a fill covers a third of the frame, where a median would follow the fill;
- for the key signals, the block relative to the frame median (``*_frame``), to the frame's upper quantile
  (``*_upper``, for the noise-like signals a fill lowers), to the surrounding 7x7-block ring (``*_local``), and
  smoothed over 3x3 blocks (``*_smooth``);
- evidence followed along the motion (:mod:`.tracking`): ``*_track`` (about 4 frames) and ``*_track_long``
  (about 12 frames);
- the block against *the same piece of the scene in earlier frames* (``*_history``): its value minus the average
  of what its content showed before, followed along the motion. A hole that moves over the scene (or a removed
  object that moves) rewrites each place for a while only; before it came, that place was untouched footage of
  this very video, the most faithful reference of what untouched looks like there. A fill that never moves gets
  no such contrast, and the other features carry it.

:class:`BlockFeatureExtractor` runs both halves on frames. The fusion model handles NaN (signals undefined on the
first frame).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> extractor = BlockFeatureExtractor(block=16)
>>> frames = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
>>> out = [extractor.update(frame) for frame in frames]
>>> out[0].features.shape == (3, 4, len(FEATURE_NAMES))
True
>>> bool(np.isnan(out[0]["temporal_ratio"]).all()), bool(np.isfinite(out[1]["temporal_ratio_track"]).all())
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forensics.detectors.blocks import BlockGrid, relative_to_neighbours
from forensics.detectors.signals import FRAME_SIGNAL_NAMES, SIGNAL_NAMES, FrameSignals, SignalExtractor
from forensics.detectors.tracking import MotionTrack

#: Signals that also get frame-relative, neighbour-relative and smoothed versions.
CONTEXT_SIGNALS: tuple[str, ...] = (
    "noise_log_sigma",
    "residual_log_energy",
    "residual_kurtosis",
    "residual_texture_ratio",
    "grid_energy",
    "copy_correlation",
    "temporal_ratio",
    "temporal_correlation",
    "static_share",
    "flicker_level",
)
#: Signals also set against the frame's upper quantile (:data:`UPPER_QUANTILE`).
UPPER_SIGNALS: tuple[str, ...] = ("noise_log_sigma", "residual_log_energy", "residual_texture_ratio")
UPPER_QUANTILE = 80.0
#: Signals used only as they are.
PLAIN_SIGNALS: tuple[str, ...] = tuple(name for name in SIGNAL_NAMES if name not in CONTEXT_SIGNALS)
#: What the frame is like: ``(name, signal, percentile)`` of the frame's finite block values.
FRAME_DESCRIPTORS: tuple[tuple[str, str, float], ...] = (
    ("frame_noise_log_sigma", "noise_log_sigma", 50.0),
    ("frame_noise_upper", "noise_log_sigma", UPPER_QUANTILE),
    ("frame_residual_log_energy", "residual_log_energy", 50.0),
    ("frame_temporal_ratio", "temporal_ratio", 50.0),
    ("frame_static_share", "static_share", 50.0),
)
#: Features averaged along the motion: ``*_track`` (decay :data:`TRACK_DECAY`, about 4 frames) and
#: ``*_track_long`` (:data:`TRACK_LONG_DECAY`, about 12 frames).
TRACKED: tuple[str, ...] = (
    "noise_log_sigma_local",
    "residual_log_energy_local",
    "residual_kurtosis_local",
    "residual_texture_ratio_local",
    "grid_energy_local",
    "copy_correlation",
    "temporal_ratio",
    "temporal_ratio_local",
    "temporal_correlation",
    "temporal_correlation_local",
    "static_share_local",
    "flicker_level_local",
    "flow_deviation",
)
TRACK_DECAY = 0.75
TRACK_LONG_DECAY = 0.92
#: Signals also set against the same piece of the scene in earlier frames (``*_history``): the block's value minus
#: the average (along the motion, decay :data:`HISTORY_DECAY`, about 10 frames) of the values its content had before.
HISTORY_SIGNALS: tuple[str, ...] = (
    "noise_log_sigma",
    "residual_log_energy",
    "residual_texture_ratio",
    "gradient_log_energy",
    "brightness",
    "copy_correlation",
    "temporal_correlation",
)
HISTORY_DECAY = 0.9
FEATURE_NAMES: tuple[str, ...] = (
    *CONTEXT_SIGNALS,
    *(f"{name}_{kind}" for name in CONTEXT_SIGNALS for kind in ("frame", "local", "smooth")),
    *(f"{name}_upper" for name in UPPER_SIGNALS),
    *PLAIN_SIGNALS,
    *(name for name, _, _ in FRAME_DESCRIPTORS),
    *FRAME_SIGNAL_NAMES,
    *(f"{name}_track" for name in TRACKED),
    *(f"{name}_track_long" for name in TRACKED),
    *(f"{name}_history" for name in HISTORY_SIGNALS),
)
_LOCAL_RADIUS = 3


@dataclass(frozen=True)
class FrameFeatures:
    """Features of one frame.

    Attributes
    ----------
    index : int
        Frame index in the video.
    grid : BlockGrid
        Block geometry.
    features : np.ndarray
        ``(rows, cols, F)`` float32, columns in :data:`FEATURE_NAMES` order (NaN where undefined).
    """

    index: int
    grid: BlockGrid
    features: np.ndarray

    def __getitem__(self, name: str) -> np.ndarray:
        """One feature map by name."""
        return self.features[..., FEATURE_NAMES.index(name)]


def _percentile(values: np.ndarray, q: float) -> float:
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if finite.size else float("nan")


class ContextFeatures:
    """Streaming context stage of one video: :class:`FrameSignals` in, ``(rows, cols, F)`` features out.

    Parameters
    ----------
    block : int, keyword-only
        Block side in pixels (flow / block = displacement in blocks for the motion tracks).
    """

    def __init__(self, *, block: int = 16) -> None:
        self.block = block
        self._track = MotionTrack(decay=TRACK_DECAY)
        self._track_long = MotionTrack(decay=TRACK_LONG_DECAY)
        self._history = MotionTrack(decay=HISTORY_DECAY)

    def update(self, signals: FrameSignals) -> np.ndarray:
        """Features of the next frame's signals."""
        values = {name: signals.values[..., i] for i, name in enumerate(SIGNAL_NAMES)}
        shape = signals.values.shape[:2]
        for name in CONTEXT_SIGNALS:
            base = values[name]
            if not np.isfinite(base).any():
                values[f"{name}_frame"] = values[f"{name}_local"] = values[f"{name}_smooth"] = base
                continue
            values[f"{name}_frame"] = base - np.float32(_percentile(base, 50.0))
            values[f"{name}_local"] = relative_to_neighbours(base, radius=_LOCAL_RADIUS)
            values[f"{name}_smooth"] = cv2.blur(base, (3, 3), borderType=cv2.BORDER_REFLECT)
        for name in UPPER_SIGNALS:
            values[f"{name}_upper"] = values[name] - np.float32(_percentile(values[name], UPPER_QUANTILE))
        for name, signal, q in FRAME_DESCRIPTORS:
            values[name] = np.full(shape, _percentile(values[signal], q), np.float32)
        for position, name in enumerate(FRAME_SIGNAL_NAMES):
            values[name] = np.full(shape, signals.frame[position], np.float32)
        current = np.stack([values[name] for name in TRACKED], axis=-1)
        flow = None if signals.first else signals.flow
        for suffix, track in (("track", self._track), ("track_long", self._track_long)):
            tracked = track.update(current, flow, block=self.block)
            for position, name in enumerate(TRACKED):
                values[f"{name}_{suffix}"] = tracked[..., position]
        raw = np.stack([values[name] for name in HISTORY_SIGNALS], axis=-1)
        self._history.update(raw, flow, block=self.block)
        for position, name in enumerate(HISTORY_SIGNALS):
            values[f"{name}_history"] = raw[..., position] - self._history.previous[..., position]
        return np.stack([values[name].astype(np.float32, copy=False) for name in FEATURE_NAMES], axis=-1)


class BlockFeatureExtractor:
    """Streaming block features of one video: signals (:class:`SignalExtractor`, same parameters), then context."""

    def __init__(self, *, block: int = 16, flow_scale: float = 0.5) -> None:
        self.block = block
        self.signals = SignalExtractor(block=block, flow_scale=flow_scale)
        self.context = ContextFeatures(block=block)

    def update(self, frame: np.ndarray) -> FrameFeatures:
        """Features of the next ``(H, W, 3)`` uint8 frame."""
        signals = self.signals.update(frame)
        grid = BlockGrid(frame.shape[0], frame.shape[1], self.block)
        return FrameFeatures(signals.index, grid, self.context.update(signals))


def features_from_signals(values: np.ndarray, flows: np.ndarray, frame_values: np.ndarray, *, block: int) -> np.ndarray:
    """``(T, rows, cols, F)`` features of a video from its stored signals (as :class:`BlockFeatureExtractor` gives).

    Parameters
    ----------
    values : np.ndarray
        ``(T, rows, cols, S)`` :attr:`FrameSignals.values` of every frame.
    flows : np.ndarray
        ``(T, rows, cols, 2)`` :attr:`FrameSignals.flow`.
    frame_values : np.ndarray
        ``(T, len(FRAME_SIGNAL_NAMES))`` :attr:`FrameSignals.frame`.
    block : int, keyword-only
        Block side in pixels.
    """
    context = ContextFeatures(block=block)
    frames = [
        context.update(FrameSignals(index, values[index], flows[index], frame_values[index], index == 0))
        for index in range(len(values))
    ]
    return np.stack(frames) if frames else np.zeros((0, *values.shape[1:3], len(FEATURE_NAMES)), np.float32)
