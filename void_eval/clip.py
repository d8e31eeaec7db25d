"""Clip folders: the unit every benchmark, metric and signature works on.

A clip folder (upstream VOID's input format, plus optional ground truth)::

    <clip>/input_video.mp4       required
    <clip>/quadmask_*.mp4        the mask, first match of: quadmask_*.mp4, trimask_quadmask.mp4,
    <clip>/trimask_quadmask.mp4    mask_*.mp4 (binary, WHITE = remove, one per object, combined)
    <clip>/prompt.json           {"bg": "the scene after removal"}; missing -> warning
    <clip>/counterfactual.mp4    optional: the scene as if the object never existed
    <clip>/meta.json             optional: anything the generator recorded

:meth:`Clip.load` checks what can be checked from the containers (frame counts, sizes, JSON);
:func:`void_eval.clip_check.check_clip` also decodes the mask to check its content.

Examples
--------
>>> clip = Clip.load("../shared/data/void_samples/BigBen")  # doctest: +SKIP
>>> clip.mask_files[0].name, clip.frames  # doctest: +SKIP
('trimask_quadmask.mp4', 50)
>>> for chunk in clip.iter_aligned(8):  # doctest: +SKIP
...     chunk.frames.shape, chunk.mask.levels.shape
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.errors import InputError
from void_eval.lockstep import lockstep
from void_eval.quadmask import BINARY_DILATION, MaskScheme, Quadmask
from void_eval.video import VideoInfo, VideoReader, probe

INPUT_NAME = "input_video.mp4"
COUNTERFACTUAL_NAME = "counterfactual.mp4"
PROMPT_NAME = "prompt.json"
META_NAME = "meta.json"
#: Mask discovery order: (glob pattern, scheme). The first pattern with a match wins. Upstream VOID's loader
#: tries ``mask_*.mp4`` first and misses ``trimask_quadmask.mp4``; a folder holding both a quadmask and binary
#: masks is read differently there, and :meth:`Clip.load` warns about it.
MASK_PATTERNS: tuple[tuple[str, MaskScheme], ...] = (
    ("quadmask_*.mp4", "quadmask"),
    ("trimask_quadmask.mp4", "quadmask"),
    ("mask_*.mp4", "binary"),
)


@dataclass(frozen=True)
class ClipChunk:
    """Frames ``[start, start + len)`` of a clip, aligned across its streams."""

    start: int
    frames: np.ndarray
    mask: Quadmask
    counterfactual: np.ndarray | None


@dataclass
class Clip:
    """A validated clip folder. Build it with :meth:`Clip.load`.

    Attributes
    ----------
    name : str
        Folder name.
    path : Path
        Folder.
    input_info : VideoInfo
        The input video's metadata.
    mask_files : tuple of Path
        Mask videos used (several only for per-object binary masks).
    mask_scheme : {"quadmask", "binary"}
        How the mask files are read.
    prompt : str or None
        ``prompt.json``'s ``bg`` text.
    counterfactual_info : VideoInfo or None
        Ground truth after removal, when the folder has ``counterfactual.mp4``.
    meta : dict
        ``meta.json`` content, or empty.
    mask_resized_from : tuple of int or None
        ``(height, width)`` of the mask files when they were resized (nearest) to the input's size.
    warnings : list of str
        Problems that do not stop evaluation.
    """

    name: str
    path: Path
    input_info: VideoInfo
    mask_files: tuple[Path, ...]
    mask_scheme: MaskScheme
    prompt: str | None = None
    counterfactual_info: VideoInfo | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    mask_resized_from: tuple[int, int] | None = None
    warnings: list[str] = field(default_factory=list)

    # -- loading ------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, *, allow_resize: bool = False) -> Clip:
        """Open and validate a clip folder.

        Parameters
        ----------
        path : str or Path
            The clip folder.
        allow_resize : bool, keyword-only
            Accept a mask of another frame size and resize it (nearest) to the input's; recorded in
            ``mask_resized_from``. A different frame count is always an error.

        Raises
        ------
        InputError
            Naming the file and the problem: missing folder or input video, unreadable video, no mask, mask and
            video disagreeing, unreadable JSON.
        """
        folder = Path(path)
        if not folder.exists():
            raise InputError(folder, "clip folder not found")
        if not folder.is_dir():
            raise InputError(folder, "is not a folder (a clip is a folder holding input_video.mp4 and a mask)")
        input_path = folder / INPUT_NAME
        if not input_path.exists():
            raise InputError(input_path, f"missing: every clip folder needs {INPUT_NAME}")
        input_info = probe(input_path)
        mask_files, scheme = _find_masks(folder)
        warnings: list[str] = []
        if scheme != "binary" and any(folder.glob("mask_*.mp4")):
            warnings.append(
                f"both {mask_files[0].name} and mask_*.mp4 are present: this toolkit uses {mask_files[0].name}, "
                "upstream VOID's loader would use the binary mask_*.mp4"
            )
        mask_resized_from = _check_masks(mask_files, input_info, allow_resize, warnings)
        prompt = _read_prompt(folder / PROMPT_NAME, warnings)
        meta = _read_json(folder / META_NAME) if (folder / META_NAME).exists() else {}
        counterfactual_info = None
        if (folder / COUNTERFACTUAL_NAME).exists():
            counterfactual_info = probe(folder / COUNTERFACTUAL_NAME)
            _check_same_geometry(counterfactual_info, input_info, "counterfactual")
        return cls(
            name=folder.name,
            path=folder,
            input_info=input_info,
            mask_files=mask_files,
            mask_scheme=scheme,
            prompt=prompt,
            counterfactual_info=counterfactual_info,
            meta=meta,
            mask_resized_from=mask_resized_from,
            warnings=warnings,
        )

    # -- shape --------------------------------------------------------------------------------------------------
    @property
    def input_path(self) -> Path:
        return self.path / INPUT_NAME

    @property
    def counterfactual_path(self) -> Path | None:
        return self.counterfactual_info.path if self.counterfactual_info else None

    @property
    def frames(self) -> int:
        return self.input_info.frames

    @property
    def height(self) -> int:
        return self.input_info.height

    @property
    def width(self) -> int:
        return self.input_info.width

    @property
    def fps(self) -> float:
        return self.input_info.fps

    @property
    def scenario(self) -> str:
        """Scenario family from ``meta.json`` (suite clips), else ``"real"``."""
        return str(self.meta.get("scenario", "real"))

    # -- streams ------------------------------------------------------------------------------------------------
    def iter_frames(self, chunk_size: int = 16) -> Iterator[np.ndarray]:
        """Input frames, ``(T, H, W, 3)`` uint8 chunks."""
        return VideoReader(self.input_path).chunks(chunk_size)

    def iter_counterfactual(self, chunk_size: int = 16) -> Iterator[np.ndarray]:
        """Counterfactual frames; raises :class:`InputError` when the clip has none."""
        if self.counterfactual_path is None:
            raise InputError(self.path, f"has no {COUNTERFACTUAL_NAME}")
        return VideoReader(self.counterfactual_path).chunks(chunk_size)

    def iter_raw_masks(self, chunk_size: int = 16) -> Iterator[list[np.ndarray]]:
        """Decoded mask videos at their own size: per chunk, one ``(T, H, W, 3)`` array per mask file."""
        readers = [VideoReader(path).chunks(chunk_size) for path in self.mask_files]
        yield from lockstep(*readers)  # holds no chunk while the next decodes (4K: ~25 MB per mask chunk frame)

    def iter_masks(self, chunk_size: int = 16, *, boundary_width: int = 8) -> Iterator[Quadmask]:
        """Quadmask chunks at the input's size (binary masks combined and dilated as upstream does)."""
        for raw in self.iter_raw_masks(chunk_size):
            reds = [self._to_input_size(chunk[..., 0]) for chunk in raw]
            if self.mask_scheme == "binary":
                mask = Quadmask.from_binary(reds, dilation=BINARY_DILATION)
            else:
                mask = Quadmask.from_raw(reds[0], scheme=self.mask_scheme)
            yield Quadmask(mask.levels, boundary_width=boundary_width)
            del raw, reds, mask

    def _to_input_size(self, red: np.ndarray) -> np.ndarray:
        if self.mask_resized_from is None:
            return red
        size = (self.width, self.height)
        return np.stack([cv2.resize(frame, size, interpolation=cv2.INTER_NEAREST) for frame in red])

    def iter_aligned(self, chunk_size: int = 16, *, boundary_width: int = 8) -> Iterator[ClipChunk]:
        """Input, quadmask and (when present) counterfactual chunks, frame-aligned."""
        streams = [self.iter_frames(chunk_size), self.iter_masks(chunk_size, boundary_width=boundary_width)]
        if self.counterfactual_path is not None:
            streams.append(self.iter_counterfactual(chunk_size))
        start = 0
        for parts in lockstep(*streams):
            frames, mask = parts[0], parts[1]
            counterfactual = parts[2] if len(parts) > 2 else None
            start += len(frames)
            yield ClipChunk(start=start - len(frames), frames=frames, mask=mask, counterfactual=counterfactual)
            del parts, frames, mask, counterfactual  # the caller's chunk is the only reference while the next decodes


def _find_masks(folder: Path) -> tuple[tuple[Path, ...], MaskScheme]:
    for pattern, scheme in MASK_PATTERNS:
        matches = sorted(folder.glob(pattern))
        if matches:
            if scheme != "binary":
                matches = matches[:1]
            return tuple(matches), scheme
    looked_for = ", ".join(pattern for pattern, _ in MASK_PATTERNS)
    raise InputError(folder, f"no mask file (looked for {looked_for})")


def _check_same_geometry(info: VideoInfo, reference: VideoInfo, role: str) -> None:
    if (info.frames, info.height, info.width) != (reference.frames, reference.height, reference.width):
        raise InputError(
            info.path,
            f"{role} is {info.width}x{info.height}, {info.frames} frames but {reference.path.name} is "
            f"{reference.width}x{reference.height}, {reference.frames} frames",
        )


def _check_masks(
    mask_files: tuple[Path, ...], input_info: VideoInfo, allow_resize: bool, warnings: list[str]
) -> tuple[int, int] | None:
    infos = [probe(path) for path in mask_files]
    resized_from = None
    for info in infos:
        if info.frames != input_info.frames:
            _check_same_geometry(info, input_info, "mask")
        if (info.height, info.width) != (input_info.height, input_info.width):
            if not allow_resize:
                _check_same_geometry(info, input_info, "mask")
            resized_from = (info.height, info.width)
            warnings.append(
                f"{info.path.name}: mask is {info.width}x{info.height}, resized (nearest) to the input's "
                f"{input_info.width}x{input_info.height}"
            )
    sizes = {(info.height, info.width) for info in infos}
    if len(sizes) > 1:
        raise InputError(mask_files[0].parent, f"mask files differ in size: {sorted(sizes)}")
    return resized_from


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(path, f"unreadable ({err.__class__.__name__}: {err})") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(path, f"not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})") from err


def _read_prompt(path: Path, warnings: list[str]) -> str | None:
    if not path.exists():
        warnings.append(f"{PROMPT_NAME} missing: no description of the scene after removal")
        return None
    content = _read_json(path)
    if not isinstance(content, dict) or not isinstance(content.get("bg"), str):
        raise InputError(path, 'expected an object with a string "bg" (the scene after removal)')
    return content["bg"]
