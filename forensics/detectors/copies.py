"""Copy detection: blocks whose detail repeats elsewhere in the frame, or the previous frame's pixels unmoved.

A fill that copies real pixels (a clone stamp, a nearest-patch fill) carries real texture and real noise, so
smoothness and noise tests miss it. But real content does not repeat exactly: away from the repetitive textures
the fine detail of a block matches nothing else in the frame, while a copied region matches its source pixel for
pixel (up to the codec).

**Within a frame** (:func:`block_copy_correlation`). The frame is halved (area), band-passed (the image minus its
Gaussian blur, ``sigma`` = :data:`BAND_SIGMA` half-res px: detail that survives compression, unlike sensor noise)
and normalised by its local RMS so flat and textured areas weigh alike. Its autocorrelation (one FFT, the spectrum
half-whitened so broad self-similarity flattens while exact repeats stay sharp) peaks at the offset ``d`` of a copy;
peaks are ranked by *prominence* over a ring around them (a repetitive texture makes ridges, a copy an isolated
peak), and offsets shorter than :data:`MIN_SHIFT` px are skipped. For the :data:`PEAKS` best offsets, each block's
normalised correlation with the block at ``+d`` and at ``-d`` is measured; ``copy_correlation`` is the largest
(near 1 for a copied block and for its source), ``copy_peak`` the best peak's prominence.

**Along time** (:func:`static_share`). The share of a block's pixels whose value is exactly the previous frame's:
sensor noise changes every pixel every frame, a pasted still background does not (codecs also repeat static
blocks, so the frame's typical share is its context).

References
----------
Fridrich, Soukal & Lukas, "Detection of copy-move forgery in digital images", DFRWS 2003 (block matching).
Christlein et al., "An evaluation of popular copy-move forgery detection approaches", IEEE TIFS 2012.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> image = cv2.GaussianBlur(rng.normal(128, 30, (256, 320)).astype(np.float32), (0, 0), 1.0)
>>> image[96:160, 176:240] = image[96:160, 80:144]  # a 64x64 copy, 96 px to the right of its source
>>> copy = block_copy_correlation(image, block=16)
>>> [(int(dy), int(dx)) for dy, dx, _ in copy.peaks[:1]]  # in full-resolution pixels
[(0, 96)]
>>> bool(copy.correlation[7, 12] > 0.9), bool(copy.correlation[7, 6] > 0.9), bool(copy.correlation[0, 0] < 0.5)
(True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import scipy.fft

from forensics.detectors.blocks import block_reduce

#: Offsets shorter than this (full-resolution px, on both axes) are not copies: detail correlates there anyway.
MIN_SHIFT = 16
#: Autocorrelation peaks examined per frame.
PEAKS = 3
#: Band-pass scale (px at half resolution).
BAND_SIGMA = 1.0
_WHITEN = 0.5  # spectrum power divided by |F|^(2 * _WHITEN)
_FLOOR = 0.5  # grey levels: RMS below which the band is flat (smooth fill, heavy compression)
_RING = 5  # px (half resolution): radius of the ring a peak must stand out of


@dataclass(frozen=True)
class CopyEvidence:
    """Within-frame copy evidence of one frame.

    Attributes
    ----------
    correlation : np.ndarray
        ``(rows, cols)`` float32 in [0, 1]: the block's largest normalised correlation at a peak offset (+ or -).
    peak : float
        Prominence of the best autocorrelation peak, relative to the zero-offset value (0 when there is none).
    peaks : list of tuple
        ``(dy, dx, prominence)`` of the offsets examined, best first, in full-resolution pixels.
    """

    correlation: np.ndarray
    peak: float
    peaks: list[tuple[int, int, float]]


def band_detail(luma: np.ndarray, *, sigma: float = BAND_SIGMA, floor: float = _FLOOR) -> np.ndarray:
    """Half-resolution band-passed detail of an ``(H, W)`` luma image, normalised by its local RMS (float32)."""
    small = cv2.resize(luma, (luma.shape[1] // 2, luma.shape[0] // 2), interpolation=cv2.INTER_AREA)
    band = small - cv2.GaussianBlur(small, (0, 0), sigma)
    local = cv2.blur(band * band, (9, 9), borderType=cv2.BORDER_REFLECT)
    return (band / np.sqrt(local + floor * floor)).astype(np.float32)


def autocorrelation_peaks(values: np.ndarray, *, count: int = PEAKS, min_shift: int = MIN_SHIFT // 2) -> list:
    """The ``count`` most prominent peaks ``(dy, dx, prominence)`` of the (half-whitened) autocorrelation.

    Prominence is the peak's height above the highest value on a ring of radius :data:`_RING` px around it,
    relative to the zero-offset value. Only one of each ``+d``/``-d`` pair is listed (``dy > 0``, or ``dy == 0``
    and ``dx > 0``); offsets within ``min_shift`` px on both axes and the 5x5 neighbourhood of a listed peak are
    skipped.
    """
    height, width = values.shape
    spectrum = scipy.fft.rfft2(values, workers=1)
    power = (spectrum * spectrum.conj()).real / np.maximum(np.abs(spectrum), 1e-3) ** (2 * _WHITEN)
    auto = np.fft.fftshift(scipy.fft.irfft2(power, s=values.shape, workers=1)).astype(np.float32)
    cy, cx = height // 2, width // 2
    zero = float(auto[cy, cx])
    if zero <= 0:
        return []
    ring = np.zeros((2 * _RING + 1, 2 * _RING + 1), np.uint8)
    cv2.circle(ring, (_RING, _RING), _RING, 1, 2)
    prominence = auto - cv2.dilate(auto, ring)
    prominence[:cy, :] = -np.inf  # the half plane dy > 0, or dy == 0 and dx > 0
    prominence[cy, : cx + 1] = -np.inf
    prominence[cy - min_shift + 1 : cy + min_shift, cx - min_shift + 1 : cx + min_shift] = -np.inf
    peaks = []
    for _ in range(count):
        y, x = divmod(int(np.argmax(prominence)), width)
        if not prominence[y, x] > 0:
            break
        peaks.append((y - cy, x - cx, float(prominence[y, x]) / zero))
        prominence[max(0, y - 2) : y + 3, max(0, x - 2) : x + 3] = -np.inf
    return peaks


def _box_sums(integral: np.ndarray, rows: int, cols: int, block: int, dy: int, dx: int) -> np.ndarray:
    """Sums of the image behind ``integral`` (``cv2.integral``) over each block moved by ``(dy, dx)`` (clipped)."""
    height, width = integral.shape[0] - 1, integral.shape[1] - 1
    top = np.clip(np.arange(rows) * block + dy, 0, height)
    bottom = np.clip(np.arange(rows) * block + block + dy, 0, height)
    left = np.clip(np.arange(cols) * block + dx, 0, width)
    right = np.clip(np.arange(cols) * block + block + dx, 0, width)
    return (
        integral[np.ix_(bottom, right)]
        - integral[np.ix_(top, right)]
        - integral[np.ix_(bottom, left)]
        + integral[np.ix_(top, left)]
    )


def _shifted(values: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out[y, x] = values[y + dy, x + dx]`` (0 outside the image)."""
    out = np.zeros_like(values)
    height, width = values.shape
    ys, yd = slice(max(dy, 0), height + min(dy, 0)), slice(max(-dy, 0), height + min(-dy, 0))
    xs, xd = slice(max(dx, 0), width + min(dx, 0)), slice(max(-dx, 0), width + min(-dx, 0))
    out[yd, xd] = values[ys, xs]
    return out


def block_copy_correlation(
    luma: np.ndarray, *, block: int = 16, count: int = PEAKS, min_shift: int = MIN_SHIFT
) -> CopyEvidence:
    """Within-frame copy evidence of an ``(H, W)`` luma frame (see the module notes); ``block`` even."""
    values = band_detail(luma)
    half = block // 2
    rows, cols = values.shape[0] // half, values.shape[1] // half
    best = np.zeros((rows, cols), np.float32)
    peaks = autocorrelation_peaks(values, count=count, min_shift=min_shift // 2)
    if not peaks:
        return CopyEvidence(best, 0.0, [])
    energy = cv2.integral(values * values, sdepth=cv2.CV_64F)
    own = _box_sums(energy, rows, cols, half, 0, 0)
    for dy, dx, _ in peaks:
        product = cv2.integral(values * _shifted(values, dy, dx), sdepth=cv2.CV_64F)
        # +d: block B against B + d; -d: B against B - d, i.e. the product image summed over B - d
        for sign in (1, -1):
            shift = (0, 0) if sign > 0 else (-dy, -dx)
            cross = _box_sums(product, rows, cols, half, *shift)
            other = _box_sums(energy, rows, cols, half, sign * dy, sign * dx)
            best = np.maximum(best, (cross / np.sqrt(np.maximum(own * other, 1e-6))).astype(np.float32))
    full = [(2 * dy, 2 * dx, height) for dy, dx, height in peaks]
    return CopyEvidence(np.clip(best, 0.0, 1.0), float(peaks[0][2]), full)


def static_share(luma: np.ndarray, previous: np.ndarray, *, block: int = 16) -> np.ndarray:
    """Share of each block's pixels whose luma equals the previous frame's exactly, ``(rows, cols)`` float32."""
    return block_reduce((luma == previous).astype(np.float32), block, "mean")
