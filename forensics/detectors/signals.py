"""Per-frame block signals: every weight-free measurement on the pixels, one value per block.

:class:`SignalExtractor` is the expensive, pixel-level half of feature extraction (the cheap block-level half,
context and tracking, is :mod:`forensics.detectors.features`). Feed frames in order with
:meth:`~SignalExtractor.update`; each call returns a :class:`FrameSignals`: ``(rows, cols, S)`` float32 values named
by :data:`SIGNAL_NAMES`, the per-block optical flow towards the previous frame, and frame-level values. Signals
that need the previous frame (temporal residuals, flicker, flow, static share) are NaN on the first frame, the
temporal periodicity until a full window has been seen.

Training caches these signals (not the derived features), so changing the context stage never re-reads video.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> extractor = SignalExtractor(block=16)
>>> frames = rng.integers(0, 256, (3, 48, 64, 3), dtype=np.uint8)
>>> out = [extractor.update(frame) for frame in frames]
>>> out[0].values.shape == (3, 4, len(SIGNAL_NAMES)), out[1].flow.shape
(True, (3, 4, 2))
>>> bool(np.isnan(out[0]["temporal_ratio"]).all()), bool(np.isfinite(out[1]["temporal_ratio"]).all())
(True, True)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from forensics.detectors.blocks import BlockGrid, block_reduce, to_luma
from forensics.detectors.copies import block_copy_correlation, static_share
from forensics.detectors.flicker import FlickerHistory
from forensics.detectors.noise import block_noise_sigma
from forensics.detectors.residual import highpass_residual, residual_block_stats
from forensics.detectors.spectral import block_grid_energy, frame_grid_period, temporal_periodicity
from forensics.detectors.temporal import dis_flow, temporal_block_stats, warp_previous
from forensics.detectors.tracking import block_flow, flow_deviation

#: Block signals, in the order of :attr:`FrameSignals.values`.
SIGNAL_NAMES: tuple[str, ...] = (
    "noise_log_sigma",
    "residual_log_energy",
    "residual_kurtosis",
    "residual_texture_ratio",
    "grid_energy",
    "brightness",
    "gradient_log_energy",
    "copy_correlation",
    "temporal_ratio",
    "temporal_correlation",
    "static_share",
    "flicker_level",
    "flicker_spread",
    "flow_log_magnitude",
    "flow_deviation",
    "temporal_periodicity",
)
#: Frame-level values, in the order of :attr:`FrameSignals.frame`.
FRAME_SIGNAL_NAMES: tuple[str, ...] = ("copy_peak", "grid_strength")
#: Frames in the flicker window and the temporal periodicity window.
WINDOW = 8
_TEMPORAL = ("temporal_ratio", "temporal_correlation", "static_share", "flicker_level", "flicker_spread")


@dataclass(frozen=True)
class FrameSignals:
    """Signals of one frame.

    Attributes
    ----------
    index : int
        Frame index in the video.
    values : np.ndarray
        ``(rows, cols, S)`` float32 in :data:`SIGNAL_NAMES` order (NaN where undefined).
    flow : np.ndarray
        ``(rows, cols, 2)`` float32 mean optical flow of each block towards the previous frame (pixels; zeros on
        the first frame).
    frame : np.ndarray
        ``(len(FRAME_SIGNAL_NAMES),)`` float32 frame-level values.
    first : bool
        Whether this is the video's first frame (no previous frame, no flow).
    """

    index: int
    values: np.ndarray
    flow: np.ndarray
    frame: np.ndarray
    first: bool

    def __getitem__(self, name: str) -> np.ndarray:
        """One signal map by name."""
        return self.values[..., SIGNAL_NAMES.index(name)]


class SignalExtractor:
    """Streaming block signals of one video (frames must be fed in order, all of one size).

    Parameters
    ----------
    block : int, keyword-only
        Block side in pixels (a multiple of 8).
    flow_scale : float, keyword-only
        Scale at which DIS flow is computed (0.5 = half resolution).
    """

    def __init__(self, *, block: int = 16, flow_scale: float = 0.5) -> None:
        if block % 8:
            raise ValueError(f"block must be a multiple of 8, got {block}")
        self.block = block
        self.flow_scale = flow_scale
        self._previous: np.ndarray | None = None
        self._grid: BlockGrid | None = None
        self._energies: deque[np.ndarray] = deque(maxlen=WINDOW)
        self._flicker = FlickerHistory(window=WINDOW)
        self._index = 0

    def _check_size(self, luma: np.ndarray) -> BlockGrid:
        if self._grid is None:
            self._grid = BlockGrid(luma.shape[0], luma.shape[1], self.block)
        elif (self._grid.height, self._grid.width) != luma.shape:
            raise ValueError(
                f"frame {self._index} is {luma.shape}, earlier frames {self._grid.height, self._grid.width}"
            )
        return self._grid

    def _spatial(self, luma: np.ndarray, residual: np.ndarray) -> tuple[dict[str, np.ndarray], list[float]]:
        block = self.block
        stats = residual_block_stats(luma, block=block, residual=residual)
        period, strength = frame_grid_period(residual)
        copies = block_copy_correlation(luma, block=block)
        values = {
            "noise_log_sigma": np.log(np.maximum(block_noise_sigma(luma, block=block), 0.25)),
            "residual_log_energy": stats.log_energy,
            "residual_kurtosis": stats.kurtosis,
            "residual_texture_ratio": stats.texture_ratio,
            "grid_energy": block_grid_energy(residual, block=block, period=period),
            "brightness": block_reduce(luma, block, "mean") / 255.0,
            "gradient_log_energy": stats.log_energy - stats.texture_ratio,
            "copy_correlation": copies.correlation,
        }
        self._energies.append(stats.log_energy)
        return values, [copies.peak, float(np.log1p(strength))]

    def _temporal(self, luma: np.ndarray, residual: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        block = self.block
        flow = dis_flow(luma, self._previous, scale=self.flow_scale)
        warped = warp_previous(self._previous, flow)
        temporal = temporal_block_stats(luma, warped, block=block, current_residual=residual)
        flicker = self._flicker.update(temporal.mean_difference)
        flow_blocks = block_flow(flow, block)
        values = {
            "temporal_ratio": temporal.log_energy_ratio,
            "temporal_correlation": temporal.correlation,
            "static_share": static_share(luma, self._previous, block=block),
            "flicker_level": flicker.level,
            "flicker_spread": flicker.spread,
            "flow_log_magnitude": np.log1p(np.sqrt((flow_blocks**2).sum(axis=-1))),
            "flow_deviation": flow_deviation(flow_blocks),
        }
        return values, flow_blocks

    def update(self, frame: np.ndarray) -> FrameSignals:
        """Signals of the next ``(H, W, 3)`` uint8 frame."""
        luma = to_luma(frame)
        rows, cols = self._check_size(luma).shape
        residual = highpass_residual(luma)
        values, frame_values = self._spatial(luma, residual)
        first = self._previous is None
        if first:
            nan = np.full((rows, cols), np.nan, np.float32)
            values.update({name: nan for name in (*_TEMPORAL, "flow_log_magnitude", "flow_deviation")})
            flow_blocks = np.zeros((rows, cols, 2), np.float32)
        else:
            temporal, flow_blocks = self._temporal(luma, residual)
            values.update(temporal)
        if len(self._energies) == WINDOW:
            values["temporal_periodicity"] = temporal_periodicity(np.stack(self._energies))
        else:
            values["temporal_periodicity"] = np.full((rows, cols), np.nan, np.float32)
        stacked = np.stack([values[name].astype(np.float32) for name in SIGNAL_NAMES], axis=-1)
        frame_array = np.asarray(frame_values, np.float32)
        result = FrameSignals(self._index, stacked, flow_blocks.astype(np.float32), frame_array, first)
        self._previous = luma
        self._index += 1
        return result
