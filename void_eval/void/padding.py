"""Upstream VOID's temporal padding: lengthen a clip to ``4k + 1`` frames by appending it played backwards.

Upstream (``videox_fun/utils/utils.py``, ``temporal_padding``) raises the frame count ``n`` to the smallest
``4k + 1 >= n`` with ``k`` odd (so the VAE's ``k + 1`` latent frames are even, as the transformer's temporal patch
of 2 needs), clamps it to ``[min_length, max_length]`` (85 and 197 in VOID's config), and fills the tail by
repeatedly appending the whole current clip reversed (ping-pong playback, the end frame repeated at each turn).
Inputs longer than ``max_length`` are cut to ``max_length`` first (upstream reads at most 197 frames).

The model's output keeps the padded length; :func:`trim_to_input` keeps the first ``n`` frames.

Examples
--------
>>> padded_length(46), padded_length(85), padded_length(86), padded_length(120), padded_length(500)
(85, 85, 93, 125, 197)
>>> padding_indices(3, 9).tolist()
[0, 1, 2, 2, 1, 0, 0, 1, 2]
"""

from __future__ import annotations

import numpy as np

#: VOID's temporal window (frames); also the minimum padded length.
WINDOW_FRAMES = 85
#: VOID's maximum clip length (frames): ``config.data.max_video_length``.
MAX_FRAMES = 197


def padded_length(frames: int, *, min_length: int = WINDOW_FRAMES, max_length: int = MAX_FRAMES) -> int:
    """Frame count upstream pads a clip of ``frames`` frames to.

    Parameters
    ----------
    frames : int
        Input frame count, >= 1.
    min_length, max_length : int, keyword-only
        Bounds (upstream: 85 and 197). Both must have the form ``4k + 1`` with ``k`` odd.

    Returns
    -------
    int
        ``clamp(smallest 4k+1 >= frames with k odd, min_length, max_length)``.

    Examples
    --------
    >>> [padded_length(n) for n in (1, 84, 85, 89, 90, 197)]
    [85, 85, 85, 93, 93, 197]
    """
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    for name, bound in (("min_length", min_length), ("max_length", max_length)):
        if bound < 5 or (bound - 1) % 4 or ((bound - 1) // 4) % 2 == 0:
            raise ValueError(f"{name} must be 4k+1 with k odd (5, 13, ..., 85, ..., 197), got {bound}")
    if min_length > max_length:
        raise ValueError(f"min_length {min_length} > max_length {max_length}")
    target = (frames // 4) * 4 + 1
    if target < frames:
        target += 4
    if (target // 4) % 2 == 0:
        target += 4
    return max(min_length, min(target, max_length))


def padding_indices(frames: int, length: int) -> np.ndarray:
    """Source frame index of each of the ``length`` padded frames, upstream's ping-pong order.

    The first ``min(frames, length)`` entries are ``0, 1, ...``; then, while too short, the whole current index
    list is appended reversed, and the result cut to ``length``.

    Examples
    --------
    >>> padding_indices(4, 13).tolist()
    [0, 1, 2, 3, 3, 2, 1, 0, 0, 1, 2, 3, 3]
    >>> padding_indices(10, 4).tolist()
    [0, 1, 2, 3]
    """
    if frames < 1 or length < 1:
        raise ValueError(f"frames and length must be >= 1, got {frames} and {length}")
    indices = np.arange(min(frames, length))
    while len(indices) < length:
        indices = np.concatenate([indices, indices[::-1]])[:length]
    return indices


def pad_frames(frames: np.ndarray, length: int, *, axis: int = 0) -> np.ndarray:
    """Pad (or cut) an array along ``axis`` to ``length`` with :func:`padding_indices`.

    Examples
    --------
    >>> pad_frames(np.arange(3), 7).tolist()
    [0, 1, 2, 2, 1, 0, 0]
    """
    return np.take(frames, padding_indices(frames.shape[axis], length), axis=axis)


def trim_to_input(frames: np.ndarray, input_frames: int, *, axis: int = 0) -> np.ndarray:
    """Keep the first ``input_frames`` frames of a padded model output (the rest is reversed playback).

    Raises
    ------
    ValueError
        When the output is shorter than the input: nothing can be trimmed back.

    Examples
    --------
    >>> trim_to_input(pad_frames(np.arange(5), 85), 5).tolist()
    [0, 1, 2, 3, 4]
    """
    if frames.shape[axis] < input_frames:
        raise ValueError(f"output has {frames.shape[axis]} frames, fewer than the input's {input_frames}")
    return np.take(frames, np.arange(input_frames), axis=axis)
