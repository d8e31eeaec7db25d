"""The contract every removal method follows: a clip in, an output video out.

A :class:`Method` reads a :class:`~void_eval.clip.Clip` and writes one video with the input's size, frame count
and frame rate. It declares what determines its output (``name``, ``version``, ``params``, optional
``weights_sha256`` and ``seed``) so the runner's cache key covers all of it, and which quadmask levels it may
rewrite (``rewrites``): the classic baselines fill only REMOVE and OVERLAP; VOID also rewrites AFFECTED.

:class:`FrameMethod` is a small base for the built-in methods: keyword-only parameters, lossless output written
atomically, and a check that the written video matches the clip.

Examples
--------
>>> from void_eval.methods.registry import get_method
>>> method = get_method("telea", radius=5)
>>> method.name, method.params["radius"], sorted(level.name for level in method.rewrites)
('telea', 5, ['OVERLAP', 'REMOVE'])
>>> isinstance(method, Method)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.quadmask import QuadLevel, Quadmask
from void_eval.video import VideoWriter, WriterKind, probe

#: The levels the classic fill-in baselines rewrite: the object and its overlap with what it affected.
HOLE_LEVELS = frozenset({QuadLevel.REMOVE, QuadLevel.OVERLAP})
#: Named level sets a binary mask can be made of (recipes, ``composite=``): the object alone, or with its effects.
LEVEL_SETS: dict[str, frozenset[QuadLevel]] = {
    "remove": HOLE_LEVELS,
    "remove+affected": HOLE_LEVELS | {QuadLevel.AFFECTED},
}


@runtime_checkable
class Method(Protocol):
    """A video object-removal method.

    Attributes
    ----------
    name : str
        Registry name (``copy``, ``telea``, ...).
    version : str
        Bumped whenever the algorithm's output changes; part of the cache key.
    params : dict
        Resolved parameters (JSON-serialisable); part of the cache key.
    rewrites : frozenset of QuadLevel
        Quadmask levels whose pixels the method may change; all others are passed through.
    device : str
        ``"cpu"`` or a torch device string.

    Optional attributes the runner reads when present: ``weights_sha256`` (str or None), ``seed`` (int or None),
    ``last_run`` (dict describing what the latest :meth:`run` did, stored with the cell) and
    ``fingerprint(clip) -> dict[str, str]`` (extra files that determine the output, e.g. a precomputed video). On the
    registered factory, ``order_dependent(params) -> bool`` says that instances continue state across clips (VOID's
    ``upstream`` seeding), so the runner must not spread them over workers.
    """

    name: str
    version: str
    params: dict[str, Any]
    rewrites: frozenset[QuadLevel]
    device: str

    def run(self, clip: Clip, output_path: Path) -> Path:
        """Write the output video for ``clip`` to ``output_path`` and return that path."""


def hole_masks(mask: Quadmask, *, dilation: int) -> np.ndarray:
    """``remove ∪ overlap`` grown by ``dilation`` px (square kernel), per frame: ``(T, H, W)`` bool.

    Examples
    --------
    >>> levels = np.full((1, 5, 5), 255, np.uint8); levels[0, 2, 2] = 0
    >>> int(hole_masks(Quadmask(levels), dilation=1).sum())
    9
    """
    return level_mask(mask, "remove", dilation=dilation)


def level_mask(mask: Quadmask, levels: str, *, dilation: int = 0) -> np.ndarray:
    """The pixels at the levels of :data:`LEVEL_SETS` ``[levels]`` grown by ``dilation`` px (square kernel).

    Examples
    --------
    >>> levels = np.array([[[0, 63, 127, 255]]], np.uint8)
    >>> level_mask(Quadmask(levels), "remove").tolist(), level_mask(Quadmask(levels), "remove+affected").tolist()
    ([[[True, True, False, False]]], [[[True, True, True, False]]])
    """
    if levels not in LEVEL_SETS:
        raise ValueError(f"levels must be one of {', '.join(LEVEL_SETS)}, got {levels!r}")
    if dilation < 0:
        raise ValueError(f"dilation must be >= 0, got {dilation}")
    hole = np.isin(mask.levels, np.array(sorted(LEVEL_SETS[levels]), np.uint8))
    if dilation == 0:
        return hole
    kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
    return np.stack([cv2.dilate(frame.astype(np.uint8), kernel) > 0 for frame in hole])


class FrameMethod:
    """Base of the built-in methods: parameters, writer settings and the output check.

    Subclasses set ``name``, ``version``, ``description`` and implement :meth:`_write`, which gets an open
    :class:`~void_eval.video.VideoWriter`.

    Parameters
    ----------
    output_kind : {"lossless", "h264"}, keyword-only
        How outputs are encoded. ``lossless`` (default) keeps codec noise out of the scores.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    description: ClassVar[str] = ""
    rewrites: frozenset[QuadLevel] = HOLE_LEVELS
    device: str = "cpu"
    weights_sha256: str | None = None
    seed: int | None = None

    def __init__(self, *, output_kind: WriterKind = "lossless") -> None:
        if output_kind not in ("lossless", "h264"):
            raise ValueError(f"output_kind must be 'lossless' or 'h264', got {output_kind!r}")
        self.output_kind = output_kind
        self.last_run: dict[str, Any] = {}

    @property
    def params(self) -> dict[str, Any]:
        """Resolved parameters: every public keyword of the constructor."""
        return {"output_kind": self.output_kind, **self._params()}

    def _params(self) -> dict[str, Any]:
        return {}

    def run(self, clip: Clip, output_path: Path) -> Path:
        """Write the output for ``clip`` and check it has the input's frame count and size."""
        output_path = Path(output_path)
        self.last_run = {}
        with VideoWriter(output_path, clip.fps, kind=self.output_kind) as writer:
            self._write(clip, writer)
        info = probe(output_path)
        if (info.frames, info.height, info.width) != (clip.frames, clip.height, clip.width):
            output_path.unlink(missing_ok=True)
            raise RuntimeError(
                f"{self.name} wrote {info.frames} frames of {info.width}x{info.height} for {clip.name}, "
                f"expected {clip.frames} of {clip.width}x{clip.height}"
            )
        return output_path

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"{type(self).__name__}({params})"
