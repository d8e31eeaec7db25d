"""``flowprop``: flow-guided propagation of known background pixels from neighbouring frames.

ProPainter's core idea (and FGVC's before it) without the learned parts:

1. **Flow.** OpenCV DIS optical flow (``medium`` preset) between consecutive input frames, both directions:
   ``fwd[t]`` maps frame ``t`` to ``t+1`` and ``bwd[t]`` maps ``t+1`` to ``t``.
2. **Flow completion.** Inside the hole the measured flow follows the object being removed (and DIS spreads that
   motion a few px around it), so each flow field is replaced within ``flow_margin`` px of either frame's hole by
   a smooth push-pull interpolation of the flow around it (a continuation of the background motion).
3. **Propagation.** Only known background is copied: pixels outside the hole and (by default) at quadmask level
   KEEP — AFFECTED pixels show the removed object's effects. A forward pass walks ``t = 1 .. T-1`` and fills
   each hole pixel of frame ``t`` by sampling frame ``t-1`` (its known background, and already-filled pixels of
   its hole) at ``x + bwd[t-1](x)``, bilinearly over the known pixels only (weights renormalised). A sample is
   used only when more than half of its interpolation weight falls on known pixels and the flows are
   consistent there: ``|b + f(x + b)|^2 <= 0.01 (|b|^2 + |f(x + b)|^2) + 0.5`` (the occlusion test of Ruder et
   al., also used by the E_warp metric). A backward pass does the same from ``T-2`` down to ``0`` with ``fwd``.
   Each candidate carries its hop count (frames travelled); the nearer candidate wins, ties are averaged.
4. **Never seen.** Pixels neither pass could reach are filled per frame by Telea inpainting.

Outside the hole (``remove ∪ overlap`` grown by ``dilation`` px) the output is the input. The whole clip and its
flows are held in memory (about ``T x H x W x 35`` bytes).

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


def _sample(image: np.ndarray, map_x: np.ndarray, map_y: np.ndarray) -> np.ndarray:
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _propagate(
    frames: np.ndarray,
    holes: np.ndarray,
    toward: list[np.ndarray],
    back: list[np.ndarray],
    order: range,
    step: int,
    sources: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One pass: fill frame ``t`` from frame ``t - step``.

    ``toward[t]`` maps frame ``t`` to ``t - step`` (the sampling flow), ``back[t]`` maps ``t - step`` to ``t``
    (for the consistency test). Returns the filled values (float32) and per-pixel hop counts (``_UNREACHED``
    where no candidate was found; 0 outside the hole).
    """
    _, height, width = holes.shape
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    values = frames.astype(np.float32)
    unknown = holes if sources is None else holes | ~sources
    hops = np.where(unknown, _UNREACHED, 0).astype(np.float32)
    for t in order:
        hole = holes[t]
        if not hole.any():
            continue
        source = t - step
        flow = toward[t]
        map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
        known_source = (hops[source] < _UNREACHED).astype(np.float32)
        known_weight = _sample(known_source, map_x, map_y)
        known_ok = known_weight > 0.5
        returned = _sample(back[t], map_x, map_y)
        round_trip = flow + returned
        consistent = (round_trip**2).sum(-1) <= 0.01 * ((flow**2).sum(-1) + (returned**2).sum(-1)) + 0.5
        take = hole & known_ok & consistent
        if not take.any():
            continue
        sampled = _sample(values[source] * known_source[..., None], map_x, map_y)
        sampled /= np.maximum(known_weight, 1e-6)[..., None]
        # hops of the known pixels the sample interpolates (weighted like the sample), rounded up, plus this step
        source_hops = _sample(hops[source] * known_source, map_x, map_y) / np.maximum(known_weight, 1e-6)
        values[t][take] = sampled[take]
        hops[t][take] = np.ceil(source_hops[take] - 1e-3) + 1
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
    """Fill ``holes`` in ``frames`` by bidirectional flow propagation, Telea where never reached.

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
        The measured flow is replaced within this many px of either frame's hole (DIS spreads the removed
        object's motion around it).
    sources : np.ndarray, optional, keyword-only
        ``(T, H, W)`` bool: pixels outside the hole that may be copied (default: all of them).

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
    kernel = np.ones((2 * flow_margin + 1, 2 * flow_margin + 1), np.uint8)
    for t in range(count - 1):
        unreliable = cv2.dilate((holes[t] | holes[t + 1]).astype(np.uint8), kernel) > 0
        forward[t] = complete_flow(dis.calc(grey[t], grey[t + 1], None), unreliable)
        backward[t + 1] = complete_flow(dis.calc(grey[t + 1], grey[t], None), unreliable)
    # Forward pass: frame t samples t-1 along backward[t]; consistency with forward[t-1].
    ahead_back = [np.zeros(0)] + [forward[t - 1] for t in range(1, count)]
    values_f, hops_f = _propagate(frames, holes, backward, ahead_back, range(1, count), 1, sources)
    # Backward pass: frame t samples t+1 along forward[t]; consistency with backward[t+1].
    behind_back = [backward[t + 1] for t in range(count - 1)] + [np.zeros(0)]
    values_b, hops_b = _propagate(frames, holes, forward, behind_back, range(count - 2, -1, -1), -1, sources)

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
    """Flow-guided propagation of background pixels (forward + backward passes), Telea for the rest.

    Parameters
    ----------
    dilation : int, keyword-only
        Grow remove ∪ overlap by this many px before filling (0..64, default 4).
    flow : {"dis-ultrafast", "dis-fast", "dis-medium"}, keyword-only
        Optical flow used for propagation, computed on the input video (default ``dis-medium``).
    radius : int, keyword-only
        Telea radius for pixels no pass reached (1..64, default 3).
    flow_margin : int, keyword-only
        Replace the measured flow within this many px of the hole by the completed flow (0..64, default 8).
    sources : {"keep", "any"}, keyword-only
        Which known pixels are propagated: ``keep`` (default) only quadmask KEEP pixels — AFFECTED pixels show
        the object's effects (its shadow, things it moved), which the scene without it lacks; ``any``: every
        pixel outside the hole.
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    """

    name = "flowprop"
    version = "3"
    description = "DIS-flow propagation of background from neighbouring frames (fwd+bwd), Telea where unseen"

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
