"""Upstream VOID's temporal multi-diffusion: windows of latent frames blended with a linear cross-fade.

When a clip has more latent frames than the window (22 latents = 85 frames), upstream's pipeline
(``pipeline_cogvideox_fun_inpaint.py``) denoises, at every step, windows ``[b, min(b + 22, F))`` starting at
``b = 0`` and advancing to ``b = end - 4`` (``temporal_multidiffusion_stride = 16`` frames = 4 latents), until a
window reaches the end. Each window's result is weighted: 1 inside, a ramp ``linspace(0, 1, 6)[1:-1] = 0.2, 0.4,
0.6, 0.8`` over its first 4 latents when it does not start at 0, and the mirrored ramp over its last 4 when it does
not end at ``F``. The blended latent is ``sum(w * x) / sum(w)``. Where two windows overlap the weights sum to 1.

Examples
--------
>>> [(w.start, w.stop) for w in latent_windows(50)]
[(0, 22), (18, 40), (36, 50)]
>>> [round(float(x), 2) for x in latent_windows(50)[1].weights[:5]]
[0.2, 0.4, 0.6, 0.8, 1.0]
>>> len(latent_windows(22))
1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Latent frames per window (85 frames).
WINDOW_LATENTS = 22
#: Latent frames of cross-fade between consecutive windows (16 frames).
OVERLAP_LATENTS = 4


@dataclass(frozen=True)
class LatentWindow:
    """One window: latent frames ``[start, stop)`` and their blend weights (``stop - start`` floats)."""

    start: int
    stop: int
    weights: np.ndarray


def latent_windows(
    latent_frames: int, *, window: int = WINDOW_LATENTS, overlap: int = OVERLAP_LATENTS
) -> list[LatentWindow]:
    """Upstream's windows and cross-fade weights for ``latent_frames`` latent frames.

    Parameters
    ----------
    latent_frames : int
        Latent frames of the whole (padded) clip, >= 1.
    window : int, keyword-only
        Latent frames per window (upstream 22); one window covers everything when ``latent_frames <= window``.
    overlap : int, keyword-only
        Cross-fade length in latent frames (upstream 4); ``0 <= overlap < window``.

    Returns
    -------
    list of LatentWindow
        In order; weights are float32.

    Examples
    --------
    >>> w = latent_windows(26)
    >>> [(x.start, x.stop) for x in w], [round(float(x), 2) for x in w[0].weights[-4:]]
    ([(0, 22), (18, 26)], [0.8, 0.6, 0.4, 0.2])
    """
    if latent_frames < 1:
        raise ValueError(f"latent_frames must be >= 1, got {latent_frames}")
    if window < 1 or not 0 <= overlap < window:
        raise ValueError(f"need window >= 1 and 0 <= overlap < window, got window={window}, overlap={overlap}")
    if latent_frames <= window:
        return [LatentWindow(0, latent_frames, np.ones(latent_frames, np.float32))]
    rise = np.linspace(0.0, 1.0, overlap + 2, dtype=np.float32)[1:-1]
    windows = []
    start = 0
    while True:
        stop = min(start + window, latent_frames)
        weights = np.ones(stop - start, np.float32)
        if start > 0 and overlap > 0:
            weights[:overlap] = rise
        if stop < latent_frames and overlap > 0:
            weights[-overlap:] = rise[::-1]
        windows.append(LatentWindow(start, stop, weights))
        if stop >= latent_frames:
            return windows
        start = stop - overlap


def blend_weights_total(
    latent_frames: int, *, window: int = WINDOW_LATENTS, overlap: int = OVERLAP_LATENTS
) -> np.ndarray:
    """Sum of all windows' weights per latent frame (the blend's denominator; 1 everywhere for upstream's values).

    Examples
    --------
    >>> bool(np.allclose(blend_weights_total(50), 1.0))
    True
    """
    total = np.zeros(latent_frames, np.float32)
    for item in latent_windows(latent_frames, window=window, overlap=overlap):
        total[item.start : item.stop] += item.weights
    return total
