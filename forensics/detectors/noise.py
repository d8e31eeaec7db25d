"""Local noise level from the finest diagonal wavelet band, and its inconsistency across the frame.

Camera noise (and the codec's residue of it) has a level that varies smoothly with brightness; a filled-in region
is usually smoother (diffusion inpainting, temporal averaging) or carries another image's noise. Donoho's robust
estimator gives the noise standard deviation of each block from the diagonal detail band of a one-level Haar
transform: ``sigma = median(|HH1|) / 0.6745``.

References
----------
Donoho & Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 1994 (the MAD estimator).
Mahdian & Saic, "Using noise inconsistencies for blind image forensics", IVC 2009 (per-block wavelet noise).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> image = 128 + rng.normal(0, 4.0, (64, 64)).astype(np.float32)
>>> sigma = block_noise_sigma(image, block=32)
>>> bool(np.all(np.abs(sigma - 4.0) < 0.8))
True
"""

from __future__ import annotations

import numpy as np

from forensics.detectors.blocks import block_view, relative_to_frame

MAD_TO_SIGMA = 0.6745


def haar_hh1(image: np.ndarray) -> np.ndarray:
    """Diagonal detail band of an orthonormal one-level Haar transform, ``(H // 2, W // 2)`` float32.

    Matches ``pywt.dwt2(image, "haar")[1][2]`` (the ``HH``/diagonal coefficients) on even-sized inputs.
    """
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    x = np.asarray(image[:height, :width], np.float32)
    a, b = x[0::2, 0::2], x[0::2, 1::2]
    c, d = x[1::2, 0::2], x[1::2, 1::2]
    return (a - b - c + d) * np.float32(0.5)


def block_noise_sigma(image: np.ndarray, *, block: int = 16) -> np.ndarray:
    """Robust noise standard deviation per ``block x block`` pixel block, ``(rows, cols)`` float32.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` luma in [0, 255].
    block : int, keyword-only
        Block side in pixels (even); each block holds ``(block / 2)^2`` HH1 coefficients.

    Returns
    -------
    np.ndarray
        ``median(|HH1|) / 0.6745`` of each block, in grey levels.
    """
    hh = np.abs(haar_hh1(image))
    return (np.median(block_view(hh, block // 2), axis=-1) / MAD_TO_SIGMA).astype(np.float32)


def noise_inconsistency(sigma: np.ndarray, *, floor: float = 0.25) -> np.ndarray:
    """``log(sigma)`` of each block minus the frame's median ``log(sigma)``: 0 = typical, < 0 smoother than the rest.

    ``floor`` (grey levels) keeps noise-free blocks (synthetic renders, flat fills) finite.
    """
    if floor <= 0:
        raise ValueError(f"floor must be positive, got {floor}")
    return relative_to_frame(np.log(np.maximum(sigma, floor)).astype(np.float32))
