"""Frame strips: one picture per clip comparing every method on one frame.

Top row: input | quadmask (over the input: red remove, magenta overlap, yellow affected) | each method's output |
ground truth. Bottom row, under each method: its error map, the mean absolute difference to the ground truth over
the colour channels times :data:`ERROR_GAIN`, in the inferno colour map (black = equal); against the input when
the clip has no ground truth (then it shows what the method changed). The frame shown is the one where the
removed and affected regions are largest.

Examples
--------
>>> tile = label_tile(np.zeros((40, 60, 3), np.uint8), "input")
>>> tile.shape
(64, 60, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import cv2
import numpy as np

from void_eval.quadmask import QuadLevel, Quadmask
from void_eval.video import VideoReader

ERROR_GAIN = 4
TILE_HEIGHT = 160
_LABEL_HEIGHT = 24
_OVERLAY = {
    QuadLevel.REMOVE: (255, 40, 40),
    QuadLevel.OVERLAP: (230, 40, 230),
    QuadLevel.AFFECTED: (255, 220, 0),
}


def read_frame(path: str | Path, index: int) -> np.ndarray:
    """Frame ``index`` of a video as ``(H, W, 3)`` uint8 RGB."""
    chunk = next(VideoReader(path).chunks(1, start=index, stop=index + 1))
    return chunk[0]


def mask_overlay(frame: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The frame dimmed, with each non-keep quadmask level blended in its colour."""
    out = (frame.astype(np.float32) * 0.6).astype(np.float32)
    for level, colour in _OVERLAY.items():
        where = levels == level
        out[where] = 0.35 * frame[where] + 0.65 * np.array(colour, np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def error_map(output: np.ndarray, reference: np.ndarray, *, gain: int = ERROR_GAIN) -> np.ndarray:
    """``mean_c |output - reference| * gain`` in the inferno colour map, RGB uint8."""
    difference = np.abs(output.astype(np.int16) - reference.astype(np.int16)).mean(axis=-1)
    scaled = np.clip(difference * gain, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def label_tile(image: np.ndarray, text: str) -> np.ndarray:
    """The image with a dark caption bar above it (ASCII text)."""
    bar = np.full((_LABEL_HEIGHT, image.shape[1], 3), 32, np.uint8)
    cv2.putText(bar, text[:40], (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (240, 240, 240), 1, cv2.LINE_AA)
    return np.concatenate([bar, image], axis=0)


def _fit(image: np.ndarray, height: int) -> np.ndarray:
    scale = height / image.shape[0]
    width = max(1, round(image.shape[1] * scale))
    flag = cv2.INTER_AREA if scale < 1 else cv2.INTER_NEAREST
    return cv2.resize(image, (width, height), interpolation=flag)


def busiest_frame(masks: Iterable[Quadmask]) -> tuple[int, np.ndarray]:
    """Index and levels of the frame with the most remove/overlap/affected pixels (the first on ties).

    Streams the chunks: memory holds one chunk and one frame, whatever the clip's length.

    Examples
    --------
    >>> levels = np.full((3, 2, 2), 255, np.uint8)
    >>> levels[1, 0, :] = 0
    >>> index, frame = busiest_frame([Quadmask(levels[:2]), Quadmask(levels[2:])])
    >>> index, frame.tolist()
    (1, [[0, 0], [255, 255]])
    """
    best_index, best_count, best_levels, start = 0, -1, None, 0
    for chunk in masks:
        counts = (chunk.levels != QuadLevel.KEEP).reshape(chunk.frames, -1).sum(axis=1)
        local = int(np.argmax(counts))
        if counts[local] > best_count:
            best_index, best_count, best_levels = start + local, int(counts[local]), chunk.levels[local].copy()
        start += chunk.frames
    if best_levels is None:
        raise ValueError("no mask frames")
    return best_index, best_levels


def frame_strip(clip, outputs: Mapping[str, Path], *, tile_height: int = TILE_HEIGHT) -> np.ndarray:
    """The strip picture of ``clip`` for ``outputs`` (method label -> output video), RGB uint8.

    Parameters
    ----------
    clip : Clip
        The clip.
    outputs : mapping
        Method label -> output video path (same frame count and size as the input).
    tile_height : int, keyword-only
        Height of each tile in pixels.
    """
    index, levels = busiest_frame(clip.iter_masks(16))
    frame = read_frame(clip.input_path, index)
    truth = read_frame(clip.counterfactual_path, index) if clip.counterfactual_path else None
    reference = truth if truth is not None else frame
    against = "gt" if truth is not None else "input"
    top = [
        label_tile(_fit(frame, tile_height), f"input (frame {index})"),
        label_tile(_fit(mask_overlay(frame, levels), tile_height), "quadmask"),
    ]
    blank = np.full_like(top[0], 255)
    bottom = [blank, blank]
    for label, path in outputs.items():
        output = read_frame(path, index)
        top.append(label_tile(_fit(output, tile_height), label))
        bottom.append(label_tile(_fit(error_map(output, reference), tile_height), f"|{label}-{against}| x{ERROR_GAIN}"))
    if truth is not None:
        top.append(label_tile(_fit(truth, tile_height), "ground truth"))
    else:
        top.append(label_tile(np.full_like(_fit(frame, tile_height), 200), "no ground truth"))
    bottom.append(blank)
    gap = np.full((top[0].shape[0], 4, 3), 255, np.uint8)
    rows = [np.concatenate([part for tile in row for part in (tile, gap)][:-1], axis=1) for row in (top, bottom)]
    return np.concatenate([rows[0], np.full((4, rows[0].shape[1], 3), 255, np.uint8), rows[1]], axis=0)


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of an RGB uint8 image."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes()
