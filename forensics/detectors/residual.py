"""High-pass residual statistics per block.

The residual of a second-order high-pass filter (the 3x3 "square" kernel of the SRM family) keeps sensor noise and
fine texture and removes content. Inpainted regions change its statistics: diffusion fills (Telea, Navier-Stokes)
flatten it, patch and flow fills copy it, generative fills replace it with the decoder's own texture. Per block
the module reports the residual's log energy, its kurtosis, and its energy relative to the block's gradient
energy (texture-normalised residual).

References
----------
Fridrich & Kodovsky, "Rich models for steganalysis of digital images", IEEE TIFS 2012 (SRM residuals).

Examples
--------
>>> import numpy as np
>>> flat = np.full((32, 32), 100.0, np.float32)
>>> stats = residual_block_stats(flat, block=16)
>>> float(stats.log_energy.max()) < -5
True
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forensics.detectors.blocks import block_reduce, block_view

#: Second-order 3x3 residual kernel (SRM "square 3x3"), normalised so that its response to white noise of
#: variance s^2 has variance s^2 * sum(k^2) = 2.25 s^2.
SRM_SQUARE3 = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], dtype=np.float32) / 4.0
_EPS = 1e-3


def highpass_residual(image: np.ndarray) -> np.ndarray:
    """Second-order high-pass residual of an ``(H, W)`` luma image (float32, same size, reflected borders)."""
    return cv2.filter2D(np.asarray(image, np.float32), cv2.CV_32F, SRM_SQUARE3, borderType=cv2.BORDER_REFLECT_101)


@dataclass(frozen=True)
class ResidualStats:
    """Per-block residual statistics, each ``(rows, cols)`` float32.

    Attributes
    ----------
    log_energy : np.ndarray
        ``log(mean(r^2) + 1e-3)``.
    kurtosis : np.ndarray
        ``log(1 + mean(r^4) / mean(r^2)^2)`` (kurtosis 3 for Gaussian noise, large for sparse texture; 0 on flat
        blocks).
    texture_ratio : np.ndarray
        ``log((mean(r^2) + 1e-3) / (mean(|grad|^2) + 1e-3))``: residual energy per unit of local structure.
    """

    log_energy: np.ndarray
    kurtosis: np.ndarray
    texture_ratio: np.ndarray


def residual_block_stats(image: np.ndarray, *, block: int = 16, residual: np.ndarray | None = None) -> ResidualStats:
    """Block statistics of the high-pass residual of an ``(H, W)`` luma image.

    Parameters
    ----------
    image : np.ndarray
        Luma in [0, 255].
    block : int, keyword-only
        Block side in pixels.
    residual : np.ndarray, optional, keyword-only
        A precomputed :func:`highpass_residual` of ``image`` (saves a filter pass).
    """
    r = highpass_residual(image) if residual is None else residual
    r2 = r * r
    m2 = block_reduce(r2, block, "mean")
    m4 = block_reduce(r2 * r2, block, "mean")
    kurtosis = np.where(m2 > _EPS, m4 / np.maximum(m2 * m2, _EPS * _EPS), 0.0).astype(np.float32)
    image = np.asarray(image, np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    g2 = block_reduce(gx * gx + gy * gy, block, "mean")
    return ResidualStats(
        log_energy=np.log(m2 + _EPS).astype(np.float32),
        kurtosis=np.log1p(kurtosis).astype(np.float32),
        texture_ratio=np.log((m2 + _EPS) / (g2 + _EPS)).astype(np.float32),
    )


def block_residual_values(residual: np.ndarray, block: int) -> np.ndarray:
    """The residual cut into blocks, ``(rows, cols, block * block)`` (a view helper for other signals)."""
    return block_view(residual, block)
