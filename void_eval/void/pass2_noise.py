"""Pass 2's starting noise along upstream's path: Go-with-the-Flow noise warped along the pass-1 output.

Upstream (``inference/cogvideox_fun/make_warped_noise.py`` and ``inference_with_pass1_warped_noise.py`` in
Netflix/void-model) does, per clip, in this order:

1. **Stretch** the pass-1 output (its padded length ``L``, 85 frames) to 72 frames: frame ``i`` is source frame
   ``round(i (L - 1) / 71)`` (nearest, Python's round, first and last frames kept).
2. **Canvas**: resize each frame so that 480x720 fits inside it, keeping the aspect ratio (scale
   ``max(480 / h, 720 / w)``, size ``ceil``), bilinear when growing and area when shrinking (per axis), then crop
   480x720 from the centre. 384x672 becomes 480x840, cropped to columns 60..779.
3. **Flow** between consecutive frames at half the canvas (240x360, area resize); upstream uses RAFT (large).
4. **Warp** 16-channel noise with Go-with-the-Flow (:mod:`void_eval.void.noise_warp`) on a grid 8 times the flow's
   (1920x2880): the flow is resized bilinearly and scaled by 8. The first frame is the initial noise.
5. **Pool** every frame to 60x90: block means of 32x32 times 32 (sums over sqrt(area): still N(0, 1)); stored as
   float16 (``noises.npy``), read back as float32.
6. **Pick** 22 of the 72 frames with ``linspace(0, 71, 22)`` truncated to integers.
7. **Resize** each frame bilinearly (OpenCV) from 60x90 to the latent grid 48x84, with no renormalisation: the
   values' standard deviation drops to about 0.66 (bilinear weights average neighbours).

Upstream's helper runs in a fresh process per clip and never seeds torch, so its noise comes from torch's default
seed on the GPU (:data:`~void_eval.void.noise_warp.TORCH_DEFAULT_SEED`); that seed is the default here too, on the
generator's device (CPU and CUDA draw different numbers from one seed).

Beyond upstream: upstream's pass 2 always makes 22 latent frames, so a clip padded beyond 85 frames fails there. Here
the same path runs over the whole padded clip at upstream's ratios: ``L`` frames are stretched to
``round(71 (L - 1) / 84) + 1`` (72 for 85) and ``k + 1`` latent frames are picked for ``L = 4k + 1``, so every
temporal window of pass 2 gets noise from one continuous warp. Any other working size keeps the 480x720 canvas and
resizes the 60x90 noise to its own latent grid, as upstream's code would.

Examples
--------
>>> stretch_indices(85, 72)[:6], stretch_indices(85, 72)[-1]
([0, 1, 2, 4, 5, 6], 84)
>>> pick_indices(72, 22)[:5], noise_frame_count(85), noise_frame_count(197)
([0, 3, 6, 10, 13], 72, 167)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from void_eval.void.noise_warp import TORCH_DEFAULT_SEED, NoiseWarper

#: Upstream's canvas (height, width): CogVideoX's native 480x720.
CANVAS = (480, 720)
#: Upstream's noise frames for an 85-frame clip.
UPSTREAM_NOISE_FRAMES = 72
#: The padded length upstream's pass 2 is written for.
UPSTREAM_FRAMES = 85
#: Frames are halved before the flow (``FRAME = 2**-1``).
FLOW_FACTOR = 2
#: Upstream's warp grid = flow grid x 8 (``FLOW = 2**3``).
UPSTREAM_WARP_SCALE = 8
#: Pixels per latent cell on the canvas (``LATENT = 8``).
LATENT_FACTOR = 8


def stretch_indices(length: int, target: int) -> list[int]:
    """Source frame of each of ``target`` frames when ``length`` frames are stretched or squashed (nearest).

    Examples
    --------
    >>> stretch_indices(10, 5), stretch_indices(5, 10)
    ([0, 2, 4, 7, 9], [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    """
    if length < 1 or target < 1:
        raise ValueError(f"length and target must be >= 1, got {length} and {target}")
    step = (length - 1) / (target - 1) if length > 1 and target > 1 else 0.0
    return [round(i * step) for i in range(target)]


def noise_frame_count(padded_frames: int) -> int:
    """Noise frames warped for a padded clip: 72 for 85 frames, the same ratio beyond."""
    if padded_frames < 1:
        raise ValueError(f"padded_frames must be >= 1, got {padded_frames}")
    return round((UPSTREAM_NOISE_FRAMES - 1) * (padded_frames - 1) / (UPSTREAM_FRAMES - 1)) + 1


def pick_indices(frames: int, latents: int) -> list[int]:
    """Noise frames kept for the latents: ``linspace(0, frames - 1, latents)`` truncated, as upstream."""
    return np.linspace(0, frames - 1, latents).astype(int).tolist()


def _resize(frame: np.ndarray, height: int, width: int, interpolation: int) -> np.ndarray:
    return cv2.resize(frame, (width, height), interpolation=interpolation)


def resize_to_hold(frame: np.ndarray, size: tuple[int, int] = CANVAS) -> np.ndarray:
    """Resize ``(h, w, 3)`` so ``size`` fits inside, aspect kept: bilinear per growing axis, area per shrinking one."""
    height, width = frame.shape[:2]
    scale = size[0] / height
    if size[1] > width * scale:
        scale = size[1] / width
    new_h, new_w = int(np.ceil(height * scale)), int(np.ceil(width * scale))
    if new_h <= height and new_w <= width:
        return _resize(frame, new_h, new_w, cv2.INTER_AREA) if (new_h, new_w) != (height, width) else frame
    if new_h >= height and new_w >= width:
        return _resize(frame, new_h, new_w, cv2.INTER_LINEAR)
    if new_h < height:
        frame = _resize(frame, new_h, width, cv2.INTER_AREA)
    if new_w < width:
        frame = _resize(frame, frame.shape[0], new_w, cv2.INTER_AREA)
    if new_h > height:
        frame = _resize(frame, new_h, frame.shape[1], cv2.INTER_LINEAR)
    if new_w > width:
        frame = _resize(frame, frame.shape[0], new_w, cv2.INTER_LINEAR)
    return frame


def canvas_frame(frame: np.ndarray, size: tuple[int, int] = CANVAS) -> np.ndarray:
    """Upstream's canvas: :func:`resize_to_hold` then a centre crop to ``size``."""
    held = resize_to_hold(frame, size)
    top = (held.shape[0] - size[0]) // 2
    left = (held.shape[1] - size[1]) // 2
    return np.ascontiguousarray(held[top : top + size[0], left : left + size[1]])


def resize_noise_bilinear(noise: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(C, H, W)`` float32 -> ``(C, h, w)`` with OpenCV's bilinear resize per channel, no renormalisation."""
    # one channel at a time, as upstream: OpenCV's multi-channel path rounds differently (~1e-5)
    resize = (size[1], size[0])
    return np.stack([cv2.resize(np.ascontiguousarray(c), resize, interpolation=cv2.INTER_LINEAR) for c in noise])


@dataclass
class WarpedNoise:
    """Pass 2's starting noise and how it was made.

    Attributes
    ----------
    latents : np.ndarray
        ``(F, C, h, w)`` float32 for the pipeline (F = latent frames of the padded clip).
    record : dict
        JSON-serialisable description for the run record.
    """

    latents: np.ndarray
    record: dict[str, Any] = field(default_factory=dict)


def _flow_tensor(flow: np.ndarray, grid: tuple[int, int]) -> torch.Tensor:
    """``(h, w, 2)`` flow in pixels -> ``(2, H, W)`` on the warp grid (bilinear, displacements scaled)."""
    height, width = flow.shape[:2]
    tensor = torch.from_numpy(np.ascontiguousarray(np.moveaxis(flow, -1, 0))).float()[None]
    tensor = F.interpolate(tensor, size=grid, mode="bilinear")[0]
    tensor[0] *= grid[1] / width
    tensor[1] *= grid[0] / height
    return tensor


def upstream_warped_noise(
    frames: np.ndarray,
    *,
    latent_size: tuple[int, int],
    channels: int,
    flow,
    warp_scale: int = UPSTREAM_WARP_SCALE,
    seed: int = TORCH_DEFAULT_SEED,
    device: str | torch.device = "cpu",
    canvas: tuple[int, int] = CANVAS,
) -> WarpedNoise:
    """Pass 2's starting noise from the padded pass-1 output, along upstream's path (module docstring).

    Parameters
    ----------
    frames : np.ndarray
        ``(L, H, W, 3)`` uint8, the pass-1 output at the working size and padded length ``L = 4k + 1``.
    latent_size : tuple of int, keyword-only
        Latent grid ``(h, w)`` (working size / 8; 48x84 upstream).
    channels : int, keyword-only
        Latent channels (16).
    flow : FlowProvider, keyword-only
        ``flow.flow(first, second) -> (H, W, 2)`` and ``flow.name`` (DIS or RAFT from ``void_eval.metrics.flow``).
    warp_scale : int, keyword-only
        Warp grid = flow grid (240x360) x ``warp_scale``; even, >= 2. Upstream 8 (1920x2880).
    seed : int, keyword-only
        Seed of the warp's generator (on ``device``); default torch's default seed, as upstream's process.
    device : str or torch.device, keyword-only
        Where the warp runs.
    canvas : tuple of int, keyword-only
        The crop the flow and warp work on, multiples of 8 (upstream 480x720; the noise is pooled to canvas / 8).

    Returns
    -------
    WarpedNoise
        ``(k + 1, channels, h, w)`` float32 and its record.
    """
    length = len(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (L, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if (length - 1) % 4:
        raise ValueError(f"frame count must be 4k+1 (a padded clip), got {length}")
    if warp_scale < 2 or warp_scale % 2:
        raise ValueError(f"warp_scale must be even and >= 2, got {warp_scale}")
    if min(canvas) < LATENT_FACTOR or canvas[0] % LATENT_FACTOR or canvas[1] % LATENT_FACTOR:
        raise ValueError(f"canvas must be multiples of {LATENT_FACTOR}, got {canvas}")
    count = noise_frame_count(length)
    order = stretch_indices(length, count)
    flow_size = (canvas[0] // FLOW_FACTOR, canvas[1] // FLOW_FACTOR)
    grid = (flow_size[0] * warp_scale, flow_size[1] * warp_scale)
    pool = warp_scale * LATENT_FACTOR // FLOW_FACTOR
    generator = torch.Generator(device=device).manual_seed(int(seed))
    warper = NoiseWarper(channels, *grid, generator=generator)
    latents = (length - 1) // 4 + 1
    picks = pick_indices(count, latents)
    wanted = set(picks)
    kept: dict[int, np.ndarray] = {}
    previous = None
    for index, source in enumerate(order):
        small = cv2.resize(canvas_frame(frames[source], canvas), flow_size[::-1], interpolation=cv2.INTER_AREA)
        if previous is not None:
            warper.step(_flow_tensor(flow.flow(previous, small), grid))
        previous = small
        if index in wanted:
            pooled = F.avg_pool2d(warper.frame[None], pool)[0] * pool
            kept[index] = pooled.cpu().numpy().astype(np.float16).astype(np.float32)
    noise = np.stack([resize_noise_bilinear(kept[index], latent_size) for index in picks]).astype(np.float32)
    record = {
        "scheme": "upstream",
        "flow": getattr(flow, "name", type(flow).__name__),
        "noise_frames": count,
        "canvas": list(canvas),
        "flow_size": list(flow_size),
        "warp_grid": list(grid),
        "warp_scale": warp_scale,
        "seed": int(seed),
        "device": str(generator.device),
        "picked": picks,
        "latent_frames": latents,
        "latent_size": list(latent_size),
        "resize": f"bilinear {grid[0] // pool}x{grid[1] // pool} -> {latent_size[0]}x{latent_size[1]}, "
        "not renormalised",
        "std": round(float(noise.std()), 4),
        "beyond_upstream": length != UPSTREAM_FRAMES,
    }
    return WarpedNoise(latents=noise, record=record)


def expected_resize_std(source: tuple[int, int] = (60, 90), target: tuple[int, int] = (48, 84)) -> float:
    """Standard deviation of i.i.d. N(0, 1) after OpenCV's bilinear resize (sqrt of the mean sum of squared weights).

    Examples
    --------
    >>> round(expected_resize_std(), 3)
    0.661
    """

    def axis(src: int, dst: int) -> np.ndarray:
        centres = (np.arange(dst) + 0.5) * src / dst - 0.5
        frac = centres - np.floor(centres)
        # OpenCV clamps at the borders: a centre before the first pixel uses it alone
        alone = (centres < 0) | (centres > src - 1)
        return np.where(alone, 1.0, frac**2 + (1 - frac) ** 2)

    return math.sqrt(float(np.mean(axis(source[0], target[0])[:, None] * axis(source[1], target[1])[None, :])))
