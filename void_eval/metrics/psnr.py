"""PSNR per quadmask region, pooled over every region pixel of every frame (or averaged per frame).

Definition, for uint8 RGB frames and ``data_range`` R = 255 (explicit, never inferred from the data):

- ``pooling="pixels"`` (default): ``MSE = sum of (out - ref)^2 over every region pixel and channel of every
  frame / number of those values``; ``PSNR = 10 log10(R^2 / MSE)``. One region value for the whole clip; frames
  with more region pixels weigh more. Squared errors are summed as exact integers, so chunking and merging
  cannot change a bit.
- ``pooling="frames"``: per frame, the PSNR of that frame's region pixels; then the mean over the frames where the
  region is not empty (the classic video-inpainting protocol averages per-frame PSNR this way).

``MSE = 0`` gives ``inf`` (as :func:`skimage.metrics.peak_signal_noise_ratio` does); with ``pooling="frames"``
one identical frame makes the mean ``inf``, and the note says how many frames were identical.

Notes
-----
To match a paper: whole-frame PSNR per frame (``regions=("frame",)``) equals
``skimage.metrics.peak_signal_noise_ratio(ref, out, data_range=255)`` for each frame; FuseFormer / E2FGVI /
ProPainter average those per-frame values over all frames of all videos (``pooling="frames"``, see
:mod:`void_eval.metrics.propainter`). Pooled PSNR (the default) is the PSNR of the clip as one signal.

Examples
--------
>>> import numpy as np
>>> reference = np.zeros((2, 4, 4, 3), np.uint8)
>>> output = reference.copy()
>>> output[0, 0, 0, 0] = 51
>>> round(psnr(output, reference), 4)
33.8021
>>> round(psnr(output, reference, pooling="frames"), 4)
inf
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np

from void_eval.metrics.base import MetricInfo, MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    FIDELITY_REGIONS,
    check_device,
    check_mask,
    check_pair,
    check_reference,
    check_regions,
    reference_frames,
    region_masks,
)

Pooling = Literal["pixels", "frames"]
POOLINGS: tuple[str, ...] = ("pixels", "frames")


def _frame_sums(output: np.ndarray, reference: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: (sum of squared errors over region pixels and channels, number of values), both int64.

    ``cv2.norm(..., NORM_L2SQR)`` (with an optional region mask) sums the squared differences in double precision;
    the true sum is an integer below 2^41 even for 4K frames and the rounding error is far below 0.5, so rounding
    gives the exact integer.
    """
    frames, height, width = output.shape[:3]
    sums = np.empty(frames, dtype=np.int64)
    counts = np.empty(frames, dtype=np.int64)
    for index in range(frames):
        a = np.ascontiguousarray(output[index])
        b = np.ascontiguousarray(reference[index])
        if mask is None:
            sums[index] = round(cv2.norm(a, b, cv2.NORM_L2SQR))
            counts[index] = height * width * 3
            continue
        region = np.ascontiguousarray(mask[index]).view(np.uint8)
        counts[index] = 3 * int(np.count_nonzero(region))
        sums[index] = round(cv2.norm(a, b, cv2.NORM_L2SQR, mask=region)) if counts[index] else 0
    return sums, counts


def _psnr_from_mse(mse: float, data_range: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(data_range * data_range / mse)


def _check_options(data_range: float, pooling: str) -> float:
    if not isinstance(data_range, int | float) or not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    return float(data_range)


class _PsnrSums:
    """Exact per-frame squared-error sums of one region: the private step shared by function and accumulator."""

    def __init__(self) -> None:
        self.errors: list[int] = []
        self.counts: list[int] = []

    def add(self, sums: np.ndarray, counts: np.ndarray) -> None:
        self.errors.extend(int(value) for value in sums)
        self.counts.extend(int(value) for value in counts)

    def merge(self, other: _PsnrSums) -> None:
        self.errors.extend(other.errors)
        self.counts.extend(other.counts)

    def reduce(self, region: str, *, data_range: float, pooling: str) -> MetricValue:
        used = [(error, count) for error, count in zip(self.errors, self.counts, strict=True) if count > 0]
        if not self.counts:
            return MetricValue.nan("no frames were scored")
        if not used:
            return MetricValue.nan(f"region {region!r} is empty in every frame")
        if pooling == "pixels":
            error = sum(error for error, _ in used)  # exact integer sums
            count = sum(count for _, count in used)
            value = _psnr_from_mse(error / count, data_range)
            note = "identical in every region pixel" if error == 0 else ""
            return MetricValue(value, note=note, count=len(used))
        values = [_psnr_from_mse(error / count, data_range) for error, count in used]
        identical = sum(1 for value in values if math.isinf(value))
        note = f"{identical} of {len(values)} frames identical (infinite PSNR)" if identical else ""
        mean = math.inf if identical else math.fsum(values) / len(values)
        return MetricValue(mean, note=note, count=len(values))


def psnr(
    output: np.ndarray,
    reference: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    data_range: float = 255.0,
    pooling: Pooling = "pixels",
) -> float:
    """PSNR in dB of ``output`` against ``reference`` over the pixels of ``mask``.

    Parameters
    ----------
    output, reference : np.ndarray
        ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB.
    mask : np.ndarray, optional, keyword-only
        Boolean ``(T, H, W)`` or ``(H, W)`` region; ``None`` = every pixel.
    data_range : float, keyword-only
        Peak value R in ``10 log10(R^2 / MSE)``; 255 for uint8.
    pooling : {"pixels", "frames"}, keyword-only
        ``pixels``: one MSE over all region values of all frames; ``frames``: mean of per-frame PSNR over the
        frames where the region is not empty. See the module docstring.

    Returns
    -------
    float
        PSNR in dB (``inf`` when identical); NaN when the region is empty in every frame.
    """
    data_range = _check_options(data_range, pooling)
    output, reference = check_pair(output, reference)
    mask = check_mask(mask, output.shape)
    sums = _PsnrSums()
    sums.add(*_frame_sums(output, reference, mask))
    return sums.reduce("mask", data_range=data_range, pooling=pooling).value


class PsnrAccumulator:
    """Streaming PSNR per region (see the module docstring for the definition and pooling).

    Parameters
    ----------
    regions : sequence of str, keyword-only
        Row regions to report (``frame``, ``remove``, ``affected``, ``keep``, ``boundary``).
    reference : {"counterfactual", "input"}, keyword-only
        Which :class:`ScoreChunk` stream is the reference.
    data_range : float, keyword-only
        Peak value (255 for uint8).
    pooling : {"pixels", "frames"}, keyword-only
        How frames are combined.
    device : {"cpu", "cuda"}, keyword-only
        Accepted for a uniform interface; PSNR runs on the CPU with exact integer sums on every device.

    Examples
    --------
    >>> import numpy as np
    >>> from void_eval.quadmask import Quadmask
    >>> frames = np.zeros((2, 8, 8, 3), np.uint8)
    >>> mask = Quadmask(np.full((2, 8, 8), 255, np.uint8))
    >>> accumulator = PsnrAccumulator(regions=("frame", "remove"), reference="input")
    >>> accumulator.update(ScoreChunk(start=0, output=frames + 1, input=frames, mask=mask))
    >>> result = accumulator.compute()
    >>> round(result["frame"].value, 2), result["remove"].note
    (48.13, "region 'remove' is empty in every frame")
    """

    def __init__(
        self,
        *,
        regions: Sequence[str] = FIDELITY_REGIONS,
        reference: str = "counterfactual",
        data_range: float = 255.0,
        pooling: Pooling = "pixels",
        device: str = "cpu",
    ) -> None:
        self.regions = check_regions(regions)
        self.reference = check_reference(reference)
        self.data_range = _check_options(data_range, pooling)
        self.pooling = pooling
        self.device = check_device(device)
        self.info = MetricInfo(
            name="psnr",
            higher_is_better=True,
            needs_ground_truth=reference == "counterfactual",
            value_range=(0.0, math.inf),
            regions=self.regions,
            reference=self.reference,
        )
        self._sums = {name: _PsnrSums() for name in self.regions}

    def update(self, chunk: ScoreChunk) -> None:
        """Add the squared-error sums of one chunk's frames."""
        output, reference = check_pair(chunk.output, reference_frames(chunk, self.reference, "psnr"))
        for name, mask in region_masks(chunk.mask, self.regions).items():
            self._sums[name].add(*_frame_sums(output, reference, mask))

    def merge(self, other: PsnrAccumulator) -> None:
        """Add another accumulator's per-frame sums (same regions, reference, range and pooling)."""
        if not isinstance(other, PsnrAccumulator):
            raise TypeError(f"cannot merge {type(other).__name__} into PsnrAccumulator")
        settings = (self.regions, self.reference, self.data_range, self.pooling)
        if (other.regions, other.reference, other.data_range, other.pooling) != settings:
            raise ValueError("cannot merge PSNR accumulators with different settings")
        for name in self.regions:
            self._sums[name].merge(other._sums[name])

    def compute(self) -> dict[str, MetricValue]:
        """Region -> PSNR in dB (NaN with a reason for a region empty in every frame)."""
        return {
            name: self._sums[name].reduce(name, data_range=self.data_range, pooling=self.pooling)
            for name in self.regions
        }


__all__ = ["PsnrAccumulator", "psnr"]
