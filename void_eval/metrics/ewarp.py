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
  ``W(O_{t+1}; F) - O_t`` (``docs/metrics.md``). In the callee's parameter names the formula reads
  ``W(F; Fb) + Fb`` and ``grad Fb``; here that is ``occlusion_mask(forward=Fb, backward=F)``;
- ``E_t = sum_x noc(x) sum_c (W(O_{t+1}; F)(x, c) - O_t(x, c))^2 / sum_x noc(x)`` (squared error summed over the
  3 channels, averaged over non-occluded pixels);
- ``E_warp = mean_t E_t`` over the ``T - 1`` pairs of the clip.

Computation: :mod:`void_eval.metrics.warp` (exact bilinear float32 warps, the occlusion mask and the error in
cache-sized row bands, float64 sums); about 15-20 ms per 720p pair besides the two flows.

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
from typing import Any, Literal

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics._temporal import PackedArray, PairAccumulator
from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.metrics.flow import FlowProvider, get_flow_provider
from void_eval.metrics.warp import pair_warping_error
from void_eval.quadmask import Quadmask

FlowSource = Literal["output", "input", "counterfactual"]
EWARP_REGIONS: tuple[str, ...] = ("frame", "remove")
_REGION_MASKS = {"frame": None, "remove": "remove_any"}


@dataclass
class _FrameState:
    output: Any
    source: Any
    regions: dict[str, Any]

    def packed(self, pack) -> _FrameState:
        """This state with every array passed through ``pack`` (the source kept as one copy when it is the output)."""
        output = None if self.output is None else pack(self.output)
        source = output if self.source is self.output else (None if self.source is None else pack(self.source))
        regions = {name: None if region is None else pack(region) for name, region in self.regions.items()}
        return _FrameState(output, source, regions)


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

    name = "ewarp"
    state = ("_error", "_frames_counted", "_frames_skipped", "_missing_source", "_resized")

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
        if flow_source not in ("output", "input", "counterfactual"):
            raise ValueError(f"flow_source must be output, input or counterfactual, got {flow_source!r}")
        unknown = set(regions) - set(EWARP_REGIONS)
        if unknown:
            raise ValueError(f"E_warp regions must be among {EWARP_REGIONS}, got {sorted(unknown)}")
        self.max_side = max_side
        self.provider = get_flow_provider(flow, **flow_options)
        self.flow_source = flow_source
        self.needs_ground_truth = flow_source == "counterfactual"
        self.regions = tuple(regions)
        self._error = {name: ExactSum() for name in self.regions}
        self._frames_counted = dict.fromkeys(self.regions, 0)
        self._frames_skipped = dict.fromkeys(self.regions, 0)
        self._missing_source = False
        self._resized: tuple[tuple[int, int], tuple[int, int]] | None = None
        self._failed = False  # an update raised part-way (its pairs are partly counted)

    def settings(self) -> tuple:
        return (self.provider.name, self.flow_source, self.regions, self.max_side)

    def _working_size(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` of the frames flow and error are computed on (``max_side``)."""
        if self.max_side is None or max(height, width) <= self.max_side:
            return height, width
        scale = self.max_side / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))

    def _frame_state(self, chunk: ScoreChunk, index: int) -> _FrameState:
        source_video = chunk.stream(self.flow_source)
        self._missing_source |= source_video is None
        output = chunk.output[index]
        source = output if source_video is None or self.flow_source == "output" else source_video[index]
        regions = {
            name: None if _REGION_MASKS[name] is None else chunk.region(_REGION_MASKS[name])[index]
            for name in self.regions
        }
        state = _FrameState(output, None if source_video is None else source, regions)
        height, width = output.shape[:2]
        working = self._working_size(height, width)
        if working != (height, width):
            self._resized = ((height, width), working)
            size = (working[1], working[0])
            return state.packed(
                lambda array: (
                    cv2.resize(array.view(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
                    if array.dtype == bool
                    else cv2.resize(array, size, interpolation=cv2.INTER_AREA)
                )
            )
        return state.packed(np.array)  # copies, not views: a view would keep the whole decoded chunk alive

    def _pack_state(self, state: _FrameState) -> _FrameState:
        return state.packed(PackedArray.pack)

    def _unpack_state(self, packed: _FrameState) -> _FrameState:
        return packed.packed(lambda array: array.unpack())

    def update(self, chunk: ScoreChunk) -> None:
        """Add the chunk's frame pairs (and the one joining it to the previous chunk).

        Raises
        ------
        RuntimeError
            An earlier update failed part-way: the sums are incomplete, so this accumulator reports nothing more.
        """
        if self._failed:
            raise RuntimeError("E_warp: an earlier update failed part-way; score the clip again")
        try:
            super().update(chunk)
        except BaseException:
            self._failed = True
            raise

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

    def merge(self, other: EwarpAccumulator) -> None:  # type: ignore[override]
        """Add ``other``'s sums (and the pair joining the two when ``other`` continues this one's frames)."""
        super().merge(other)
        self._failed |= other._failed  # also when other failed before counting any frame

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
        """Region -> E_warp (mean over frame pairs of the per-pair error), NaN with a reason when undefined.

        Raises
        ------
        RuntimeError
            An update failed part-way (its sums are incomplete).
        """
        if self._failed:
            raise RuntimeError("E_warp: an update failed part-way; its sums are incomplete")
        return {name: self._value(name) for name in self.regions}

    def _value(self, name: str) -> MetricValue:
        counted, skipped = self._frames_counted[name], self._frames_skipped[name]
        if self._missing_source:
            return MetricValue.nan(f"no {self.flow_source} video to compute flow on; {self.describe()}")
        if self.pairs == 0:
            return MetricValue.nan(f"needs at least 2 frames; {self.describe()}")
        if counted == 0:
            where = "the whole frame" if name == "frame" else f"region '{name}'"
            return MetricValue.nan(
                f"no non-occluded pixels in {where} in any of {self.pairs} frame pairs; {self.describe()}"
            )
        note = f"{self.describe()}; mean over {counted} frame pairs"
        if skipped:
            note += f" ({skipped} pairs with no non-occluded pixel there skipped)"
        return MetricValue(value=self._error[name].value / counted, note=note, count=counted)


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
