"""Flow warping error E_warp: how well each output frame is predicted by warping the next one along optical flow.

Definition (Lai et al. 2018, "Learning Blind Video Temporal Consistency", reference code
``fast_blind_video_consistency/evaluate_WarpError.py``), for frames ``O_t`` as RGB in [0, 1]:

- ``F`` = flow ``t -> t+1`` and ``Fb`` = flow ``t+1 -> t``, both computed on the *flow source* video;
- ``W(I; G)(x) = I(x + G(x))``: bilinear backward warping with edge clamping (FlowNet2's Resample2d);
- occlusion: the reference calls ``detect_occlusion(bw_flow, fw_flow)`` with its arguments in the opposite order
  to that function's parameter names (``detect_occlusion(fw_flow, bw_flow)``), so in terms of the actual flows it
  computes ``occ1 = |W(Fb; F) + F|^2 > 0.01 (|W(Fb; F)|^2 + |F|^2) + 0.5`` (forward-backward inconsistency) and
  ``occ2 = |grad F|^2 > 0.01 |F|^2 + 0.002`` (motion boundaries of the forward flow; forward differences, zero on
  the last row/column), ``noc = 1 - (occ1 or occ2)``. This mask lives on frame ``t``'s grid, the same grid as
  ``W(O_{t+1}; F) - O_t``. (``protocols.md`` writes the same formula in the callee's parameter names,
  ``W(F; Fb) + Fb`` and ``grad Fb``; here that is ``occlusion_mask(forward=Fb, backward=F)``);
- ``E_t = sum_x noc(x) sum_c (W(O_{t+1}; F)(x, c) - O_t(x, c))^2 / sum_x noc(x)`` (squared error summed over the
  3 channels, averaged over non-occluded pixels);
- ``E_warp = mean_t E_t`` over the ``T - 1`` pairs of the clip.

The value is reported **raw** (scale x1); papers print it x1e2 or x1e3 inconsistently, so every row's note states
the scale and the flow (provider and source video). For removal without ground truth the default flow source is
the *output*: flow on the input would follow the removed object. Region ``remove`` restricts both sums to the
pixels of frame ``t`` in ``remove_any`` (0 or 63): ``E_t = sum(noc M_t err) / sum(noc M_t)``, averaged over the
pairs where ``noc M_t`` is not empty. A pair whose ``noc`` is empty in a region is skipped (the reference code
would count it as 0) and counted in the note.

Examples
--------
>>> import cv2, numpy as np
>>> rng = np.random.default_rng(0)
>>> scene = cv2.GaussianBlur(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), (0, 0), 2)
>>> video = np.stack([np.roll(scene, shift, axis=1) for shift in range(4)])
>>> result = warping_error(video)
>>> result["frame"].value < 1e-3, result["frame"].count
(True, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics._temporal import PairAccumulator
from void_eval.metrics.base import MetricInfo, MetricValue, ScoreChunk
from void_eval.metrics.flow import FlowProvider, get_flow_provider
from void_eval.quadmask import Quadmask

FlowSource = Literal["output", "input", "counterfactual"]
EWARP_REGIONS: tuple[str, ...] = ("frame", "remove")
_REGION_MASKS = {"frame": None, "remove": "remove_any"}


def warp_backward(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``W(image; flow)(x) = image(x + flow(x))``, bilinear with the taps clamped to the frame.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` or ``(H, W, C)`` float array (C <= 4).
    flow : np.ndarray
        ``(H, W, 2)`` displacement in pixels (``[..., 0]`` horizontal).

    Returns
    -------
    np.ndarray
        float32, same shape as ``image``. FlowNet2's Resample2d (kernel size 1): weights from the unclamped
        coordinate, taps clamped to the frame, which is OpenCV's ``remap`` with INTER_LINEAR and
        BORDER_REPLICATE on float32 maps (checked against scipy's ``map_coordinates`` in the tests).
    """
    height, width = flow.shape[:2]
    map_x = np.arange(width, dtype=np.float32)[None, :] + flow[..., 0]
    map_y = np.arange(height, dtype=np.float32)[:, None] + flow[..., 1]
    image = np.ascontiguousarray(image, dtype=np.float32)
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def occlusion_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``occ1 or occ2`` of the reference's ``detect_occlusion(fw_flow, bw_flow)`` (True = occluded or boundary).

    Parameters follow the callee's names: ``occ1 = |W(forward; backward) + backward|^2 > 0.01 (|W(forward;
    backward)|^2 + |backward|^2) + 0.5``, ``occ2 = |grad backward|^2 > 0.01 |backward|^2 + 0.002``; the mask lives
    on ``backward``'s grid. E_warp calls it as the reference does, ``occlusion_mask(Fb, F)`` (``forward`` = the
    actual backward flow ``t+1 -> t``, ``backward`` = the actual forward flow ``t -> t+1``), giving a mask on frame
    ``t``'s grid; see the module docstring.
    """
    forward_warped = warp_backward(forward, backward)
    fb_sum = forward_warped + backward
    fb_magnitude = (fb_sum**2).sum(axis=-1)
    forward_magnitude = (forward_warped**2).sum(axis=-1)
    backward_magnitude = (backward**2).sum(axis=-1)
    occ1 = fb_magnitude > 0.01 * (forward_magnitude + backward_magnitude) + 0.5
    du = np.zeros_like(backward)
    dv = np.zeros_like(backward)
    du[:, :-1] = backward[:, :-1] - backward[:, 1:]
    dv[:-1, :] = backward[:-1, :] - backward[1:, :]
    gradient_magnitude = (du**2).sum(axis=-1) + (dv**2).sum(axis=-1)
    occ2 = gradient_magnitude > 0.01 * backward_magnitude + 0.002
    return occ1 | occ2


def pair_warping_error(
    current: np.ndarray,
    following: np.ndarray,
    forward: np.ndarray,
    backward: np.ndarray,
    regions: dict[str, np.ndarray | None],
) -> dict[str, tuple[float, float]]:
    """Per region, ``(sum noc M err, sum noc M)`` for one pair; ``err`` summed over channels, images in [0, 1]."""
    # the reference calls detect_occlusion(bw_flow, fw_flow): arguments swapped relative to the parameter names,
    # which puts the mask on frame t's grid (the grid of ``error`` below)
    noc = ~occlusion_mask(backward, forward)
    warped = warp_backward(following.astype(np.float32) / 255.0, forward)
    error = ((warped - current.astype(np.float32) / 255.0) ** 2).sum(axis=-1)
    sums = {}
    for name, region in regions.items():
        weight = noc if region is None else noc & region
        sums[name] = (float(error[weight].sum(dtype=np.float64)), float(weight.sum()))
    return sums


@dataclass
class _FrameState:
    output: np.ndarray
    source: np.ndarray | None
    regions: dict[str, np.ndarray | None]


class EwarpAccumulator(PairAccumulator):
    """Streaming E_warp over regions ``frame`` and ``remove`` (see the module docstring).

    Parameters
    ----------
    flow : str or FlowProvider, keyword-only
        ``"dis"`` (default), ``"farneback"``, ``"raft"`` or a provider object.
    flow_source : {"output", "input", "counterfactual"}, keyword-only
        Video the flow is computed on. ``output`` by default (removal has no ground truth; flow on the input
        follows the removed object).
    regions : tuple of str, keyword-only
        Subset of ``("frame", "remove")``.
    max_side : int or None, keyword-only
        Working resolution: frames whose longer side exceeds this (default 1920) are resized (INTER_AREA; masks
        nearest) so that it equals ``max_side`` before flow and error are computed, and the note says so. 4K flow
        costs 4x the time and memory of 1080p for little gain in a consistency measure. ``None`` keeps the
        native size.
    **flow_options
        Passed to the provider (``preset="fast"`` for DIS, ``weights=...`` for RAFT).
    """

    def __init__(
        self,
        *,
        flow: str | FlowProvider = "dis",
        flow_source: FlowSource = "output",
        regions: tuple[str, ...] = EWARP_REGIONS,
        max_side: int | None = 1920,
        **flow_options,
    ) -> None:
        super().__init__()
        if max_side is not None and max_side < 16:
            raise ValueError(f"max_side must be >= 16 or None, got {max_side}")
        self.max_side = max_side
        self._resized: tuple[tuple[int, int], tuple[int, int]] | None = None
        if flow_source not in ("output", "input", "counterfactual"):
            raise ValueError(f"flow_source must be output, input or counterfactual, got {flow_source!r}")
        unknown = set(regions) - set(EWARP_REGIONS)
        if unknown:
            raise ValueError(f"E_warp regions must be among {EWARP_REGIONS}, got {sorted(unknown)}")
        self.provider = get_flow_provider(flow, **flow_options)
        self.flow_source = flow_source
        self.regions = tuple(regions)
        self.info = MetricInfo(
            name="ewarp",
            higher_is_better=False,
            needs_ground_truth=flow_source == "counterfactual",
            value_range=(0.0, 3.0),
            regions=self.regions,
            reference="output",
        )
        self._error = {name: ExactSum() for name in self.regions}
        self._frames_counted = dict.fromkeys(self.regions, 0)
        self._frames_skipped = dict.fromkeys(self.regions, 0)
        self._missing_source = False

    def _settings(self) -> tuple:
        return (self.provider.name, self.flow_source, self.regions, self.max_side)

    def _frame_state(self, chunk: ScoreChunk, index: int) -> _FrameState:
        source_video = {"output": chunk.output, "input": chunk.input, "counterfactual": chunk.counterfactual}[
            self.flow_source
        ]
        if source_video is None:
            self._missing_source = True
        regions = {name: _region(chunk.mask, index, name) for name in self.regions}
        output = chunk.output[index]
        source = None if source_video is None else source_video[index]
        height, width = output.shape[:2]
        if self.max_side is not None and max(height, width) > self.max_side:
            scale = self.max_side / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            self._resized = ((height, width), (size[1], size[0]))
            output = cv2.resize(output, size, interpolation=cv2.INTER_AREA)
            source = None if source is None else cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            regions = {
                name: None
                if region is None
                else cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
                for name, region in regions.items()
            }
        # copies, not views: a view would keep the whole decoded chunk alive between chunks
        return _FrameState(
            output=np.array(output), source=None if source is None else np.array(source), regions=regions
        )

    def _add_pair(self, previous: _FrameState, current: _FrameState) -> None:
        if previous.source is None or current.source is None:
            return
        forward = self.provider.flow(previous.source, current.source)
        backward = self.provider.flow(current.source, previous.source)
        sums = pair_warping_error(previous.output, current.output, forward, backward, previous.regions)
        for name, (error, weight) in sums.items():
            if weight > 0:
                self._error[name].add(error / weight)
                self._frames_counted[name] += 1
            else:
                self._frames_skipped[name] += 1

    def _merge_sums(self, other: EwarpAccumulator) -> None:
        for name in self.regions:
            self._error[name].merge(other._error[name])
            self._frames_counted[name] += other._frames_counted[name]
            self._frames_skipped[name] += other._frames_skipped[name]
        self._missing_source |= other._missing_source
        self._resized = self._resized or other._resized

    def describe(self) -> str:
        """The provenance every row carries: flow provider, source video, scale, and the working-resolution resize."""
        text = (
            f"flow {self.provider.name} on the {self.flow_source} video; scale raw (x1), [0,1] RGB, SSE over channels"
        )
        if self._resized is not None:
            (height, width), (new_height, new_width) = self._resized
            text += f"; frames resized {height}x{width} -> {new_height}x{new_width} (INTER_AREA)"
        return text

    def compute(self) -> dict[str, MetricValue]:
        """Region -> E_warp (mean over frame pairs of the per-pair error), NaN with a reason when undefined."""
        results = {}
        for name in self.regions:
            counted, skipped = self._frames_counted[name], self._frames_skipped[name]
            if self._missing_source:
                results[name] = MetricValue.nan(f"no {self.flow_source} video to compute flow on; {self.describe()}")
            elif self.pairs == 0:
                results[name] = MetricValue.nan(f"needs at least 2 frames; {self.describe()}")
            elif counted == 0:
                where = "the whole frame" if name == "frame" else f"region '{name}'"
                results[name] = MetricValue.nan(
                    f"no non-occluded pixels in {where} in any of {self.pairs} frame pairs; {self.describe()}"
                )
            else:
                note = f"{self.describe()}; mean over {counted} frame pairs"
                if skipped:
                    note += f" ({skipped} pairs with no non-occluded pixel there skipped)"
                results[name] = MetricValue(value=self._error[name].value / counted, note=note, count=counted)
        return results


def _region(mask: Quadmask | None, index: int, name: str) -> np.ndarray | None:
    region = _REGION_MASKS[name]
    if region is None:
        return None
    return mask[index : index + 1].region(region)[0]


def warping_error(
    output: np.ndarray,
    mask: Quadmask | None = None,
    *,
    flow_video: np.ndarray | None = None,
    flow: str | FlowProvider = "dis",
    **flow_options,
) -> dict[str, MetricValue]:
    """E_warp of a whole ``(T, H, W, 3)`` uint8 video in one call (same steps as :class:`EwarpAccumulator`).

    Parameters
    ----------
    output : np.ndarray
        The video judged.
    mask : Quadmask, optional
        Adds region ``remove`` when given.
    flow_video : np.ndarray, optional, keyword-only
        Video to compute flow on (default: ``output`` itself).
    flow : str or FlowProvider, keyword-only
        Flow provider.
    """
    output = np.asarray(output)
    regions = ("frame", "remove") if mask is not None else ("frame",)
    accumulator = EwarpAccumulator(
        flow=flow, flow_source="output" if flow_video is None else "input", regions=regions, **flow_options
    )
    levels = mask if mask is not None else Quadmask(np.full(output.shape[:3], 255, np.uint8))
    source = output if flow_video is None else np.asarray(flow_video)
    accumulator.update(ScoreChunk(start=0, output=output, input=source, mask=levels))
    return accumulator.compute()
