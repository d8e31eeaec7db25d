"""Per-frame block features: every weight-free signal on one block grid, plus its context.

:class:`BlockFeatureExtractor` is a streaming accumulator over the frames of one video: feed frames in order with
:meth:`~BlockFeatureExtractor.update` and get a ``(rows, cols, F)`` float32 array per frame whose columns are
named by :data:`FEATURE_NAMES`. Signals that need the previous frame (temporal residuals, flicker) are NaN on the
first frame; the period-4 temporal trace is NaN until a full window has been seen. The fusion model handles NaN.

Context matters more than raw values (a smooth block is suspicious in a noisy frame, not in a clean render), so
each key signal also appears relative to the frame median (``*_frame``), relative to the surrounding blocks
(``*_local``, a 7x7-block ring) and smoothed over 3x3 blocks (``*_smooth``).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> extractor = BlockFeatureExtractor(block=16)
>>> frames = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
>>> out = [extractor.update(frame) for frame in frames]
>>> out[0].features.shape == (3, 4, len(FEATURE_NAMES))
True
>>> bool(np.isnan(out[0]["temporal_ratio"]).all()), bool(np.isfinite(out[1]["temporal_ratio"]).all())
(True, True)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from forensics.detectors.blocks import BlockGrid, block_reduce, relative_to_frame, relative_to_neighbours, to_luma
from forensics.detectors.flicker import FlickerHistory
from forensics.detectors.noise import block_noise_sigma
from forensics.detectors.residual import highpass_residual, residual_block_stats
from forensics.detectors.spectral import TEMPORAL_PERIOD, block_grid_energy, temporal_period_strength
from forensics.detectors.temporal import dis_flow, temporal_block_stats, warp_previous
from forensics.detectors.tracking import MotionTrack, block_flow, flow_deviation

#: Signals that also get frame-relative, neighbour-relative and smoothed versions.
CONTEXT_SIGNALS: tuple[str, ...] = (
    "noise_log_sigma",
    "residual_log_energy",
    "residual_kurtosis",
    "residual_texture_ratio",
    "grid_energy",
    "temporal_ratio",
    "temporal_correlation",
    "flicker_level",
)
#: Signals used as they are.
PLAIN_SIGNALS: tuple[str, ...] = (
    "brightness",
    "gradient_log_energy",
    "flow_log_magnitude",
    "flicker_spread",
    "temporal_period4",
    "frame_noise_log_sigma",
    "frame_temporal_ratio",
    "flow_deviation",
)
#: Signals also averaged along the motion over recent frames (:mod:`.tracking`): ``*_track`` (decay
#: :data:`TRACK_DECAY`, about 4 frames) and ``*_track_long`` (:data:`TRACK_LONG_DECAY`, about 12 frames).
TRACKED_SIGNALS: tuple[str, ...] = (
    "noise_log_sigma_local",
    "residual_log_energy_local",
    "residual_kurtosis_local",
    "residual_texture_ratio_local",
    "grid_energy_local",
    "temporal_ratio",
    "temporal_ratio_local",
    "temporal_correlation",
    "temporal_correlation_local",
    "flicker_level_local",
    "flow_deviation",
)
TRACK_DECAY = 0.75
TRACK_LONG_DECAY = 0.92
FEATURE_NAMES: tuple[str, ...] = (
    *CONTEXT_SIGNALS,
    *(f"{name}_{kind}" for name in CONTEXT_SIGNALS for kind in ("frame", "local", "smooth")),
    *PLAIN_SIGNALS,
    *(f"{name}_track" for name in TRACKED_SIGNALS),
    *(f"{name}_track_long" for name in TRACKED_SIGNALS),
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
    aligned_difference : np.ndarray or None
        ``(rows, cols)`` signed mean motion-compensated change of each block (None on the first frame).
    """

    index: int
    grid: BlockGrid
    features: np.ndarray
    aligned_difference: np.ndarray | None

    def __getitem__(self, name: str) -> np.ndarray:
        """One feature map by name."""
        return self.features[..., FEATURE_NAMES.index(name)]


class BlockFeatureExtractor:
    """Streaming block features of one video (frames must be fed in order, all of one size).

    Parameters
    ----------
    block : int, keyword-only
        Block side in pixels (a multiple of 8).
    flow_scale : float, keyword-only
        Scale at which DIS flow is computed (0.5 = half resolution).
    window : int, keyword-only
        Frames in the flicker window and the period-4 window (a multiple of 4, >= 8).
    """

    def __init__(self, *, block: int = 16, flow_scale: float = 0.5, window: int = 8) -> None:
        if block % 8:
            raise ValueError(f"block must be a multiple of 8, got {block}")
        if window % TEMPORAL_PERIOD or window < 2 * TEMPORAL_PERIOD:
            raise ValueError(f"window must be a multiple of {TEMPORAL_PERIOD} and >= {2 * TEMPORAL_PERIOD}")
        self.block = block
        self.flow_scale = flow_scale
        self.window = window
        self._previous: np.ndarray | None = None
        self._grid: BlockGrid | None = None
        self._energies: deque[np.ndarray] = deque(maxlen=window)
        self._flicker = FlickerHistory(window=window)
        self._track = MotionTrack(decay=TRACK_DECAY)
        self._track_long = MotionTrack(decay=TRACK_LONG_DECAY)
        self._index = 0

    def update(self, frame: np.ndarray) -> FrameFeatures:
        """Features of the next ``(H, W, 3)`` uint8 frame."""
        luma = to_luma(frame)
        if self._grid is None:
            self._grid = BlockGrid(luma.shape[0], luma.shape[1], self.block)
        elif (self._grid.height, self._grid.width) != luma.shape:
            raise ValueError(
                f"frame {self._index} is {luma.shape}, earlier frames {self._grid.height, self._grid.width}"
            )
        block = self.block
        rows, cols = self._grid.shape
        residual = highpass_residual(luma)
        stats = residual_block_stats(luma, block=block, residual=residual)
        values: dict[str, np.ndarray] = {
            "noise_log_sigma": np.log(np.maximum(block_noise_sigma(luma, block=block), 0.25)),
            "residual_log_energy": stats.log_energy,
            "residual_kurtosis": stats.kurtosis,
            "residual_texture_ratio": stats.texture_ratio,
            "grid_energy": block_grid_energy(residual, block=block),
            "brightness": block_reduce(luma, block, "mean") / 255.0,
            "gradient_log_energy": stats.log_energy - stats.texture_ratio,
        }
        nan = np.full((rows, cols), np.nan, np.float32)
        aligned_difference = None
        flow_blocks = None
        if self._previous is None:
            for name in ("temporal_ratio", "temporal_correlation", "flicker_level", "flicker_spread"):
                values[name] = nan
            values["flow_log_magnitude"] = values["flow_deviation"] = nan
        else:
            flow = dis_flow(luma, self._previous, scale=self.flow_scale)
            warped = warp_previous(self._previous, flow)
            temporal = temporal_block_stats(luma, warped, block=block, current_residual=residual)
            flicker = self._flicker.update(temporal.mean_difference)
            flow_blocks = block_flow(flow, block)
            values["temporal_ratio"] = temporal.log_energy_ratio
            values["temporal_correlation"] = temporal.correlation
            values["flicker_level"] = flicker.level
            values["flicker_spread"] = flicker.spread
            values["flow_log_magnitude"] = np.log1p(np.sqrt((flow_blocks**2).sum(axis=-1)))
            values["flow_deviation"] = flow_deviation(flow_blocks)
            aligned_difference = temporal.mean_difference
        self._energies.append(stats.log_energy)
        if len(self._energies) == self.window:
            values["temporal_period4"] = temporal_period_strength(np.stack(self._energies))
        else:
            values["temporal_period4"] = nan
        values["frame_noise_log_sigma"] = np.full((rows, cols), np.median(values["noise_log_sigma"]), np.float32)
        ratio = values["temporal_ratio"]
        frame_ratio = np.median(ratio) if np.isfinite(ratio).any() else np.nan
        values["frame_temporal_ratio"] = np.full((rows, cols), frame_ratio, np.float32)
        for name in CONTEXT_SIGNALS:
            base = values[name]
            if not np.isfinite(base).any():
                values[f"{name}_frame"] = values[f"{name}_local"] = values[f"{name}_smooth"] = nan
                continue
            values[f"{name}_frame"] = relative_to_frame(base)
            values[f"{name}_local"] = relative_to_neighbours(base, radius=_LOCAL_RADIUS)
            values[f"{name}_smooth"] = cv2.blur(base, (3, 3), borderType=cv2.BORDER_REFLECT)
        current = np.stack([values[name] for name in TRACKED_SIGNALS], axis=-1)
        for suffix, track in (("track", self._track), ("track_long", self._track_long)):
            tracked = track.update(current, flow_blocks, block=block)
            for position, name in enumerate(TRACKED_SIGNALS):
                values[f"{name}_{suffix}"] = tracked[..., position]
        features = np.stack([values[name].astype(np.float32) for name in FEATURE_NAMES], axis=-1)
        result = FrameFeatures(self._index, self._grid, features, aligned_difference)
        self._previous = luma
        self._index += 1
        return result
