"""PSNR per quadmask region, pooled over every region pixel of every frame (or averaged per frame).

Definition (``docs/metrics.md``), for uint8 RGB frames and ``data_range`` R = 255 (explicit, never inferred):

- ``pooling="pixels"`` (default): ``MSE = sum of (out - ref)^2 over every region pixel and channel of every
  frame / number of those values``; ``PSNR = 10 log10(R^2 / MSE)``. One region value for the whole clip; frames
  with more region pixels weigh more. Squared errors are summed as exact integers (in float64, far below 2^53),
  so chunking and merging cannot change a bit.
- ``pooling="frames"``: per frame, the PSNR of that frame's region pixels; then the mean over the frames where the
  region is not empty (the classic video-inpainting protocol averages per-frame PSNR this way).

``MSE = 0`` gives ``inf`` (as :func:`skimage.metrics.peak_signal_noise_ratio` does); with ``pooling="frames"``
one identical frame makes the mean ``inf``, and the note says how many frames were identical. All five regions
come from one pass over each frame's squared errors (:func:`~void_eval.metrics.regions.cell_sums`).

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
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal

import cv2
import numpy as np

from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    REGION_CELLS,
    RegionAccumulator,
    RegionSums,
    cell_count,
    cell_sums,
    check_mask,
    check_pair,
    chunk_cells,
    mask_cells,
    region_totals,
)
from void_eval.metrics.spec import ROW_REGIONS

Pooling = Literal["pixels", "frames"]
POOLINGS: tuple[str, ...] = ("pixels", "frames")


_CHANNEL_SUM = np.ones((1, 3), np.float32)
#: Pixels per row band of the per-pixel work: the band's temporaries stay small (~3 MB) at any frame size.
_BAND_PIXELS = 1 << 18


def squared_errors(output: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(H, W)`` float32 sum over channels of ``(out - ref)^2`` of two ``(H, W, 3)`` uint8 images: exact integers
    (at most 3 x 255^2 < 2^24)."""
    difference = cv2.absdiff(output, reference)
    return cv2.transform(cv2.multiply(difference, difference, dtype=cv2.CV_32F), _CHANNEL_SUM)


def frame_records(
    output: np.ndarray,
    reference: np.ndarray,
    labels: np.ndarray,
    regions: Sequence[str],
    groups: Mapping[str, tuple[int, ...]],
) -> Iterator[dict[str, tuple[float, int]]]:
    """Per frame, region -> ``(sum of squared errors, number of values)``, every region from one pass of row bands
    over the frame's cells (the sums are exact integers, so the bands change no bit)."""
    cells = cell_count(groups)
    step = max(1, _BAND_PIXELS // output.shape[2])
    for frame_output, frame_reference, frame_labels in zip(output, reference, labels, strict=True):
        sums = np.zeros(cells)
        for top in range(0, len(frame_labels), step):
            rows = slice(top, top + step)
            sums += cell_sums(squared_errors(frame_output[rows], frame_reference[rows]), frame_labels[rows], cells)
        totals = region_totals(sums, regions, groups)
        counts = region_totals(np.bincount(frame_labels.ravel(), minlength=cells), regions, groups)
        yield {region: (totals[region], 3 * int(counts[region])) for region in regions}


def _psnr_from_mse(mse: float, data_range: float) -> float:
    return math.inf if mse == 0 else 10.0 * math.log10(data_range * data_range / mse)


def _check_options(data_range: float, pooling: str) -> float:
    if not isinstance(data_range, int | float) or not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    return float(data_range)


def reduce_psnr(records: RegionSums, region: str, *, data_range: float, pooling: str) -> MetricValue:
    """PSNR of ``region`` from per-frame squared-error records (see the module docstring for the pooling)."""
    used = [(error, count) for error, count in zip(records.sums[region], records.counts[region], strict=True) if count]
    if not used:
        return MetricValue.nan(records.empty_reason(region))
    if pooling == "pixels":
        error = math.fsum(error for error, _ in used)
        value = _psnr_from_mse(error / sum(count for _, count in used), data_range)
        return MetricValue(value, note="identical in every region pixel" if error == 0 else "", count=len(used))
    values = [_psnr_from_mse(error / count, data_range) for error, count in used]
    identical = sum(1 for value in values if math.isinf(value))
    note = f"{identical} of {len(values)} frames identical (infinite PSNR)" if identical else ""
    return MetricValue(math.inf if identical else math.fsum(values) / len(values), note=note, count=len(values))


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
    labels = mask_cells(check_mask(mask, output.shape), output.shape)
    records = RegionSums(("mask",))
    for sums in frame_records(output, reference, labels, ("mask",), {"mask": (1,)}):
        records.add("mask", *sums["mask"])
    return reduce_psnr(records, "mask", data_range=data_range, pooling=pooling).value


class PsnrAccumulator(RegionAccumulator):
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

    name = "psnr"

    def __init__(
        self,
        *,
        regions: Sequence[str] = ROW_REGIONS,
        reference: str = "counterfactual",
        data_range: float = 255.0,
        pooling: Pooling = "pixels",
        device: str = "cpu",
    ) -> None:
        super().__init__(regions=regions, reference=reference, device=device)
        self.data_range = _check_options(data_range, pooling)
        self.pooling = pooling

    def settings(self) -> tuple:
        return (*super().settings(), self.data_range, self.pooling)

    def frame_sums(self, chunk: ScoreChunk, output: np.ndarray, reference: np.ndarray):
        """Per frame, region -> ``(sum of squared errors, values)``, all regions from one pass."""
        return frame_records(output, reference, chunk_cells(chunk), self.regions, REGION_CELLS)

    def reduce(self, region: str) -> MetricValue:
        return reduce_psnr(self.sums, region, data_range=self.data_range, pooling=self.pooling)


__all__ = ["PsnrAccumulator", "psnr"]
