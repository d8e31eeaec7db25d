"""Fill generators the detector is trained and tested against: the toolkit's removal methods and two more.

A *generator* makes the "edited" side of a training or evaluation example. Besides the registered CPU removal
methods (``telea`` and ``navier-stokes``: smooth diffusion fills; ``flowprop``: flow propagation; ``median``:
temporal median), two fills that real editing tools make are defined here, following the same
:class:`~void_eval.methods.base.Method` contract (they are not removal methods to benchmark, so they stay out of
the method registry):

- ``patch`` (:class:`PatchMethod`): each frame's hole is filled by copying nearby pixels of the same frame, at
  the few offsets (the hole's extent in one of eight directions) whose surroundings best match the hole's border,
  as a clone-stamp or a "nearest patch" fill does. The copied pixels carry real noise and texture: only their
  repetition (:mod:`forensics.detectors.copies`) and the seams give them away.
- ``blur`` (:class:`BlurMethod`): the hole is replaced by a smooth push-pull interpolation of its surroundings,
  blurred further, and composited with a feathered edge (a "blurred composite").

:data:`GENERATOR_KINDS` groups generators by how they fill (smooth, copy, flow, temporal); :func:`get_generator`
builds any of them by name.

Examples
--------
>>> get_generator("patch").rewrites == get_generator("telea").rewrites
True
>>> GENERATOR_KINDS["patch"], GENERATOR_KINDS["median"]
('copy', 'temporal')
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.methods.base import FrameMethod, Method, hole_masks
from void_eval.methods.flowprop import push_pull_fill
from void_eval.methods.inpaint import inpaint_frames
from void_eval.video import VideoWriter

#: How each generator fills a hole.
GENERATOR_KINDS: dict[str, str] = {
    "telea": "smooth",
    "navier-stokes": "smooth",
    "blur": "smooth",
    "patch": "copy",
    "flowprop": "flow",
    "median": "temporal",
}
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


def _offsets_by_border_match(frame: np.ndarray, hole: np.ndarray, *, margin: int, ring: int) -> list[tuple[int, int]]:
    """Offsets (dy, dx) of the hole's extent in each of 8 directions, best first.

    Offsets whose copy of the whole hole lies in the frame and outside the hole come first; among them (and then
    among the rest) the better border match first: the mean squared difference between the ring of pixels around
    the hole and the ring the offset lands on.
    """
    ys, xs = np.nonzero(hole)
    extent = (int(ys.max() - ys.min()) + 1 + margin, int(xs.max() - xs.min()) + 1 + margin)
    kernel = np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)
    border = (cv2.dilate(hole.astype(np.uint8), kernel) > 0) & ~hole
    by, bx = np.nonzero(border)
    scored = []
    for sy, sx in _DIRECTIONS:
        dy, dx = sy * extent[0], sx * extent[1]
        whole = _usable(hole, ys + dy, xs + dx).all()
        inside = _usable(hole, by + dy, bx + dx)
        if not inside.any():
            scored.append((not whole, np.inf, dy, dx))
            continue
        difference = frame[by[inside], bx[inside]].astype(np.float32) - frame[by[inside] + dy, bx[inside] + dx]
        scored.append((not whole, float((difference**2).mean()), dy, dx))
    return [(dy, dx) for _, _, dy, dx in sorted(scored)]


def _usable(hole: np.ndarray, ty: np.ndarray, tx: np.ndarray) -> np.ndarray:
    """Whether each target pixel lies in the frame and outside the hole."""
    height, width = hole.shape
    inside = (ty >= 0) & (ty < height) & (tx >= 0) & (tx < width)
    inside[inside] &= ~hole[ty[inside], tx[inside]]
    return inside


def patch_fill(frame: np.ndarray, hole: np.ndarray, *, margin: int = 4, ring: int = 6) -> np.ndarray:
    """Fill ``hole`` ((H, W) bool) in an ``(H, W, 3)`` uint8 frame with copies of nearby pixels of the frame.

    The whole hole is copied from one offset (:func:`_offsets_by_border_match`: the hole's extent in one of eight
    directions, best border match) when one fits; otherwise each hole pixel takes the first offset that lands in
    the frame outside the hole, and pixels no offset reaches are Telea-inpainted.

    Examples
    --------
    >>> frame = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    >>> hole = np.zeros((60, 80), bool); hole[25:35, 35:45] = True
    >>> filled = patch_fill(frame, hole)
    >>> dy, dx = _offsets_by_border_match(frame, hole, margin=4, ring=6)[0]  # the best-matching of 8 offsets
    >>> source = frame[25 + dy : 35 + dy, 35 + dx : 45 + dx]
    >>> bool((filled[~hole] == frame[~hole]).all()), bool((filled[25:35, 35:45] == source).all())
    (True, True)
    """
    if not hole.any():
        return frame.copy()
    out = frame.copy()
    remaining = hole.copy()
    for dy, dx in _offsets_by_border_match(frame, hole, margin=margin, ring=ring):
        ys, xs = np.nonzero(remaining)
        usable = _usable(hole, ys + dy, xs + dx)
        out[ys[usable], xs[usable]] = frame[ys[usable] + dy, xs[usable] + dx]
        remaining[ys[usable], xs[usable]] = False
        if not remaining.any():
            return out
    return inpaint_frames(out[None], remaining[None], radius=3, algorithm=cv2.INPAINT_TELEA)[0]


def blur_fill(frame: np.ndarray, hole: np.ndarray, *, blur: float = 2.0, feather: float = 3.0) -> np.ndarray:
    """Blurred composite: a smooth fill of ``hole`` from its surroundings, blurred, blended in with a soft edge.

    The fill is the push-pull interpolation of the pixels outside the hole, Gaussian-blurred by ``blur`` px; the
    blend weight rises from 0.2 on the hole's edge to 1 about ``1.3 feather`` px inside it (pixels outside the hole
    are untouched).
    """
    if not hole.any():
        return frame.copy()
    smooth = push_pull_fill(frame.astype(np.float32), ~hole)
    smooth = cv2.GaussianBlur(smooth, (0, 0), blur)
    # 0.2 on the hole's edge, opaque about 1.3 feathers inside it, nothing outside it
    alpha = np.clip((cv2.GaussianBlur(hole.astype(np.float32), (0, 0), feather) - 0.4) / 0.5, 0.0, 1.0) * hole
    alpha = alpha[..., None]
    return np.clip(np.rint(frame * (1 - alpha) + smooth * alpha), 0, 255).astype(np.uint8)


class _FillMethod(FrameMethod):
    """Per-frame fill of remove ∪ overlap grown by ``dilation`` px."""

    def __init__(self, *, dilation: int = 4, output_kind: str = "lossless") -> None:
        super().__init__(output_kind=output_kind)
        if not 0 <= dilation <= 64:
            raise ValueError(f"dilation must be in 0..64 px, got {dilation}")
        self.dilation = int(dilation)

    def _params(self) -> dict[str, Any]:
        return {"dilation": self.dilation}

    def _fill(self, frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        for chunk in clip.iter_aligned(16):
            holes = hole_masks(chunk.mask, dilation=self.dilation)
            writer.write(np.stack([self._fill(frame, hole) for frame, hole in zip(chunk.frames, holes, strict=True)]))


class PatchMethod(_FillMethod):
    """Fill each frame's hole with copies of nearby pixels of that frame (:func:`patch_fill`).

    Parameters
    ----------
    dilation : int, keyword-only
        Grow remove ∪ overlap by this many px before filling (0..64, default 4).
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    """

    name = "patch"
    version = "1"
    description = "per-frame copy of the best-matching nearby patch (8 offsets), Telea where none reaches"

    def _fill(self, frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return patch_fill(frame, hole)


class BlurMethod(_FillMethod):
    """Blurred composite of each frame's hole (:func:`blur_fill`); parameters as :class:`PatchMethod`."""

    name = "blur"
    version = "1"
    description = "push-pull fill blurred 2 px, blended with a 3 px feather"

    def _fill(self, frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return blur_fill(frame, hole)


_LOCAL: dict[str, type[_FillMethod]] = {"patch": PatchMethod, "blur": BlurMethod}


def get_generator(name: str, **params: Any) -> Method:
    """The generator ``name``: :class:`PatchMethod`, :class:`BlurMethod` or a registered removal method."""
    if name in _LOCAL:
        return _LOCAL[name](**params)
    from void_eval.methods.registry import get_method

    return get_method(name, **params)
