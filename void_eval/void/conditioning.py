"""Upstream VOID's input preparation: the video and the quadmask, as the model was trained to see them.

Facts (upstream ``videox_fun/utils/utils.py`` ``get_video_mask_input`` and the inpaint pipeline; see
``docs/void-format.md``):

- Video: RGB ``/ 255``, then area resize (``torch.nn.functional.interpolate(mode="area")``) to the working size
  (384x672 by default, aspect NOT preserved). The pipeline maps it to ``[-1, 1]`` before the VAE.
- Quadmask: channel R of the mask video, area resize, quantise ``<= 31 -> 0``, ``(31, 95] -> 63``,
  ``(95, 191] -> 127``, ``> 191 -> 255``, invert ``255 - x``, ``/ 255``: remove 1.0, overlap 0.753, affected 0.502,
  keep 0.0 (the "model view", 1 = remove).
- Binary masks (``mask_*.mp4``, WHITE = remove): area resize, ``< 240 -> 0`` else 255, dilate each frame with an
  11x11 square, union over objects, ``/ 255`` (no inversion).
- Snapping inside the pipeline: pass 1 (``use_trimask=True``) ``> 0.75 -> 1``, ``[0.25, 0.75] -> 127/255``,
  ``< 0.25 -> 0`` (overlap counts as remove); pass 2 ``> 0.5 -> 1`` else 0 (affected counts as remove too).
- The transformer's mask condition is the VAE encoding of ``1 - snapped`` tiled to 3 channels, fed in ``[0, 1]``
  (not normalised to ``[-1, 1]``), latent ``mode()`` times the VAE scaling factor.

Examples
--------
>>> import numpy as np
>>> red = np.array([0, 63, 127, 255], np.uint8).reshape(1, 1, 4).repeat(2, 1)
>>> mask = quadmask_model_view(red, size=(2, 4))
>>> [round(float(v), 3) for v in mask[0, 0, 0, 0]]
[1.0, 0.753, 0.502, 0.0]
>>> [round(float(v), 3) for v in snap_mask(mask, pass_=1)[0, 0, 0, 0]]
[1.0, 1.0, 0.498, 0.0]
>>> [float(v) for v in snap_mask(mask, pass_=2)[0, 0, 0, 0]]
[1.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from void_eval.void.padding import MAX_FRAMES, WINDOW_FRAMES, padded_length

if TYPE_CHECKING:
    import torch

    from void_eval.clip import Clip

#: Upstream's working size ``(height, width)``: ``config.data.sample_size = "384x672"``.
WORKING_SIZE: tuple[int, int] = (384, 672)
#: Binary masks: pixels ``>= 240`` (after the area resize) are the object.
BINARY_THRESHOLD = 240
#: Binary masks: each frame is dilated with a square of this side.
BINARY_DILATION = 11
#: The value pass 1 snaps affected pixels to (upstream writes ``127. / 255.``).
PASS1_AFFECTED = 127.0 / 255.0

Pass = Literal[1, 2]


def _area_resize(values: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """``(T, H, W)`` float -> ``(T, h, w)`` float32 with ``interpolate(mode="area")`` (per-frame average pooling)."""
    import torch
    import torch.nn.functional as F

    tensor = torch.as_tensor(np.ascontiguousarray(values), dtype=torch.float32)
    return F.interpolate(tensor[None], size=size, mode="area")[0]


def _check_size(size: tuple[int, int]) -> None:
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"size must be (height, width) >= 1, got {size}")


def video_model_view(frames: np.ndarray, *, size: tuple[int, int] = WORKING_SIZE) -> torch.Tensor:
    """RGB frames ``(T, H, W, 3)`` uint8 -> ``(1, 3, T, h, w)`` float32 in ``[0, 1]``, area-resized as upstream.

    Examples
    --------
    >>> import numpy as np
    >>> video_model_view(np.full((2, 4, 4, 3), 255, np.uint8), size=(2, 2)).shape
    torch.Size([1, 3, 2, 2, 2])
    """
    _check_size(size)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    channels = np.moveaxis(frames, -1, 0).astype(np.float32) / 255.0  # (3, T, H, W), as upstream: / 255 first
    import torch
    import torch.nn.functional as F

    resized = F.interpolate(torch.from_numpy(np.ascontiguousarray(channels)), size=size, mode="area")
    return resized[None]


def quantise_quadmask_values(values: torch.Tensor) -> torch.Tensor:
    """Upstream's 4-level quantisation of (area-resized, float) mask values: 0, 63, 127 or 255.

    Examples
    --------
    >>> import torch
    >>> quantise_quadmask_values(torch.tensor([31.0, 31.5, 95.0, 95.5, 191.0, 191.5])).tolist()
    [0.0, 63.0, 63.0, 127.0, 127.0, 255.0]
    """
    import torch

    out = torch.full_like(values, 255.0)
    out = torch.where(values <= 191, torch.full_like(values, 127.0), out)
    out = torch.where(values <= 95, torch.full_like(values, 63.0), out)
    return torch.where(values <= 31, torch.zeros_like(values), out)


def quadmask_model_view(red: np.ndarray, *, size: tuple[int, int] = WORKING_SIZE) -> torch.Tensor:
    """Quadmask channel R ``(T, H, W)`` -> ``(1, 1, T, h, w)`` float32 model view (1 = remove), unsnapped.

    Area resize of the raw values, quantise, invert, ``/ 255``.
    """
    _check_size(size)
    if red.ndim != 3:
        raise ValueError(f"mask must be (T, H, W), got {red.shape}")
    quantised = quantise_quadmask_values(_area_resize(red.astype(np.float32), size))
    return ((255.0 - quantised) / 255.0)[None, None]


def binary_model_view(
    reds: list[np.ndarray],
    *,
    size: tuple[int, int] = WORKING_SIZE,
    threshold: int = BINARY_THRESHOLD,
    dilation: int = BINARY_DILATION,
) -> torch.Tensor:
    """Per-object binary masks (WHITE = remove), each ``(T, H, W)`` -> ``(1, 1, T, h, w)`` float32, 1 = remove.

    Area resize, ``>= threshold`` is object, dilate each frame with a ``dilation x dilation`` square, union.
    """
    import torch

    _check_size(size)
    if not reds:
        raise ValueError("binary_model_view needs at least one mask")
    union = None
    kernel = np.ones((dilation, dilation), np.uint8) if dilation > 0 else None
    for red in reds:
        objects = (_area_resize(red.astype(np.float32), size) >= threshold).numpy().astype(np.uint8)
        if kernel is not None:
            objects = np.stack([cv2.dilate(frame, kernel) for frame in objects])
        union = objects if union is None else np.maximum(union, objects)
    return torch.from_numpy(union.astype(np.float32))[None, None]


def snap_mask(mask: torch.Tensor, *, pass_: Pass) -> torch.Tensor:
    """The pipeline's snapping of the model-view mask: pass 1 three levels, pass 2 binary.

    Parameters
    ----------
    mask : torch.Tensor
        Model view in ``[0, 1]`` (1 = remove), any shape.
    pass_ : {1, 2}, keyword-only
        Pass 1: ``> 0.75 -> 1``, ``[0.25, 0.75] -> 127/255``, ``< 0.25 -> 0``. Pass 2: ``> 0.5 -> 1`` else 0.
    """
    import torch

    if pass_ == 1:
        out = torch.where(mask > 0.75, torch.ones_like(mask), mask)
        out = torch.where((out <= 0.75) & (out >= 0.25), torch.full_like(mask, PASS1_AFFECTED), out)
        return torch.where(out < 0.25, torch.zeros_like(mask), out)
    if pass_ == 2:
        return torch.where(mask > 0.5, torch.ones_like(mask), torch.zeros_like(mask))
    raise ValueError(f"pass_ must be 1 or 2, got {pass_!r}")


@dataclass(frozen=True)
class VoidConditioning:
    """A clip prepared for VOID: padded video and mask at the working size, and how to undo it.

    Attributes
    ----------
    video : torch.Tensor
        ``(1, 3, L, h, w)`` float32 in ``[0, 1]``, temporally padded.
    mask : torch.Tensor
        ``(1, 1, L, h, w)`` float32 model view (1 = remove), quantised but not yet snapped per pass.
    prompt : str
        ``prompt.json``'s ``bg``.
    input_frames : int
        Frames of the input clip (N).
    used_frames : int
        Frames read (``min(N, max_frames)``).
    padded_frames : int
        L, of the form ``4k + 1`` with k odd.
    size : tuple of int
        Working ``(height, width)``.
    source_size : tuple of int
        The input's ``(height, width)``.
    mask_scheme : str
        ``quadmask`` or ``binary``.
    notes : list of str
        What was done to the clip (cut, padded), for the run record.
    """

    video: torch.Tensor
    mask: torch.Tensor
    prompt: str
    input_frames: int
    used_frames: int
    padded_frames: int
    size: tuple[int, int]
    source_size: tuple[int, int]
    mask_scheme: str
    notes: list[str] = field(default_factory=list)


def pad_conditioning_tensor(tensor: torch.Tensor, length: int) -> torch.Tensor:
    """Pad a ``(B, C, T, H, W)`` tensor along T to ``length`` with upstream's reversed-playback order."""
    import torch

    from void_eval.void.padding import padding_indices

    index = torch.as_tensor(padding_indices(tensor.shape[2], length))
    return tensor.index_select(2, index)


def conditioning_from_arrays(
    frames: np.ndarray,
    masks: list[np.ndarray],
    *,
    prompt: str,
    mask_scheme: str = "quadmask",
    size: tuple[int, int] = WORKING_SIZE,
    min_frames: int = WINDOW_FRAMES,
    max_frames: int = MAX_FRAMES,
) -> VoidConditioning:
    """Prepare decoded arrays: frames ``(N, H, W, 3)`` uint8, mask channel R ``(N, H, W)`` (one per binary object).

    Frames beyond ``max_frames`` are dropped as upstream does (the method refuses such clips instead).
    """
    if mask_scheme not in ("quadmask", "binary"):
        raise ValueError(f"mask_scheme must be 'quadmask' or 'binary', got {mask_scheme!r}")
    count = len(frames)
    if count < 1:
        raise ValueError("no frames")
    for mask in masks:
        if mask.shape != frames.shape[:3]:
            raise ValueError(f"mask shape {mask.shape} differs from the frames' {frames.shape[:3]}")
    used = min(count, max_frames)
    notes = []
    if used < count:
        notes.append(f"cut to {used} of {count} frames (upstream max_video_length)")
    video = video_model_view(frames[:used], size=size)
    if mask_scheme == "quadmask":
        mask = quadmask_model_view(masks[0][:used], size=size)
    else:
        mask = binary_model_view([m[:used] for m in masks], size=size)
    length = padded_length(used, min_length=min_frames, max_length=max_frames)
    if length != used:
        notes.append(f"padded {used} -> {length} frames with reversed playback")
    return VoidConditioning(
        video=pad_conditioning_tensor(video, length),
        mask=pad_conditioning_tensor(mask, length),
        prompt=prompt,
        input_frames=count,
        used_frames=used,
        padded_frames=length,
        size=tuple(size),
        source_size=tuple(frames.shape[1:3]),
        mask_scheme=mask_scheme,
        notes=notes,
    )


def load_conditioning(
    clip: Clip,
    *,
    size: tuple[int, int] = WORKING_SIZE,
    min_frames: int = WINDOW_FRAMES,
    max_frames: int = MAX_FRAMES,
) -> VoidConditioning:
    """Read a clip folder's input video and mask files and prepare them as upstream does.

    The mask is read raw (channel R of the mask file, not the toolkit's pre-quantised levels), so that
    quantisation happens after the area resize, in upstream's order.
    """
    frames = np.concatenate(list(clip.iter_frames(32)))
    per_file: list[list[np.ndarray]] = [[] for _ in clip.mask_files]
    for chunk in clip.iter_raw_masks(32):
        for index, raw in enumerate(chunk):
            per_file[index].append(raw[..., 0])
    masks = [np.concatenate(parts) for parts in per_file]
    if masks[0].shape[1:] != frames.shape[1:3]:
        # Clip.load(allow_resize=True) accepted a mask of another size: bring it to the input size first.
        height, width = frames.shape[1:3]
        masks = [np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_NEAREST) for f in m]) for m in masks]
    scheme = "binary" if clip.mask_scheme == "binary" else "quadmask"
    return conditioning_from_arrays(
        frames,
        masks,
        prompt=clip.prompt or "",
        mask_scheme=scheme,
        size=size,
        min_frames=min_frames,
        max_frames=max_frames,
    )
