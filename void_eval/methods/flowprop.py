"""``flowprop``: flow-guided propagation of known background pixels from neighbouring frames.

ProPainter's core idea (and FGVC's before it) without the learned parts:

1. **Flow.** OpenCV DIS optical flow (``medium`` preset) between consecutive input frames, both directions:
   ``fwd[t]`` maps frame ``t`` to ``t+1`` and ``bwd[t]`` maps ``t+1`` to ``t``.
2. **Flow completion.** Inside the hole the measured flow follows the object being removed, and where the object
   pushed things (quadmask AFFECTED) it follows them; DIS also spreads that motion a few px around. So each flow
   field is replaced within ``flow_margin`` px of either frame's unknown pixels (hole, and non-source pixels such
   as AFFECTED) by a smooth push-pull interpolation of the flow around them: a continuation of the background
   motion (about zero for a still camera), not of the moving content.
3. **Propagation along trajectories** (as FGVC does). Only known background is copied: pixels outside the hole
   and (by default) at quadmask level KEEP — AFFECTED pixels show the removed object's effects. Each hole pixel
   of frame ``t`` follows its completed-flow trajectory to earlier frames (``t-1, t-2, ...`` along ``bwd``) and,
   separately, to later ones (along ``fwd``), through frames where it is still unknown, and stops at the first
   frame where it lands on known pixels; the value there is sampled bilinearly over the known pixels only
   (weights renormalised; more than half of the weight must be known). Every hop must pass the flow
   consistency test ``|b + f(x + b)|^2 <= 0.01 (|b|^2 + |f(x + b)|^2) + 0.5`` (the occlusion test of Ruder et
   al., also used by the E_warp metric) and stay in the image, otherwise that trajectory gives no candidate.
   The candidate from the nearer frame wins; ties are averaged. A trajectory, unlike a one-frame-at-a-time
   chain, is not cut by intermediate frames where the pixel is hidden or AFFECTED, so background seen long
   before or after (e.g. a block that stood there before the removed ball struck it) is found.
4. **Never seen.** Pixels no trajectory could reach are filled per frame by Telea inpainting.

Outside the hole (``remove ∪ overlap`` grown by ``dilation`` px) the output is the input. The whole clip and its
flows are held in memory (about ``T x H x W x 35`` bytes); tracing costs up to ``T`` hops per hole pixel.

References
----------
S. Zhou et al., "ProPainter: Improving propagation and transformer for video inpainting", ICCV 2023.
C. Gao et al., "Flow-edge guided video completion", ECCV 2020.
T. Kroeger et al., "Fast optical flow using dense inverse search", ECCV 2016.

Examples
--------
>>> method = FlowPropMethod(dilation=3)
>>> method.params["flow"], method.flow_source
('dis-medium', 'opencv-dis-medium on the input video, hole flow completed by push-pull')
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.methods.base import FrameMethod, hole_masks
from void_eval.methods.inpaint import inpaint_frames
from void_eval.quadmask import Quadmask
from void_eval.video import VideoWriter

_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
_UNREACHED = np.float32(1e9)  # hop count of pixels no pass has reached (exact in float32)


def push_pull_fill(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill ``values`` ((H, W, C) float32) where ``known`` ((H, W) bool) is False by push-pull interpolation.

    Known values are averaged down an image pyramid (area-weighted by how much of each coarse pixel is known),
    then pulled back up: at each finer level a pixel keeps its own average in proportion to how known it is and
    takes the upsampled coarser value for the rest (Gortler et al., "The Lumigraph", 1996). Known pixels keep
    their values exactly; the fill is smooth and never leaves the range of the known values.

    Examples
    --------
    >>> values = np.zeros((16, 16, 1), np.float32); values[:, 8:] = 2.0
    >>> known = np.ones((16, 16), bool); known[4:12, 6:10] = False
    >>> filled = push_pull_fill(values, known)
    >>> bool(filled.min() >= 0.0 and filled.max() <= 2.0), float(filled[0, 0, 0]), float(filled[0, 15, 0])
    (True, 0.0, 2.0)
    """
    weight = known.astype(np.float32)
    if not known.any():
        return np.zeros_like(values)
    levels = [(values * weight[..., None], weight)]
    while min(levels[-1][1].shape) > 1:
        weighted, w = levels[-1]
        size = (max(1, w.shape[1] // 2), max(1, w.shape[0] // 2))
        small_w = cv2.resize(w, size, interpolation=cv2.INTER_AREA)
        small_v = cv2.resize(weighted, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
        levels.append((small_v, small_w))
    weighted, w = levels[-1]
    current = weighted / np.maximum(w, 1e-12)[..., None]
    for weighted, w in reversed(levels[:-1]):
        height, width = w.shape
        up = cv2.resize(current, (width, height), interpolation=cv2.INTER_LINEAR).reshape(height, width, -1)
        alpha = np.clip(w, 0.0, 1.0)[..., None]
        own = weighted / np.maximum(w, 1e-12)[..., None]
        current = np.where(alpha > 0, alpha * own + (1 - alpha) * up, up)
    return np.where(known[..., None], values, current).astype(np.float32)


def complete_flow(flow: np.ndarray, unreliable: np.ndarray) -> np.ndarray:
    """Replace ``flow`` ((H, W, 2) float32) where ``unreliable`` ((H, W) bool) by push-pull fill from the rest."""
    if not unreliable.any():
        return flow
    return push_pull_fill(flow, ~unreliable)


def _bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray, *, valid: np.ndarray | None = None) -> np.ndarray:
    """Bilinear samples of ``image`` ((H, W) or (H, W, C)) at float points ``x``, ``y`` (N,), zero outside.

    With ``valid`` ((H, W) bool), corners where it is False get zero weight (the weights are not renormalised).
    """
    height, width = image.shape[:2]
    x0 = np.floor(x).astype(np.int64)
    y0 = np.floor(y).astype(np.int64)
    fx = (x - x0).astype(np.float32)
    fy = (y - y0).astype(np.float32)
    result = np.zeros((len(x), *image.shape[2:]), np.float32)
    corners = ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy))
    for dy, dx, weight in corners:
        xi, yi = x0 + dx, y0 + dy
        inside = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height)
        yi, xi = np.clip(yi, 0, height - 1), np.clip(xi, 0, width - 1)
        if valid is not None:
            inside &= valid[yi, xi]
        values = image[yi, xi].astype(np.float32)
        weight = np.where(inside, weight, 0).astype(np.float32)
        result += values * (weight.reshape((-1,) + (1,) * (values.ndim - 1)))
    return result


def _trace(
    frames: np.ndarray,
    holes: np.ndarray,
    known: np.ndarray,
    toward: list[np.ndarray],
    back: list[np.ndarray],
    step: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One direction: follow each hole pixel's flow trajectory to the nearest frame where it lands on known pixels.

    ``toward[u]`` maps frame ``u`` to ``u - step``; ``back[u]`` maps ``u - step`` to ``u`` (consistency test).
    A trajectory ends (no candidate) where a hop fails the consistency test or leaves the image. Returns the
    candidate values (float32, the frames elsewhere) and hop counts (frames travelled; ``_UNREACHED`` where no
    candidate was found, 0 outside the hole).
    """
    count, height, width = holes.shape
    values = frames.astype(np.float32)
    hops = np.where(holes, _UNREACHED, 0).astype(np.float32)
    known_weight_maps = known.astype(np.float32)
    for t in range(count):
        ys, xs = np.nonzero(holes[t])
        if len(xs) == 0:
            continue
        px, py = xs.astype(np.float32), ys.astype(np.float32)
        alive = np.ones(len(xs), bool)
        found = np.zeros((len(xs), 3), np.float32)
        found_hops = np.full(len(xs), _UNREACHED, np.float32)
        u = t
        while alive.any() and 0 <= u - step < count:
            source = u - step
            live = np.nonzero(alive)[0]
            flow = _bilinear(toward[u], px[live], py[live])
            qx, qy = px[live] + flow[:, 0], py[live] + flow[:, 1]
            returned = _bilinear(back[u], qx, qy)
            round_trip = ((flow + returned) ** 2).sum(-1)
            consistent = round_trip <= 0.01 * ((flow**2).sum(-1) + (returned**2).sum(-1)) + 0.5
            inside = (qx >= 0) & (qx <= width - 1) & (qy >= 0) & (qy <= height - 1)
            ok = consistent & inside
            alive[live[~ok]] = False
            live, qx, qy = live[ok], qx[ok], qy[ok]
            px[live], py[live] = qx, qy
            weight = _bilinear(known_weight_maps[source], qx, qy)
            land = weight > 0.5
            if land.any():
                hit = live[land]
                sampled = _bilinear(frames[source], qx[land], qy[land], valid=known[source])
                found[hit] = sampled / weight[land][:, None]
                found_hops[hit] = abs(t - source)
                alive[hit] = False
            u = source
        values[t][ys, xs] = np.where(found_hops[:, None] < _UNREACHED, found, values[t][ys, xs])
        hops[t][ys, xs] = found_hops
    return values, hops


def flow_propagate(
    frames: np.ndarray,
    holes: np.ndarray,
    *,
    preset: str = "medium",
    radius: int = 3,
    flow_margin: int = 8,
    sources: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Fill ``holes`` in ``frames`` by bidirectional flow-trajectory propagation, Telea where never reached.

    Parameters
    ----------
    frames : np.ndarray
        ``(T, H, W, 3)`` uint8.
    holes : np.ndarray
        ``(T, H, W)`` bool, the pixels to fill.
    preset : {"ultrafast", "fast", "medium"}, keyword-only
        DIS preset.
    radius : int, keyword-only
        Telea radius for unreached pixels.
    flow_margin : int, keyword-only
        The measured flow is replaced within this many px of either frame's hole or non-source pixels (DIS
        spreads the removed object's motion, and that of what it moved, around them).
    sources : np.ndarray, optional, keyword-only
        ``(T, H, W)`` bool: pixels outside the hole that may be copied (default: all of them). The flow is also
        completed (not measured) near pixels that are not sources, as it is near the hole.

    Returns
    -------
    filled : np.ndarray
        ``(T, H, W, 3)`` uint8; equal to ``frames`` outside ``holes``.
    stats : dict
        ``propagated_fraction`` and ``telea_fraction`` of the hole pixels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> background = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    >>> frames = np.repeat(background[None], 4, axis=0)
    >>> holes = np.zeros((4, 32, 48), bool)
    >>> for t in range(4):
    ...     holes[t, 10:20, 5 + 8 * t : 15 + 8 * t] = True
    >>> filled, stats = flow_propagate(frames, holes)
    >>> bool(np.abs(filled.astype(int) - frames).max() <= 2), stats["telea_fraction"]
    (True, 0.0)
    """
    if preset not in _DIS_PRESETS:
        raise ValueError(f"preset must be one of {', '.join(_DIS_PRESETS)}, got {preset!r}")
    count = len(frames)
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset])
    grey = [cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY) for frame in frames]
    forward: list[np.ndarray] = [np.zeros(0)] * count  # forward[t]: t -> t+1
    backward: list[np.ndarray] = [np.zeros(0)] * count  # backward[t]: t -> t-1
    unknown = holes if sources is None else holes | ~sources
    kernel = np.ones((2 * flow_margin + 1, 2 * flow_margin + 1), np.uint8)
    for t in range(count - 1):
        unreliable = cv2.dilate((unknown[t] | unknown[t + 1]).astype(np.uint8), kernel) > 0
        forward[t] = complete_flow(dis.calc(grey[t], grey[t + 1], None), unreliable)
        backward[t + 1] = complete_flow(dis.calc(grey[t + 1], grey[t], None), unreliable)
    known = ~holes if sources is None else ~holes & sources
    # Toward earlier frames: hop u -> u-1 along backward[u]; consistency with forward[u-1].
    ahead_back = [np.zeros(0)] + [forward[t - 1] for t in range(1, count)]
    values_f, hops_f = _trace(frames, holes, known, backward, ahead_back, 1)
    # Toward later frames: hop u -> u+1 along forward[u]; consistency with backward[u+1].
    behind_back = [backward[t + 1] for t in range(count - 1)] + [np.zeros(0)]
    values_b, hops_b = _trace(frames, holes, known, forward, behind_back, -1)
    reached_f = hops_f < _UNREACHED
    reached_b = hops_b < _UNREACHED
    use_f = reached_f & (~reached_b | (hops_f < hops_b))
    use_b = reached_b & (~reached_f | (hops_b < hops_f))
    both = reached_f & reached_b & (hops_f == hops_b)
    combined = frames.astype(np.float32)
    combined[use_f] = values_f[use_f]
    combined[use_b] = values_b[use_b]
    combined[both] = 0.5 * (values_f[both] + values_b[both])
    filled = np.clip(np.rint(combined), 0, 255).astype(np.uint8)
    unreached = holes & ~(reached_f | reached_b)
    filled = inpaint_frames(filled, unreached, radius=radius, algorithm=cv2.INPAINT_TELEA)
    hole_pixels = max(int(holes.sum()), 1)
    stats = {
        "propagated_fraction": float((holes & (reached_f | reached_b)).sum() / hole_pixels),
        "telea_fraction": float(unreached.sum() / hole_pixels),
    }
    return filled, stats


class FlowPropMethod(FrameMethod):
    """Flow-guided propagation of background pixels along flow trajectories (both directions), Telea for the rest.

    Parameters
    ----------
    dilation : int, keyword-only
        Grow remove ∪ overlap by this many px before filling (0..64, default 4).
    flow : {"dis-ultrafast", "dis-fast", "dis-medium"}, keyword-only
        Optical flow used for propagation, computed on the input video (default ``dis-medium``).
    radius : int, keyword-only
        Telea radius for pixels no pass reached (1..64, default 3).
    flow_margin : int, keyword-only
        Replace the measured flow within this many px of the hole (and of non-source pixels) by the completed flow
        (0..64, default 8).
    sources : {"keep", "any"}, keyword-only
        Which known pixels are propagated: ``keep`` (default) only quadmask KEEP pixels — AFFECTED pixels show
        the object's effects (its shadow, things it moved), which the scene without it lacks; ``any``: every
        pixel outside the hole.
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    """

    name = "flowprop"
    version = "4"
    description = "DIS-flow trajectory propagation of background from nearest frames (fwd+bwd), Telea where unseen"

    def __init__(
        self,
        *,
        dilation: int = 4,
        flow: str = "dis-medium",
        radius: int = 3,
        flow_margin: int = 8,
        sources: str = "keep",
        output_kind: str = "lossless",
    ) -> None:
        super().__init__(output_kind=output_kind)
        if not 0 <= dilation <= 64:
            raise ValueError(f"dilation must be in 0..64 px, got {dilation}")
        if not 1 <= radius <= 64:
            raise ValueError(f"radius must be in 1..64 px, got {radius}")
        preset = flow.removeprefix("dis-")
        if not flow.startswith("dis-") or preset not in _DIS_PRESETS:
            raise ValueError(f"flow must be one of {', '.join('dis-' + p for p in _DIS_PRESETS)}, got {flow!r}")
        if not 0 <= flow_margin <= 64:
            raise ValueError(f"flow_margin must be in 0..64 px, got {flow_margin}")
        self.dilation = int(dilation)
        self.flow = flow
        self.radius = int(radius)
        if sources not in ("keep", "any"):
            raise ValueError(f"sources must be 'keep' or 'any', got {sources!r}")
        self.flow_margin = int(flow_margin)
        self.sources = sources

    @property
    def flow_source(self) -> str:
        """Which flow drives the propagation, for provenance records."""
        return f"opencv-{self.flow} on the input video, hole flow completed by push-pull"

    def _params(self) -> dict[str, Any]:
        return {
            "dilation": self.dilation,
            "flow": self.flow,
            "radius": self.radius,
            "flow_margin": self.flow_margin,
            "sources": self.sources,
        }

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        frames = np.concatenate(list(clip.iter_frames(32)))
        mask = Quadmask.concatenate(list(clip.iter_masks(32)))
        holes = hole_masks(mask, dilation=self.dilation)
        filled, stats = flow_propagate(
            frames,
            holes,
            preset=self.flow.removeprefix("dis-"),
            radius=self.radius,
            flow_margin=self.flow_margin,
            sources=mask.region("keep") if self.sources == "keep" else None,
        )
        self.last_run = {"flow_source": self.flow_source, **stats}
        writer.write(filled)
