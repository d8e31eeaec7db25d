"""Prepare a clip the way a recipe's tool wants it: frames or video, binary mask, working size, frame count.

:func:`prepare_clip` writes the tool's input under the work folder and returns the values the command template
uses (``input``, ``mask``, ``frames``, ``height``, ``width``, ``fps``, ...). What it does, in order:

1. **Working size**: the input's size (``size = "native"``) or a fixed ``HxW``; then scaled up so the long side is
   at least ``min_long_side``, scaled down so it is at most ``max_long_side`` (the tool's own arithmetic:
   ``int(side / (long / max_long_side))``), and each side rounded down to a multiple of ``multiple_of``. Frames are
   resized with INTER_AREA when shrinking, INTER_LINEAR otherwise.
2. **Frame count**: the input's, raised to ``min_frames`` and to the ``frames`` rule (``4k+1``, ``16k+1``, or an
   exact count) by upstream VOID's ping-pong padding (the clip played backwards and forwards again,
   :func:`~void_eval.void.padding.padding_indices`); a clip longer than ``max_frames`` (or than an exact count) is
   an error, never silently cut. The read-back keeps the first ``N`` frames.
3. **Mask**: the quadmask levels ``levels`` (``remove``: 0 and 63; ``remove+affected``: also 127), grown by
   ``dilation`` px at the input's size, resized like the frames (any covered pixel stays in the hole), written
   with the hole white (255) or black (0).
4. ``clip-folder`` (upstream VOID): ``input_video.mp4`` linked as is, ``quadmask_0.mp4`` written losslessly from
   the decoded quadmask, ``prompt.json`` copied; VOID resizes and pads by itself.

Frames folders hold PNGs (lossless); videos are written losslessly unless the recipe asks for ``h264``.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.clip import PROMPT_NAME, Clip
from void_eval.errors import InputError
from void_eval.methods.base import level_mask
from void_eval.methods.recipe import InputSpec, MaskSpec, Recipe
from void_eval.methods.templates import INTEGER_KEYS, parse_size, render, render_int
from void_eval.quadmask import Quadmask
from void_eval.video import VideoWriter


@dataclass
class Prepared:
    """What was written for the tool: the template values and a record for ``last_run``."""

    values: dict[str, Any]
    frames: int
    size: tuple[int, int]
    record: dict[str, Any]


def working_size(spec: InputSpec, height: int, width: int) -> tuple[int, int]:
    """The ``(height, width)`` the tool is given (module docstring, step 1).

    Examples
    --------
    >>> working_size(InputSpec(kind="video", path="", min_long_side=256, multiple_of=8), 48, 64)
    (192, 256)
    >>> working_size(InputSpec(kind="video", path="", max_long_side=960, multiple_of=8), 1080, 1920)
    (536, 960)
    """
    if spec.size != "native":
        height, width = parse_size(spec.size)
    long_side = max(height, width)
    if spec.min_long_side and long_side < spec.min_long_side:
        scale = spec.min_long_side / long_side
        height, width = round(height * scale), round(width * scale)
    long_side = max(height, width)
    if spec.max_long_side and long_side > spec.max_long_side:
        ratio = long_side / spec.max_long_side
        height, width = int(height / ratio), int(width / ratio)
    step = max(1, spec.multiple_of)
    height, width = max(step, height - height % step), max(step, width - width % step)
    return height, width


def working_frames(spec: InputSpec, frames: int, *, tool: str) -> int:
    """Frames the tool is given (module docstring, step 2).

    Examples
    --------
    >>> [working_frames(InputSpec(kind="video", path="", frames=rule, min_frames=22), 12, tool="t")
    ...  for rule in ("any", "4k+1", "16k+1", 81)]
    [22, 25, 33, 81]
    """
    limit = spec.frames if isinstance(spec.frames, int) else spec.max_frames
    if limit and frames > limit:
        raise InputError(
            f"{tool} recipe",
            f"the tool takes at most {limit} frames and this clip has {frames}: cut the clip (no frame is dropped "
            "silently)",
        )
    if isinstance(spec.frames, int):
        return spec.frames
    count = max(frames, spec.min_frames)
    step = {"any": 1, "4k+1": 4, "16k+1": 16}[spec.frames]
    if step > 1:
        count = count + (1 - count) % step
    return count


def _resize(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frames.shape[1:3] == size:
        return frames
    shrinking = size[0] <= frames.shape[1] and size[1] <= frames.shape[2]
    flag = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.stack([cv2.resize(frame, (size[1], size[0]), interpolation=flag) for frame in frames])


def _write_frames(folder: Path, name: str, frames: np.ndarray, values: dict[str, Any], *, where: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        path = folder / render(name, {**values, "index": index}, where=where)
        image = frame[..., ::-1] if frame.ndim == 3 else frame
        if not cv2.imwrite(str(path), np.ascontiguousarray(image)):
            raise InputError(path, "could not write this frame (is the work folder writable?)")


def _write_video(path: Path, frames: np.ndarray, fps: float, codec: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(path, fps, kind=codec) as writer:
        writer.write(frames)


def _write_mask(spec: MaskSpec, path: Path, hole: np.ndarray, fps: float, values: dict[str, Any]) -> None:
    white = spec.polarity == "white"
    grey = np.where(hole, 255 if white else 0, 0 if white else 255).astype(np.uint8)
    if spec.kind == "frames":
        _write_frames(path, spec.name, grey, values, where="[mask] name")
    else:
        _write_video(path, grey, fps, "lossless")


def link_or_copy(source: Path, target: Path) -> None:
    """Symlink ``target`` to ``source`` (folders created); copy when the file system refuses links."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.symlink(source.resolve(), target)
    except OSError:
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copyfile(source, target)


def _clip_folder(recipe: Recipe, clip: Clip, folder: Path) -> None:
    """Upstream VOID's data folder: ``input_video.mp4``, ``quadmask_0.mp4`` and ``prompt.json``."""
    prompt = Path(clip.path) / PROMPT_NAME
    if not prompt.is_file() or not clip.prompt:
        raise InputError(prompt, f"{recipe.name} needs prompt.json with a 'bg' text (the scene after removal)")
    folder.mkdir(parents=True, exist_ok=True)
    link_or_copy(clip.input_path, folder / "input_video.mp4")
    Quadmask.concatenate(list(clip.iter_masks(32))).write(folder / "quadmask_0.mp4", clip.fps)
    shutil.copyfile(prompt, folder / PROMPT_NAME)


def resolved_specs(recipe: Recipe, values: dict[str, Any]) -> tuple[InputSpec, MaskSpec | None]:
    """The recipe's ``[input]`` and ``[mask]`` with their templated integer keys filled from ``values``."""
    where = f"{recipe.source}: [input]"
    numbers = {key: render_int(getattr(recipe.input, key), values, where=where) for key in INTEGER_KEYS}
    mask = recipe.mask
    if mask is not None:
        mask = replace(mask, dilation=render_int(mask.dilation, values, where=f"{recipe.source}: [mask] dilation"))
    size = render(recipe.input.size, values, where=f"{recipe.source}: [input] size")
    return replace(recipe.input, size=size, **numbers), mask


def prepare_clip(recipe: Recipe, clip: Clip, values: dict[str, Any]) -> Prepared:
    """Write the tool's input for ``clip`` as ``recipe`` says; ``values`` holds the built-ins known before."""
    spec, mask_spec = resolved_specs(recipe, values)
    values = dict(values)
    values["input"] = render(spec.path, values, where=f"{recipe.source}: [input] path")
    if spec.kind == "clip-folder":
        _clip_folder(recipe, clip, Path(values["input"]))
        frames, size, fps = clip.frames, (clip.height, clip.width), clip.fps
    else:
        frames = working_frames(spec, clip.frames, tool=recipe.name)
        size = working_size(spec, clip.height, clip.width)
        fps = clip.fps if spec.fps == "native" else float(spec.fps)
    values.update(_size_values(frames, size, fps, clip.frames))
    record = {"working_frames": frames, "working_size": list(size), "working_fps": fps}
    if spec.kind == "clip-folder":
        return Prepared(values, frames, size, record)
    from void_eval.void.padding import padding_indices

    order = padding_indices(clip.frames, frames)
    video = np.concatenate(list(clip.iter_frames(32)))
    video = _resize(video, size)[order]
    if spec.kind == "frames":
        _write_frames(Path(values["input"]), spec.name, video, values, where=f"{recipe.source}: [input] name")
    else:
        _write_video(Path(values["input"]), video, fps, spec.codec)
    del video
    values["mask"] = render(mask_spec.path, values, where=f"{recipe.source}: [mask] path")
    quadmask = Quadmask.concatenate(list(clip.iter_masks(32)))
    hole = level_mask(quadmask, mask_spec.levels, dilation=mask_spec.dilation).astype(np.uint8) * 255
    hole = _resize(hole, size)[order] > 0
    _write_mask(mask_spec, Path(values["mask"]), hole, fps, values)
    record["mask_pixels"] = int(hole.sum())
    return Prepared(values, frames, size, record)


def _size_values(frames: int, size: tuple[int, int], fps: float, input_frames: int) -> dict[str, Any]:
    return {
        "frames": frames,
        "input_frames": input_frames,
        "height": size[0],
        "width": size[1],
        "fps": f"{fps:g}",
        "fps_int": round(fps),
        "seconds": math.ceil(frames / fps) + 1,
    }
