"""Pass 2's initial noise: Gaussian noise warped along the optical flow of the pass-1 output, computed in-process.

Upstream (``inference_with_pass1_warped_noise.py`` + ``make_warped_noise.py``) installs the Go-with-the-Flow
helper package from the network at run time, stretches the pass-1 video to 72 frames, centre-crops 480x720, warps
16-channel noise along RAFT flow and finally picks 22 of the 72 noise frames (``linspace``) and resizes them
bilinearly to the 48x84 latent grid. That only lines up for clips of at most 85 frames (22 latent frames): a longer
clip's padded latent count (up to 50) never matches the 22 noise frames.

This module computes the noise directly on the pipeline's latent grid, for any padded length:

1. Optical flow between consecutive frames of the (padded, working-size) pass-1 output, from a pluggable provider
   (default: OpenCV DIS, no weights, no network).
2. Noise transport at ``upscale`` x the latent resolution: frame 0 is i.i.d. N(0, 1); for each next frame every
   fine cell of the previous frame moves to ``round(p + flow(p))``; a target cell that receives ``n >= 1`` values
   takes their sum divided by ``sqrt(n)``; a cell that receives none (disocclusion) draws fresh N(0, 1). Sources of
   different targets are disjoint, so every frame stays exactly i.i.d. N(0, 1) while following the motion.
3. Each latent cell is the sum of its ``upscale x upscale`` fine cells divided by ``upscale`` (again N(0, 1)).
4. Latent frame ``i`` takes the noise of video frame ``4 i`` (CogVideoX's VAE maps frame 0 to latent 0 and frames
   ``4i-3 .. 4i`` to latent ``i``; for 85 frames this is the frame upstream's 22-of-72 ``linspace`` pick lands on).
   A clip padded to ``L = 4k + 1`` frames gets exactly ``k + 1`` latent noise frames, so longer clips line up.

Differences from upstream, on purpose: DIS instead of RAFT, no 480x720 centre crop (upstream's crop shifts the
noise against the 384x672 latents), no bilinear resize of noise (which lowers its variance).

Examples
--------
>>> import numpy as np
>>> frames = np.zeros((9, 32, 48, 3), np.uint8)
>>> noise = warped_noise(frames, latent_size=(4, 6), channels=2, seed=0)
>>> noise.shape
(3, 2, 4, 6)
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

#: ``flow(previous_rgb, next_rgb) -> (H, W, 2)`` float32 displacement (x, y) in pixels from previous to next.
FlowProvider = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: VAE temporal compression of CogVideoX.
TEMPORAL_COMPRESSION = 4


def dis_flow(previous: np.ndarray, following: np.ndarray) -> np.ndarray:
    """Dense forward flow with OpenCV DIS (medium preset) on grey frames: ``(H, W, 2)`` float32 (dx, dy).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((32, 32, 3), np.uint8)
    >>> dis_flow(a, a).shape
    (32, 32, 2)
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey_a = cv2.cvtColor(previous, cv2.COLOR_RGB2GRAY)
    grey_b = cv2.cvtColor(following, cv2.COLOR_RGB2GRAY)
    return dis.calc(grey_a, grey_b, None).astype(np.float32)


def transport_noise(noise: np.ndarray, flow: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move one frame of fine noise ``(C, H, W)`` along ``flow`` ``(H, W, 2)`` (fine-grid pixels), keeping N(0, 1).

    Returns the next frame's noise: sums of the values landing on a cell over ``sqrt(count)``; fresh noise where
    nothing lands.
    """
    channels, height, width = noise.shape
    ys, xs = np.mgrid[0:height, 0:width]
    tx = np.rint(xs + flow[..., 0]).astype(np.int64)
    ty = np.rint(ys + flow[..., 1]).astype(np.int64)
    inside = (tx >= 0) & (tx < width) & (ty >= 0) & (ty < height)
    target = (ty * width + tx)[inside]
    counts = np.bincount(target, minlength=height * width).astype(np.float64)
    out = rng.standard_normal((channels, height * width))
    landed = counts > 0
    scale = 1.0 / np.sqrt(counts[landed])
    for channel in range(channels):
        sums = np.bincount(target, weights=noise[channel][inside], minlength=height * width)
        out[channel, landed] = sums[landed] * scale
    return out.reshape(channels, height, width).astype(np.float32)


def _downsample(fine: np.ndarray, factor: int) -> np.ndarray:
    channels, height, width = fine.shape
    blocks = fine.reshape(channels, height // factor, factor, width // factor, factor)
    return blocks.sum(axis=(2, 4)) / factor


def warped_noise(
    frames: np.ndarray,
    *,
    latent_size: tuple[int, int],
    channels: int = 16,
    upscale: int = 4,
    seed: int = 42,
    flow: FlowProvider = dis_flow,
) -> np.ndarray:
    """Noise for every latent frame of a padded video, warped along the video's motion.

    Parameters
    ----------
    frames : np.ndarray
        ``(L, H, W, 3)`` uint8, the pass-1 output at the working size with its padded length ``L = 4k + 1``.
    latent_size : tuple of int, keyword-only
        Latent ``(h, w)`` (working size / 8).
    channels : int, keyword-only
        Latent channels (16 for CogVideoX).
    upscale : int, keyword-only
        Fine grid = ``upscale`` x latent grid (1..8); finer follows motion more smoothly.
    seed : int, keyword-only
        Seed of the noise (numpy PCG64).
    flow : FlowProvider, keyword-only
        Optical flow provider, called on the frames resized to the fine grid.

    Returns
    -------
    np.ndarray
        ``(k + 1, channels, h, w)`` float32, each frame i.i.d. N(0, 1) over its elements.
    """
    length = len(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (L, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if (length - 1) % TEMPORAL_COMPRESSION:
        raise ValueError(f"frame count must be 4k+1 (a padded clip), got {length}")
    if not 1 <= upscale <= 8:
        raise ValueError(f"upscale must be in 1..8, got {upscale}")
    if channels < 1 or min(latent_size) < 1:
        raise ValueError(f"channels and latent_size must be >= 1, got {channels}, {latent_size}")
    height, width = latent_size[0] * upscale, latent_size[1] * upscale
    rng = np.random.Generator(np.random.PCG64(seed))
    fine = rng.standard_normal((channels, height, width)).astype(np.float32)
    previous = cv2.resize(frames[0], (width, height), interpolation=cv2.INTER_AREA)
    picked = [_downsample(fine, upscale)]
    for index in range(1, length):
        current = cv2.resize(frames[index], (width, height), interpolation=cv2.INTER_AREA)
        motion = flow(previous, current)
        if motion.shape != (height, width, 2):
            raise ValueError(f"flow provider returned {motion.shape}, expected {(height, width, 2)}")
        fine = transport_noise(fine, motion, rng)
        previous = current
        if index % TEMPORAL_COMPRESSION == 0:
            picked.append(_downsample(fine, upscale))
    return np.stack(picked).astype(np.float32)
