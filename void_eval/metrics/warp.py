"""The per-pair arithmetic of E_warp: backward warping, the reference's occlusion mask, the masked error.

Warps are exact bilinear in float32 (OpenCV >= 5.0's ``remap`` on 1-, 3- or 4-channel images; its 2-channel path
quantises the weights to 1/32 px, so a flow field is warped padded to 4 channels; OpenCV 4.x quantises every channel
count, hence the ``>=5.0`` requirement, and a test over 1-5 channels checks it). The occlusion tests and the squared
error run in float32 on row bands of ~32k pixels that stay in cache, with the operations of the whole-frame formula
in the same order (the mask is bit-identical to it; tests compare it with plain numpy and a float64 scipy
transcription); sums are float64. Definitions: :mod:`void_eval.metrics.ewarp` and ``docs/metrics.md``.

Examples
--------
>>> import numpy as np
>>> image = np.arange(12, dtype=np.float32).reshape(3, 4)
>>> shift = np.zeros((3, 4, 2), np.float32); shift[..., 0] = 1   # sample one pixel to the right
>>> warp_backward(image, shift)[0].tolist()
[1.0, 2.0, 3.0, 3.0]
>>> bool(occlusion_mask(-shift, shift).any())   # a consistent forward/backward pair: nothing occluded
False
"""

from __future__ import annotations

import cv2
import numpy as np

#: Pixels per row band of the per-pixel arithmetic: a band's temporaries stay in the CPU's L2 cache, which makes
#: the elementwise steps several times faster than whole-frame numpy expressions (and allocates ~1 MB, not ~100).
_BAND_PIXELS = 1 << 15
_OCCLUSION_RELATIVE = np.float32(0.01)
_OCCLUSION_ABSOLUTE = np.float32(0.5)
_BOUNDARY_ABSOLUTE = np.float32(0.002)
_CHANNEL_SUM = np.ones((1, 3), np.float32)


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
) -> dict[str, tuple[float, float]]:
    """Per region, ``(sum noc M err, sum noc M)`` for one pair; ``err`` summed over channels, images in [0, 1].

    ``current`` = ``O_t`` and ``following`` = ``O_{t+1}`` (``(H, W, 3)`` uint8), ``forward`` = ``F`` (``t -> t+1``)
    and ``backward`` = ``Fb`` (``t+1 -> t``); ``regions`` maps a name to a boolean ``(H, W)`` mask on frame ``t``
    (``None`` = every pixel). Both warps sample at ``x + F(x)``; warps, mask, squared error and sums are evaluated
    band by band (:data:`_BAND_PIXELS` pixels), so the temporaries stay in cache and only two frame-sized float
    buffers (``Fb`` padded to 4 channels, ``O_{t+1} / 255``) are made. The mask is
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
    # Fb padded to 4 channels: OpenCV warps 4-channel float images with exact bilinear weights (2-channel ones with
    # 1/32-px weights) and faster than 2 planes; the padding channels stay 0
    padded = np.zeros((height, width, 4), np.float32)
    cv2.mixChannels([backward], [padded], [0, 0, 1, 1])
    following_unit = np.divide(following, np.float32(255), dtype=np.float32)  # = astype(float32) / 255
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


__all__ = ["occlusion_mask", "pair_warping_error", "warp_backward"]
