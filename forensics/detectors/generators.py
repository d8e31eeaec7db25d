"""Fill generators the detector is trained and tested against: the toolkit's removal methods and three more.

A *generator* makes the "edited" side of a training or evaluation example. Besides the registered CPU removal
methods (``telea`` and ``navier-stokes``: smooth diffusion fills; ``flowprop``: flow propagation; ``median``:
temporal median), three fills that real editing tools make are defined here, following the same
:class:`~void_eval.methods.base.Method` contract (they are not removal methods to benchmark, so they stay out of
the method registry):

- ``patch`` (:class:`PatchMethod`): each frame's hole is filled by copying nearby pixels of the same frame, at
  the few offsets (the hole's extent in one of eight directions) whose surroundings best match the hole's border,
  as a clone-stamp or a "nearest patch" fill does. The copied pixels carry real noise and texture: only their
  repetition (:mod:`forensics.detectors.copies`) and the seams give them away.
- ``clone`` (:class:`CloneMethod`): a clone stamp from afar: the best-matching copy of the whole hole 1.5-2.5 hole
  extents away, pasted with a feathered edge. A second copy fill, so that leaving one copy fill out of training
  still leaves copies to learn from (the card also reports both left out together).
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
    "clone": "copy",
    "flowprop": "flow",
    "median": "temporal",
}
_DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


def _hole_extent(hole: np.ndarray) -> tuple[int, int]:
    ys, xs = np.nonzero(hole)
    return int(ys.max() - ys.min()) + 1, int(xs.max() - xs.min()) + 1


def _rank_offsets(frame: np.ndarray, hole: np.ndarray, offsets: list[tuple[int, int]], *, ring: int) -> list[tuple]:
    """``(partial, border difference, dy, dx)`` of each offset, best first.

    Offsets whose copy of the whole hole lies in the frame and outside the hole come first (``partial`` False);
    among them (and then among the rest) the better border match first: the mean squared difference between the
    ring of pixels around the hole and the ring the offset lands on.
    """
    ys, xs = np.nonzero(hole)
    kernel = np.ones((2 * ring + 1, 2 * ring + 1), np.uint8)
    border = (cv2.dilate(hole.astype(np.uint8), kernel) > 0) & ~hole
    by, bx = np.nonzero(border)
    scored = []
    for dy, dx in offsets:
        whole = _usable(hole, ys + dy, xs + dx).all()
        inside = _usable(hole, by + dy, bx + dx)
        if not inside.any():
            scored.append((not whole, np.inf, dy, dx))
            continue
        difference = frame[by[inside], bx[inside]].astype(np.float32) - frame[by[inside] + dy, bx[inside] + dx]
        scored.append((not whole, float((difference**2).mean()), dy, dx))
    return sorted(scored)


def _offsets_by_border_match(frame: np.ndarray, hole: np.ndarray, *, margin: int, ring: int) -> list[tuple[int, int]]:
    """The hole's extent (plus ``margin``) in each of 8 directions, best first (:func:`_rank_offsets`)."""
    height, width = _hole_extent(hole)
    offsets = [(sy * (height + margin), sx * (width + margin)) for sy, sx in _DIRECTIONS]
    return [(dy, dx) for _, _, dy, dx in _rank_offsets(frame, hole, offsets, ring=ring)]


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


def clone_fill(frame: np.ndarray, hole: np.ndarray, *, ring: int = 6, feather: float = 2.0) -> np.ndarray:
    """Clone stamp from afar: the hole is covered by the frame's pixels 1.5-2.5 hole extents away, edge feathered.

    Of 16 directions at 1.5, 2 and 2.5 times the hole's larger extent, the offset whose copy of the whole hole fits
    in the frame outside the hole and whose border matches best (:func:`_rank_offsets`) is pasted, blended over
    about ``1.3 feather`` px inside the hole's edge; with no such offset the fill is :func:`patch_fill`.

    Examples
    --------
    >>> frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    >>> hole = np.zeros((120, 160), bool); hole[50:60, 70:80] = True
    >>> filled = clone_fill(frame, hole)
    >>> bool((filled[~hole] == frame[~hole]).all()), bool((filled[54:56, 74:76] != frame[54:56, 74:76]).any())
    (True, True)
    """
    if not hole.any():
        return frame.copy()
    reach = max(_hole_extent(hole))
    angles = np.arange(16) * np.pi / 8
    offsets = [
        (round(scale * reach * np.sin(angle)), round(scale * reach * np.cos(angle)))
        for scale in (1.5, 2.0, 2.5)
        for angle in angles
    ]
    partial, _, dy, dx = _rank_offsets(frame, hole, offsets, ring=ring)[0]
    if partial:
        return patch_fill(frame, hole)
    pasted = np.roll(frame, (-dy, -dx), axis=(0, 1))  # pasted[y, x] = frame[y + dy, x + dx] where the hole is
    alpha = np.clip((cv2.GaussianBlur(hole.astype(np.float32), (0, 0), feather) - 0.4) / 0.5, 0.0, 1.0) * hole
    alpha = alpha[..., None]
    return np.clip(np.rint(frame * (1 - alpha) + pasted * alpha), 0, 255).astype(np.uint8)


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


class CloneMethod(_FillMethod):
    """Clone stamp from afar into each frame's hole (:func:`clone_fill`); parameters as :class:`PatchMethod`."""

    name = "clone"
    version = "1"
    description = "per-frame copy of a best-matching patch 1.5-2.5 hole extents away, edge feathered 2 px"

    def _fill(self, frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return clone_fill(frame, hole)


class BlurMethod(_FillMethod):
    """Blurred composite of each frame's hole (:func:`blur_fill`); parameters as :class:`PatchMethod`."""

    name = "blur"
    version = "1"
    description = "push-pull fill blurred 2 px, blended with a 3 px feather"

    def _fill(self, frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return blur_fill(frame, hole)


_LOCAL: dict[str, type[_FillMethod]] = {"patch": PatchMethod, "clone": CloneMethod, "blur": BlurMethod}


def get_generator(name: str, **params: Any) -> Method:
    """The generator ``name``: :class:`PatchMethod`, :class:`BlurMethod` or a registered removal method."""
    if name in _LOCAL:
        return _LOCAL[name](**params)
    from void_eval.methods.registry import get_method

    return get_method(name, **params)
