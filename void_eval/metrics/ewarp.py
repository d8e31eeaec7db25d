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

Computation: warps are exact bilinear in float32 (OpenCV >= 5.0's ``remap`` on 1-, 3- or 4-channel images; its
2-channel path quantises the weights to 1/32 px, so the flow field is warped padded to 4 channels; OpenCV 4.x
quantises every channel count, hence the ``>=5.0`` requirement, and a test over 1-5 channels checks it); the
occlusion tests and the squared error run in float32 on row bands of ~32k pixels that stay in cache, with the same
operations in the same order as the whole-frame formula (the mask is bit-identical to it; tests compare it with
plain numpy and a float64 scipy transcription); sums are float64. About 15-20 ms per 720p pair besides the two flows.
Pairs of frames up to 1 Mpx run two at a time on threads (:meth:`EwarpAccumulator.update`; 720p: ~130 -> ~115 ms a
pair on 2 cores, same values).

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

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics._idle import borrowed
from void_eval.metrics._temporal import PackedArray, PairAccumulator
from void_eval.metrics.base import MetricInfo, MetricValue, ScoreChunk
from void_eval.metrics.flow import KEEP_SCRATCH_MAX_PIXELS, FlowProvider, allows_concurrent_calls, get_flow_provider
from void_eval.quadmask import Quadmask

FlowSource = Literal["output", "input", "counterfactual"]
EWARP_REGIONS: tuple[str, ...] = ("frame", "remove")
_REGION_MASKS = {"frame": None, "remove": "remove_any"}


#: Pixels per row band of the per-pixel arithmetic: a band's temporaries stay in the CPU's L2 cache, which makes
#: the elementwise steps several times faster than whole-frame numpy expressions (and allocates ~1 MB, not ~100).
_BAND_PIXELS = 1 << 15
_OCCLUSION_RELATIVE = np.float32(0.01)
_OCCLUSION_ABSOLUTE = np.float32(0.5)
_BOUNDARY_ABSOLUTE = np.float32(0.002)
_CHANNEL_SUM = np.ones((1, 3), np.float32)
#: Frame pairs computed at once on threads (flows and error of one pair per thread; see ``EwarpAccumulator.update``).
PARALLEL_PAIRS = 2
#: Largest working frame (pixels) whose pairs run in parallel: above, each pair in flight holds a fresh DIS
#: instance (~145 MB at 1080p), which would add to the 4K scoring peak; one pair at a time there.
PARALLEL_PAIRS_MAX_PIXELS = KEEP_SCRATCH_MAX_PIXELS


class _Workspace:
    """Frame-sized float32 buffers reused from pair to pair (a fresh 10 MB array costs more in page faults than the
    arithmetic done in it). One buffer per name, replaced when a different shape is asked for."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:
        return {}  # scratch space: a pickled or copied accumulator starts with none

    def __setstate__(self, state: dict) -> None:
        self._buffers = {}

    def get(self, name: str, shape: tuple[int, ...], *, zeroed: bool = False) -> np.ndarray:
        """The float32 buffer ``name`` of ``shape`` (made on first use; ``zeroed``: filled with 0 when made)."""
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape:
            self._buffers.pop(name, None)  # free the old one first
            buffer = self._buffers[name] = (np.zeros if zeroed else np.empty)(shape, np.float32)
        return buffer


def _sampling_map(flow: np.ndarray, *, top: int = 0) -> np.ndarray:
    """Absolute sampling map ``(x + flow_x, y + flow_y)`` as one ``(rows, W, 2)`` float32 array (float32 sums).

    ``flow`` holds the frame rows ``[top, top + rows)`` (a band) or the whole frame (``top`` 0).
    """
    rows, width = flow.shape[:2]
    sampling = np.empty((rows, width, 2), np.float32)
    sampling[..., 0] = np.arange(width, dtype=np.float32)[None, :]
    sampling[..., 1] = np.arange(top, top + rows, dtype=np.float32)[:, None]
    sampling += flow
    return sampling


#: Channel counts OpenCV's ``remap`` interpolates with float weights; other counts (2, 5, ...) go through its
#: fixed-point path, whose weights are quantised to 1/32 px (errors of ~0.05 px on a warped flow field).
_FLOAT_REMAP_CHANNELS = (1, 3, 4)


def _remap(image: np.ndarray, sampling: np.ndarray) -> np.ndarray:
    """Exact bilinear ``remap`` of a float32 image (taps clamped): 1, 3 and 4 channels directly, others by plane."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    shape = (*sampling.shape[:2], *image.shape[2:])  # the map's grid, the image's channels
    if channels in _FLOAT_REMAP_CHANNELS:
        warped = cv2.remap(image, sampling, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return warped.reshape(shape)  # OpenCV drops a trailing axis of length 1
    out = np.empty(shape, np.float32)
    for channel in range(channels):
        out[..., channel] = _remap(np.ascontiguousarray(image[..., channel]), sampling)
    return out


def _as_flow(flow: np.ndarray, name: str) -> np.ndarray:
    flow = np.ascontiguousarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[-1] != 2:
        raise ValueError(f"{name} flow must be (H, W, 2), got shape {flow.shape}")
    return flow


def _bands(height: int, width: int) -> range:
    return range(0, height, max(1, _BAND_PIXELS // max(1, width)))


def warp_backward(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``W(image; flow)(x) = image(x + flow(x))``, bilinear with the taps clamped to the frame.

    Parameters
    ----------
    image : np.ndarray
        ``(H, W)`` or ``(H, W, C)`` float array.
    flow : np.ndarray
        ``(H, W, 2)`` displacement in pixels (``[..., 0]`` horizontal).

    Returns
    -------
    np.ndarray
        float32, same shape as ``image``. FlowNet2's Resample2d (kernel size 1): weights from the unclamped
        coordinate, taps clamped to the frame, which is OpenCV's ``remap`` with INTER_LINEAR and
        BORDER_REPLICATE on float32 maps (checked against scipy's ``map_coordinates`` in the tests). OpenCV
        interpolates 1-, 3- and 4-channel float images with float weights but quantises the weights to 1/32 px
        for other channel counts, so a 2-channel flow field is warped plane by plane.
    """
    flow = _as_flow(flow, "warping")
    return _remap(np.ascontiguousarray(image, dtype=np.float32), _sampling_map(flow))


def _pair_sum(pairs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``pairs[..., 0] + pairs[..., 1]`` in float32: what numpy's ``pairs.sum(axis=-1)`` computes for 2 channels."""
    return np.add(pairs[..., 0], pairs[..., 1], out=out)


def _occluded_band(warped_forward: np.ndarray, backward: np.ndarray, top: int, bottom: int) -> np.ndarray:
    """``occ1 | occ2`` of :func:`occlusion_mask` for rows ``[top, bottom)``.

    ``warped_forward`` holds ``W(forward; backward)`` on those rows, ``backward`` is the whole flow (the vertical
    difference needs the row below the band). Every step is the float32 operation of the formula in the same order
    (``0.01 (a + b) + 0.5`` as ``(a + b) * 0.01 + 0.5``, channel sums left to right), so the mask is bit-identical to
    evaluating the formula on whole float32 frames.
    """
    rows = backward[top:bottom]
    scratch = np.add(warped_forward, rows)
    np.multiply(scratch, scratch, out=scratch)
    fb_magnitude = _pair_sum(scratch)  # |W(forward; backward) + backward|^2
    np.multiply(warped_forward, warped_forward, out=scratch)
    threshold = _pair_sum(scratch)  # |W(forward; backward)|^2
    np.multiply(rows, rows, out=scratch)
    backward_magnitude = _pair_sum(scratch)  # |backward|^2
    threshold += backward_magnitude
    threshold *= _OCCLUSION_RELATIVE
    threshold += _OCCLUSION_ABSOLUTE
    occluded = np.greater(fb_magnitude, threshold)
    # |grad backward|^2 = |du|^2 + |dv|^2, forward differences, zero on the last column / the frame's last row
    horizontal = fb_magnitude  # buffers reused from here on
    horizontal[:, -1] = 0
    difference = np.subtract(rows[:, :-1], rows[:, 1:])
    np.multiply(difference, difference, out=difference)
    _pair_sum(difference, out=horizontal[:, :-1])
    vertical = threshold
    below = backward[top + 1 : bottom + 1]
    difference = np.subtract(rows[: len(below)], below)
    np.multiply(difference, difference, out=difference)
    _pair_sum(difference, out=vertical[: len(below)])
    vertical[len(below) :] = 0
    horizontal += vertical
    backward_magnitude *= _OCCLUSION_RELATIVE
    backward_magnitude += _BOUNDARY_ABSOLUTE
    occluded |= np.greater(horizontal, backward_magnitude)
    return occluded


def occlusion_mask(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``occ1 or occ2`` of the reference's ``detect_occlusion(fw_flow, bw_flow)`` (True = occluded or boundary).

    Parameters follow the callee's names: ``occ1 = |W(forward; backward) + backward|^2 > 0.01 (|W(forward;
    backward)|^2 + |backward|^2) + 0.5``, ``occ2 = |grad backward|^2 > 0.01 |backward|^2 + 0.002``; the mask lives
    on ``backward``'s grid. E_warp calls it as the reference does, ``occlusion_mask(Fb, F)`` (``forward`` = the
    actual backward flow ``t+1 -> t``, ``backward`` = the actual forward flow ``t -> t+1``), giving a mask on frame
    ``t``'s grid; see the module docstring. Evaluated in float32, in row bands (same values as whole frames).
    """
    forward, backward = _as_flow(forward, "forward"), _as_flow(backward, "backward")
    if forward.shape != backward.shape:
        raise ValueError(f"flows differ in shape: {forward.shape} and {backward.shape}")
    warped_forward = _remap(forward, _sampling_map(backward))
    height, width = backward.shape[:2]
    occluded = np.empty((height, width), bool)
    bands = _bands(height, width)
    for top in bands:
        bottom = min(height, top + bands.step)
        occluded[top:bottom] = _occluded_band(warped_forward[top:bottom], backward, top, bottom)
    return occluded


def pair_warping_error(
    current: np.ndarray,
    following: np.ndarray,
    forward: np.ndarray,
    backward: np.ndarray,
    regions: dict[str, np.ndarray | None],
    *,
    workspace: _Workspace | None = None,
) -> dict[str, tuple[float, float]]:
    """Per region, ``(sum noc M err, sum noc M)`` for one pair; ``err`` summed over channels, images in [0, 1].

    ``current`` = ``O_t`` and ``following`` = ``O_{t+1}`` (``(H, W, 3)`` uint8), ``forward`` = ``F`` (``t -> t+1``)
    and ``backward`` = ``Fb`` (``t+1 -> t``); ``regions`` maps a name to a boolean ``(H, W)`` mask on frame ``t``
    (``None`` = every pixel). Both warps sample at ``x + F(x)``; warps, mask, squared error and sums are evaluated
    band by band (:data:`_BAND_PIXELS` pixels), so the temporaries stay in cache and only two frame-sized float
    buffers (``Fb`` padded to 4 channels, ``O_{t+1} / 255``) are needed, kept in ``workspace``. The mask is
    bit-identical to :func:`occlusion_mask` ``(Fb, F)``; ``err`` is the float32 formula (channel sum through
    ``cv2.transform``, within 1 ulp of numpy's), each band's sums are taken in float64.
    """
    forward, backward = _as_flow(forward, "forward"), _as_flow(backward, "backward")
    height, width = forward.shape[:2]
    if backward.shape != forward.shape or current.shape[:2] != (height, width) or following.shape != current.shape:
        raise ValueError(
            f"pair shapes differ: frames {current.shape} and {following.shape}, flows {forward.shape} and "
            f"{backward.shape}"
        )
    # the reference calls detect_occlusion(bw_flow, fw_flow): arguments swapped relative to the parameter names,
    # which puts the mask on frame t's grid (the grid of ``error`` below); both warps sample at x + F(x)
    workspace = _Workspace() if workspace is None else workspace
    # Fb padded to 4 channels: OpenCV warps 4-channel float images with exact bilinear weights (2-channel ones with
    # 1/32-px weights) and faster than 2 planes; the padding channels stay 0
    padded = workspace.get("backward_padded", (height, width, 4), zeroed=True)
    cv2.mixChannels([backward], [padded], [0, 0, 1, 1])
    following_unit = workspace.get("following", following.shape)
    np.divide(following, np.float32(255), out=following_unit, dtype=np.float32)  # = astype(float32) / 255
    totals = {name: [0.0, 0] for name in regions}
    bands = _bands(height, width)
    for top in bands:
        bottom = min(height, top + bands.step)
        # both warps sample at x + F(x); the band's map picks its rows out of the whole source frames
        sampling = _sampling_map(forward[top:bottom], top=top)
        warped_padded = _remap(padded, sampling)
        warped_backward = np.empty((bottom - top, width, 2), np.float32)
        cv2.mixChannels([warped_padded], [warped_backward], [0, 0, 1, 1])  # contiguous pairs: faster arithmetic
        visible = ~_occluded_band(warped_backward, forward, top, bottom)
        difference = current[top:bottom].astype(np.float32)
        np.divide(difference, np.float32(255), out=difference)
        np.subtract(_remap(following_unit, sampling), difference, out=difference)
        np.multiply(difference, difference, out=difference)
        error = cv2.transform(difference, _CHANNEL_SUM).reshape(bottom - top, width)
        np.multiply(error, visible, out=error)  # error of occluded pixels -> 0 (finite values only)
        for name, region in regions.items():
            if region is None:
                totals[name][0] += float(error.sum(dtype=np.float64))
                totals[name][1] += int(np.count_nonzero(visible))
            else:
                inside = region[top:bottom]
                totals[name][0] += float(np.multiply(error, inside).sum(dtype=np.float64))
                totals[name][1] += int(np.count_nonzero(visible & inside))
    return {name: (error_sum, float(weight)) for name, (error_sum, weight) in totals.items()}


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
        self._workspaces: list[_Workspace] = []  # scratch buffers of pairs up to 720p, one per pair in flight
        self._pool: ThreadPoolExecutor | None = None  # set while update() runs pairs on threads
        self._in_flight: deque[Future] | None = None
        self._failed = False  # an update raised part-way (its pairs are partly counted)

    def _settings(self) -> tuple:
        return (self.provider.name, self.flow_source, self.regions, self.max_side)

    def _working_size(self, height: int, width: int) -> tuple[int, int]:
        """``(height, width)`` of the frames flow and error are computed on (``max_side``)."""
        if self.max_side is None or max(height, width) <= self.max_side:
            return height, width
        scale = self.max_side / max(height, width)
        return max(1, round(height * scale)), max(1, round(width * scale))

    def _frame_state(self, chunk: ScoreChunk, index: int) -> _FrameState:
        source_video = {"output": chunk.output, "input": chunk.input, "counterfactual": chunk.counterfactual}[
            self.flow_source
        ]
        if source_video is None:
            self._missing_source = True
        regions = {name: _region(chunk.mask, index, name) for name in self.regions}
        frames = [chunk.output[index], None if source_video is None else source_video[index]]
        height, width = frames[0].shape[:2]
        working = self._working_size(height, width)
        if working != (height, width):
            size = (working[1], working[0])
            self._resized = ((height, width), working)
            frames = [
                None if frame is None else cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in frames
            ]
            regions = {
                name: None
                if region is None
                else cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
                for name, region in regions.items()
            }
        # copies, not views: a view would keep the whole decoded chunk alive between chunks
        output = np.array(frames[0])
        if self.flow_source == "output":  # the same frame: one copy
            return _FrameState(output=output, source=output, regions=regions)
        return _FrameState(output=output, source=None if frames[1] is None else np.array(frames[1]), regions=regions)

    def _pack_state(self, state: _FrameState) -> _FrameState:
        def pack(array: np.ndarray | None) -> PackedArray | None:
            return None if array is None else PackedArray.pack(array)

        output = pack(state.output)
        return _FrameState(
            output=output,
            source=output if state.source is state.output else pack(state.source),
            regions={name: pack(region) for name, region in state.regions.items()},
        )

    def _unpack_state(self, packed: _FrameState) -> _FrameState:
        def unpack(array: PackedArray | None) -> np.ndarray | None:
            return None if array is None else array.unpack()

        output = unpack(packed.output)
        return _FrameState(
            output=output,
            source=output if packed.source is packed.output else unpack(packed.source),
            regions={name: unpack(region) for name, region in packed.regions.items()},
        )

    def update(self, chunk: ScoreChunk) -> None:
        """Add the chunk's frame pairs (and the one joining it to the previous chunk).

        Pairs of frames up to :data:`PARALLEL_PAIRS_MAX_PIXELS` run :data:`PARALLEL_PAIRS` at a time on threads
        when the chunk brings at least two pairs, the flow provider allows concurrent calls (DIS and Farneback
        do) and OpenCV may use more than one thread: one pair's flows and error on each (OpenCV DIS keeps both
        cores only ~85% busy, and the error arithmetic runs on one). Each pair's sums are added in pair order,
        so the result is the same as one pair at a time (tested).

        Raises
        ------
        RuntimeError
            An earlier update failed part-way: the sums are incomplete, so this accumulator reports nothing more.
        """
        if self._failed:
            raise RuntimeError("E_warp: an earlier update failed part-way; score the clip again")
        height, width = self._working_size(*chunk.output.shape[1:3])
        pairs = len(chunk.output) - (self._last is None)
        parallel = (
            pairs >= 2
            and height * width <= PARALLEL_PAIRS_MAX_PIXELS
            and allows_concurrent_calls(self.provider)
            and cv2.getNumThreads() > 1
        )
        try:
            if not parallel:
                super().update(chunk)
                return
            with ThreadPoolExecutor(max_workers=PARALLEL_PAIRS, thread_name_prefix="ewarp") as pool:
                self._pool, self._in_flight = pool, deque()
                try:
                    super().update(chunk)
                    while self._in_flight:
                        self._add_sums(self._in_flight.popleft().result())
                finally:
                    self._pool, self._in_flight = None, None
        except BaseException:
            self._failed = True
            raise

    def _add_pair(self, previous: _FrameState, current: _FrameState) -> None:
        if previous.source is None or current.source is None:
            return
        if self._pool is None:
            self._add_sums(self._pair_sums(previous, current))
            return
        if len(self._in_flight) >= PARALLEL_PAIRS:  # at most this many pairs' flows exist at once
            self._add_sums(self._in_flight.popleft().result())
        self._in_flight.append(self._pool.submit(self._pair_sums, previous, current))

    def _pair_sums(self, previous: _FrameState, current: _FrameState) -> dict[str, tuple[float, float]]:
        forward = self.provider.flow(previous.source, current.source)
        backward = self.provider.flow(current.source, previous.source)
        # frame-sized buffers are kept between pairs only up to ~720p: above, their memory would add to the peak
        # of every other metric scored in the same pass (a fresh buffer costs page faults, a few % here)
        keep = forward.shape[0] * forward.shape[1] <= KEEP_SCRATCH_MAX_PIXELS
        with borrowed(self._workspaces, _Workspace, keep=keep) as workspace:  # one per pair in flight
            return pair_warping_error(
                previous.output, current.output, forward, backward, previous.regions, workspace=workspace
            )

    def _add_sums(self, sums: dict[str, tuple[float, float]]) -> None:
        for name, (error, weight) in sums.items():
            if weight > 0:
                self._error[name].add(error / weight)
                self._frames_counted[name] += 1
            else:
                self._frames_skipped[name] += 1

    def merge(self, other: EwarpAccumulator) -> None:
        """Add ``other``'s sums (and the pair joining the two when ``other`` continues this one's frames)."""
        super().merge(other)
        self._failed |= other._failed  # also when other failed before counting any frame

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
        """Region -> E_warp (mean over frame pairs of the per-pair error), NaN with a reason when undefined.

        Raises
        ------
        RuntimeError
            An update failed part-way (its sums are incomplete).
        """
        if self._failed:
            raise RuntimeError("E_warp: an update failed part-way; its sums are incomplete")
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
