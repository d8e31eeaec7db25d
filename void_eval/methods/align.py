"""Bring a video made elsewhere back onto its clip: frame count, size, and an optional composite.

Shared by ``precomputed`` (outputs read from a folder) and ``external`` (outputs a tool just wrote), so both treat
padding, size and masks the same way. Three steps, each recorded in the method's ``last_run``:

1. **Frames** (:func:`check_length`). A source shorter than the input is an error. A longer one is accepted only
   under the ``trim`` mode's rule and cut to its first ``N`` frames (padding is appended at the end):
   ``"exact"`` — exactly the frame count the tool was given (``working_frames``: the input's, or the input padded
   to what the tool needs); ``"upstream"`` — the input's count or upstream VOID's padded length of it
   (:func:`~void_eval.void.padding.padded_length`); ``"any"`` — any longer source; ``"none"`` — no longer source.
2. **Size**: a source of another size is resized back to the input's, INTER_AREA when both sides shrink and
   INTER_LINEAR otherwise.
3. **Composite** (``composite="remove"`` or ``"remove+affected"``): the input's pixels are pasted back outside
   those quadmask levels grown by ``composite_dilation`` px, as the classic inpainting protocol does; off by
   default, so a method that changes the keep region is measured doing so.

The output is written at the input's frame rate whatever the source's.

Examples
--------
>>> check_length("out.mp4", 85, 12, trim="upstream")
>>> check_length("out.mp4", 12, 12, trim="none")
>>> check_length("out.mp4", 13, 12, trim="none")
Traceback (most recent call last):
...
void_eval.errors.InputError: out.mp4: has 13 frames, more than the input's 12 (trim=False)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.base import LEVEL_SETS, level_mask
from void_eval.video import VideoWriter

#: How a source longer than the input is treated (module docstring).
TRIM_MODES = ("exact", "upstream", "any", "none")
CHUNK_FRAMES = 16


def check_composite(composite: str | None, dilation: int) -> str | None:
    """Validate ``composite`` (None, ``"remove"`` or ``"remove+affected"``) and its dilation; returns it."""
    if composite is not None and composite not in LEVEL_SETS:
        raise ValueError(f"composite must be one of {', '.join(LEVEL_SETS)} or None, got {composite!r}")
    if int(dilation) < 0:
        raise ValueError(f"composite_dilation must be >= 0, got {dilation}")
    return composite


def check_length(
    source: str | Path,
    source_frames: int,
    input_frames: int,
    *,
    trim: str,
    working_frames: int | None = None,
    upstream_name: bool = False,
    hint: str = "",
) -> None:
    """Raise :class:`InputError` unless ``source_frames`` may be aligned to ``input_frames`` (module docstring).

    Parameters
    ----------
    source : str or Path
        Named in the message.
    source_frames, input_frames : int
        Frames of the source and of the clip's input.
    trim : {"exact", "upstream", "any", "none"}, keyword-only
    working_frames : int, optional, keyword-only
        ``"exact"``: the frame count the tool was given (default ``input_frames``).
    upstream_name : bool, keyword-only
        The source has an upstream VOID output name: ``"any"`` then still requires upstream's padded length.
    hint : str, keyword-only
        Appended to the message of a padded-length mismatch.
    """
    from void_eval.void.padding import MAX_FRAMES, padded_length

    if trim not in TRIM_MODES:
        raise ValueError(f"trim must be one of {TRIM_MODES}, got {trim!r}")
    if trim == "exact":
        expected = working_frames or input_frames
        if source_frames != expected:
            given = "" if expected == input_frames else f" (the input's {input_frames} padded to {expected})"
            raise InputError(source, f"has {source_frames} frames, expected the {expected} it was given{given}")
        return
    if source_frames < input_frames:
        if input_frames > MAX_FRAMES:
            cap = (
                f"; upstream VOID reads at most {MAX_FRAMES} frames, so its output of a {input_frames}-frame "
                f"input is too short: cut the input to {MAX_FRAMES} frames or fewer"
            )
        else:
            cap = f" (upstream VOID outputs at most {MAX_FRAMES} frames)"
        raise InputError(source, f"has {source_frames} frames, fewer than the input's {input_frames}{cap}")
    if source_frames == input_frames:
        return
    if trim == "none":
        raise InputError(source, f"has {source_frames} frames, more than the input's {input_frames} (trim=False)")
    padded = padded_length(input_frames)
    if source_frames == padded or (trim == "any" and not upstream_name):
        return
    raise InputError(
        source,
        f"has {source_frames} frames; upstream VOID pads a {input_frames}-frame input to exactly {padded}, so this "
        f"is not its padded output of this input{hint}",
    )


def _resize_plan(source_size: tuple[int, int], clip: Clip) -> tuple[bool, bool]:
    """``(differs, shrinking)`` for a source of ``(height, width)``."""
    height, width = source_size
    differs = (height, width) != (clip.height, clip.width)
    return differs, height >= clip.height and width >= clip.width


def write_aligned(
    chunks: Iterator[np.ndarray],
    clip: Clip,
    writer: VideoWriter,
    *,
    source_size: tuple[int, int],
    composite: str | None = None,
    composite_dilation: int = 0,
) -> dict[str, Any]:
    """Write the source's first ``clip.frames`` frames, resized back and optionally composited; returns a record.

    ``chunks`` must yield the source's frames in order, at least ``clip.frames`` of them, in chunks of
    :data:`CHUNK_FRAMES` (so they line up with the clip's chunks when compositing).
    """
    differs, shrinking = _resize_plan(source_size, clip)
    flag = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    clip_chunks = clip.iter_aligned(CHUNK_FRAMES) if composite else None
    pasted = 0
    written = 0
    for chunk in chunks:
        chunk = chunk[: clip.frames - written]
        if not len(chunk):
            break
        if differs:
            chunk = np.stack([cv2.resize(frame, (clip.width, clip.height), interpolation=flag) for frame in chunk])
        if clip_chunks is not None:
            aligned = next(clip_chunks)
            keep = ~level_mask(aligned.mask, composite, dilation=composite_dilation)
            chunk = np.where(keep[..., None], aligned.frames, chunk)
            pasted += int(keep.sum())
        writer.write(chunk)
        written += len(chunk)
    return {
        "resized_from": list(source_size) if differs else None,
        "resize_interpolation": ("area" if shrinking else "linear") if differs else None,
        "composite": composite,
        "composite_dilation": int(composite_dilation) if composite else None,
        "composite_pixels_pasted": pasted if composite else None,
    }


def rechunk(frames: Iterator[np.ndarray], size: int = CHUNK_FRAMES) -> Iterator[np.ndarray]:
    """Regroup a stream of single frames ``(H, W, 3)`` into ``(T, H, W, 3)`` chunks of ``size``.

    Examples
    --------
    >>> [len(c) for c in rechunk(iter(np.zeros((5, 2, 2, 3), np.uint8)), 2)]
    [2, 2, 1]
    """
    buffer: list[np.ndarray] = []
    for frame in frames:
        buffer.append(frame)
        if len(buffer) == size:
            yield np.stack(buffer)
            buffer = []
    if buffer:
        yield np.stack(buffer)
