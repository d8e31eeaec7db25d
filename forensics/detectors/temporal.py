"""Motion-compensated temporal residuals along DIS optical flow.

Natural video carries a fresh noise realisation in every frame, so after aligning frame ``t - 1`` to frame ``t``
along the optical flow, the high-pass part of their difference has about twice the energy of either frame's
high-pass residual. A flow-propagated fill (ProPainter-style, or the toolkit's ``flowprop``) copies one noise
realisation from frame to frame: there the aligned high-pass residuals are strongly correlated and their
difference nearly vanishes. Per block the module reports the log ratio of difference energy to frame energy, the
correlation of the two residuals, and the flow magnitude as context.

Flow is OpenCV's DIS (Kroeger et al., ECCV 2016; no weights), computed from frame ``t`` to frame ``t - 1`` at a
reduced scale and used to warp ``t - 1`` onto ``t`` with bilinear sampling.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> base = rng.normal(128, 20, (64, 64)).astype(np.float32)
>>> copied = temporal_block_stats(base, base, block=16)  # the same noise twice
>>> fresh = temporal_block_stats(base + rng.normal(0, 3, base.shape).astype(np.float32), base, block=16)
>>> bool(copied.log_energy_ratio.max() < fresh.log_energy_ratio.min())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forensics.detectors.blocks import block_reduce
from forensics.detectors.residual import highpass_residual

_EPS = 1e-2


def dis_flow(current: np.ndarray, previous: np.ndarray, *, scale: float = 0.5, preset: str = "ultrafast") -> np.ndarray:
    """Dense flow from ``current`` to ``previous`` (float32 ``(H, W, 2)``, pixels) with OpenCV DIS.

    Parameters
    ----------
    current, previous : np.ndarray
        ``(H, W)`` luma in [0, 255].
    scale : float, keyword-only
        Resolution factor (0, 1] at which the flow is computed (then upsampled and rescaled).
    preset : {"ultrafast", "fast", "medium"}, keyword-only
        DIS preset.
    """
    if not 0 < scale <= 1:
        raise ValueError(f"scale must be in (0, 1], got {scale}")
    presets = {
        "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
        "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
        "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
    }
    if preset not in presets:
        raise ValueError(f"preset must be one of {sorted(presets)}, got {preset!r}")
    height, width = current.shape
    small = (max(8, round(width * scale)), max(8, round(height * scale)))
    a = cv2.resize(np.clip(current, 0, 255).astype(np.uint8), small, interpolation=cv2.INTER_AREA)
    b = cv2.resize(np.clip(previous, 0, 255).astype(np.uint8), small, interpolation=cv2.INTER_AREA)
    flow = cv2.DISOpticalFlow_create(presets[preset]).calc(a, b, None)
    if small != (width, height):
        flow = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR)
        flow[..., 0] *= width / small[0]
        flow[..., 1] *= height / small[1]
    return flow


def warp_previous(previous: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``previous`` at ``x + flow`` (bilinear, replicated borders): ``previous`` aligned to the current frame."""
    height, width = previous.shape[:2]
    map_x = flow[..., 0] + np.arange(width, dtype=np.float32)[None, :]
    map_y = flow[..., 1] + np.arange(height, dtype=np.float32)[:, None]
    return cv2.remap(
        np.asarray(previous, np.float32),
        map_x,
        map_y,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


@dataclass(frozen=True)
class TemporalStats:
    """Per-block motion-compensated statistics, each ``(rows, cols)`` float32.

    Attributes
    ----------
    log_energy_ratio : np.ndarray
        ``log((mean(hp(d)^2) + eps) / (mean(hp(I_t)^2) + eps))`` with ``d = I_t - W(I_{t-1})``: about ``log 2`` for
        fresh noise, very negative for copied noise, large for misaligned content.
    correlation : np.ndarray
        Pearson correlation of ``hp(I_t)`` and ``hp(W(I_{t-1}))`` in the block (0 on flat blocks).
    mean_difference : np.ndarray
        Mean of ``d`` in the block (signed brightness change after alignment; the flicker signal).
    """

    log_energy_ratio: np.ndarray
    correlation: np.ndarray
    mean_difference: np.ndarray


def temporal_block_stats(
    current: np.ndarray,
    warped_previous: np.ndarray,
    *,
    block: int = 16,
    current_residual: np.ndarray | None = None,
) -> TemporalStats:
    """Block statistics of the aligned pair ``(I_t, W(I_{t-1}))``; see :class:`TemporalStats`.

    Parameters
    ----------
    current : np.ndarray
        ``(H, W)`` luma of frame ``t``.
    warped_previous : np.ndarray
        Frame ``t - 1`` aligned to ``t`` (:func:`warp_previous`).
    block : int, keyword-only
        Block side in pixels.
    current_residual : np.ndarray, optional, keyword-only
        Precomputed ``highpass_residual(current)``.
    """
    hp_current = highpass_residual(current) if current_residual is None else current_residual
    hp_previous = highpass_residual(warped_previous)
    hp_difference = hp_current - hp_previous
    e_current = block_reduce(hp_current * hp_current, block, "mean")
    e_previous = block_reduce(hp_previous * hp_previous, block, "mean")
    e_difference = block_reduce(hp_difference * hp_difference, block, "mean")
    cross = block_reduce(hp_current * hp_previous, block, "mean")
    m_current = block_reduce(hp_current, block, "mean")
    m_previous = block_reduce(hp_previous, block, "mean")
    covariance = cross - m_current * m_previous
    spread = np.sqrt(np.maximum(e_current - m_current**2, 0) * np.maximum(e_previous - m_previous**2, 0))
    correlation = np.where(spread > _EPS, covariance / np.maximum(spread, _EPS), 0.0).astype(np.float32)
    difference = np.asarray(current, np.float32) - np.asarray(warped_previous, np.float32)
    return TemporalStats(
        log_energy_ratio=np.log((e_difference + _EPS) / (e_current + _EPS)).astype(np.float32),
        correlation=np.clip(correlation, -1.0, 1.0),
        mean_difference=block_reduce(difference, block, "mean"),
    )
