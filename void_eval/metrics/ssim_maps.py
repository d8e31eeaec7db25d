"""SSIM maps: the window, the formula, and the two ways of computing them (definition: :mod:`void_eval.metrics.ssim`).

- CPU: each frame through OpenCV's separable filters in row bands of about 2^17 map pixels plus a halo of ``pad``
  rows (a few MB at any frame size, in cache; the maps are bit-identical to a whole-frame pass), one channel at a
  time, with the frame's per-channel offsets; every region's sum from one ``bincount`` of each band over the cells;
  the bands on ``cv2.getNumThreads()`` threads, their sums added in order.
- CUDA, or any torch device (:func:`torch_ssim_maps`): a whole chunk's 15 planes filtered at once by two depthwise
  convolutions on the device, from the frames uploaded once per chunk to the cell sums; one copy of the sums back.

Examples
--------
>>> window = SsimWindow.build("gaussian", win_size=None, sigma=1.5, sample_covariance=None)
>>> window.size, window.pad, window.describe()
(11, 5, 'gaussian 11x11 sigma 1.5')
>>> round(float(window.kernel().sum()), 12)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from void_eval.metrics.regions import CELLS, cell_count, cell_sums, region_totals

if TYPE_CHECKING:
    import torch

Window = Literal["gaussian", "uniform"]
Precision = Literal["float32", "float64"]
_K1, _K2 = 0.01, 0.03
_TRUNCATE = 3.5  # scikit-image's truncate for gaussian_weights
#: Map pixels per row band on the CPU: a band's planes and temporaries (~60 bytes a pixel) stay in cache.
_BAND_PIXELS = 1 << 17


@dataclass(frozen=True)
class SsimWindow:
    """The SSIM window: kind, odd side, Gaussian sigma and covariance normalisation (see the module docstring)."""

    kind: Window
    size: int
    sigma: float
    sample_covariance: bool

    @classmethod
    def build(cls, window: str, *, win_size: int | None, sigma: float, sample_covariance: bool | None) -> SsimWindow:
        """Validate options; defaults follow scikit-image (Gaussian: size from sigma; uniform: 7)."""
        if window == "gaussian":
            if not (isinstance(sigma, int | float) and math.isfinite(sigma) and sigma > 0):
                raise ValueError(f"sigma must be a positive number, got {sigma!r}")
            size = 2 * int(_TRUNCATE * sigma + 0.5) + 1
            if win_size is not None and win_size != size:
                raise ValueError(
                    f"win_size {win_size} disagrees with sigma {sigma}: a Gaussian window is {size} px wide "
                    f"(radius int(3.5 sigma + 0.5)); leave win_size unset"
                )
            return cls("gaussian", size, float(sigma), bool(sample_covariance))
        if window == "uniform":
            size = 7 if win_size is None else win_size
            if not isinstance(size, int) or size < 3 or size % 2 == 0:
                raise ValueError(f"win_size must be an odd integer >= 3, got {size!r}")
            return cls("uniform", size, float(sigma), True if sample_covariance is None else bool(sample_covariance))
        raise ValueError(f"window must be 'gaussian' or 'uniform', got {window!r}")

    @property
    def pad(self) -> int:
        """Border width dropped on each side."""
        return (self.size - 1) // 2

    @property
    def covariance_scale(self) -> float:
        area = self.size * self.size
        return area / (area - 1) if self.sample_covariance else 1.0

    def kernel(self) -> np.ndarray:
        """1-D float64 weights (the 2-D window is their outer product)."""
        if self.kind == "uniform":
            return np.full(self.size, 1.0 / self.size)
        offsets = np.arange(-self.pad, self.pad + 1, dtype=np.float64)
        weights = np.exp(-0.5 / (self.sigma * self.sigma) * offsets * offsets)
        return weights / weights.sum()

    def describe(self) -> str:
        if self.kind == "gaussian":
            return f"gaussian {self.size}x{self.size} sigma {self.sigma:g}"
        return f"uniform {self.size}x{self.size}" + (", sample covariance" if self.sample_covariance else "")

    def check_fits(self, height: int, width: int) -> None:
        if height < self.size or width < self.size:
            raise ValueError(f"frames of {height}x{width} px are smaller than the {self.describe()} SSIM window")


def _ssim_formula(moments, offset, *, scale: float, c1: float, c2: float):
    """SSIM map from filtered ``(mu_x, mu_y, E[x^2], E[y^2], E[xy])`` of offset data (numpy or torch, in place)."""
    mu_x, mu_y, xx, yy, xy = moments
    xx -= mu_x * mu_x
    yy -= mu_y * mu_y
    xx += yy
    xx *= scale
    xx += c2  # var_x + var_y + C2
    xy -= mu_x * mu_y
    xy *= 2 * scale
    xy += c2  # 2 cov_xy + C2
    mu_x += offset
    mu_y += offset
    numerator = mu_x * mu_y
    numerator *= 2
    numerator += c1
    numerator *= xy
    mu_x *= mu_x
    mu_y *= mu_y
    mu_x += mu_y
    mu_x += c1
    mu_x *= xx
    numerator /= mu_x
    return numerator


def _constants(data_range: float) -> dict[str, float]:
    return {"c1": (_K1 * data_range) ** 2, "c2": (_K2 * data_range) ** 2}


# -- CPU: OpenCV filters, row bands ---------------------------------------------------------------------------
def _filter_valid(planes: np.ndarray, kernel: np.ndarray, pad: int) -> np.ndarray:
    """Separable filtering of ``(P, H, W)`` planes, kept only where the window fits: ``(P, H-2pad, W-2pad)``.

    All planes go through OpenCV as one tall image; rows mixing two planes lie within ``pad`` of a plane edge
    and are exactly the rows cropped away.
    """
    count, height, width = planes.shape
    tall = planes.reshape(count * height, width)
    if np.all(kernel == kernel[0]):  # uniform window: running sums, O(1) per pixel
        size = len(kernel)
        filtered = cv2.boxFilter(tall, -1, (size, size), normalize=True, borderType=cv2.BORDER_REFLECT)
    else:
        kernel = kernel.astype(planes.dtype)
        filtered = cv2.sepFilter2D(tall, -1, kernel, kernel, borderType=cv2.BORDER_REFLECT)
    return filtered.reshape(count, height, width)[:, pad : height - pad, pad : width - pad]


def _band_ranges(height: int, width: int, window: SsimWindow) -> list[tuple[int, int]]:
    """Rows ``[top, bottom)`` of the valid map computed by each band (at least ``8 pad`` rows a band)."""
    window.check_fits(height, width)
    step = max(1, _BAND_PIXELS // max(1, width), 8 * window.pad)
    map_height = height - 2 * window.pad
    return [(top, min(map_height, top + step)) for top in range(0, map_height, step)]


def _band_map(output, reference, top, bottom, offsets, window, *, data_range, precision) -> np.ndarray:
    """Rows ``[top, bottom)`` of one frame's valid SSIM map, from frame rows ``[top, bottom + 2 pad)``."""
    rows = slice(top, bottom + 2 * window.pad)
    output, reference = output[rows], reference[rows]
    planes = np.empty((5, *output.shape[:2]), dtype=np.float32 if precision == "float32" else np.float64)
    total = None
    for channel in range(3):  # one channel at a time keeps the band's planes small
        x, y = planes[0], planes[1]
        x[...] = output[..., channel]
        y[...] = reference[..., channel]
        x -= offsets[channel]  # integers up to 255^2 stay exact in float32 below
        y -= offsets[channel]
        np.multiply(x, x, out=planes[2])
        np.multiply(y, y, out=planes[3])
        np.multiply(x, y, out=planes[4])
        moments = _filter_valid(planes, window.kernel(), window.pad)
        channel_map = _ssim_formula(moments, offsets[channel], scale=window.covariance_scale, **_constants(data_range))
        total = channel_map if total is None else np.add(total, channel_map, out=total)
    return total / 3


def _offsets(output: np.ndarray, reference: np.ndarray) -> list[float]:
    """Per channel, the rounded mean of both frames (subtracted before the products, so float32 stays exact)."""
    means = np.add(cv2.mean(output), cv2.mean(reference))[:3]
    return [float(np.rint(mean / 2)) for mean in means]


def frame_bands(output: np.ndarray, reference: np.ndarray, window: SsimWindow, **options) -> Iterator[tuple]:
    """Yield ``(top, map rows)`` of one ``(H, W, 3)`` pair, band by band."""
    offsets = _offsets(output, reference)
    for top, bottom in _band_ranges(*output.shape[:2], window):
        yield top, _band_map(output, reference, top, bottom, offsets, window, **options)


def cpu_records(output, reference, labels, regions, groups, window, **options) -> Iterator[dict]:
    """Per frame, region -> ``(sum of the map over its interior pixels, count)``.

    The bands of all the chunk's frames are computed on ``cv2.getNumThreads()`` threads (OpenCV and numpy release
    the GIL); each band's cell sums are added in frame and band order, as one thread adds them, so the result does
    not depend on the number of threads.
    """
    pad, cells = window.pad, cell_count(groups)
    offsets = [_offsets(a, b) for a, b in zip(output, reference, strict=True)]
    tasks = [(index, *rows) for index in range(len(output)) for rows in _band_ranges(*output.shape[1:3], window)]

    def band_sums(task: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        index, top, bottom = task
        band = _band_map(output[index], reference[index], top, bottom, offsets[index], window, **options)
        inside = labels[index][top + pad : top + pad + len(band), pad : labels[index].shape[1] - pad]
        return cell_sums(band, inside, cells), np.bincount(inside.ravel(), minlength=cells)

    workers = min(len(tasks), cv2.getNumThreads())
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ssim") as pool:
            per_band = list(pool.map(band_sums, tasks))
    else:
        per_band = [band_sums(task) for task in tasks]
    sums, counts = np.zeros((len(output), cells)), np.zeros((len(output), cells))
    for (index, _, _), (band_sum, band_count) in zip(tasks, per_band, strict=True):
        sums[index] += band_sum
        counts[index] += band_count
    for index in range(len(output)):
        yield _records(sums[index], counts[index], regions, groups)


def _records(sums, counts, regions, groups) -> dict[str, tuple[float, int]]:
    totals, pixels = region_totals(sums, regions, groups), region_totals(counts, regions, groups)
    return {region: (totals[region], int(pixels[region])) for region in regions}


# -- CUDA (any torch device): a chunk at once -----------------------------------------------------------------
def torch_ssim_maps(
    output: torch.Tensor, reference: torch.Tensor, window: SsimWindow, *, data_range: float, precision: Precision
) -> torch.Tensor:
    """Valid SSIM maps ``(T, H - 2 pad, W - 2 pad)`` of ``(T, H, W, 3)`` uint8 tensors, on their device.

    The same arithmetic as the CPU path (offsets, float32 or float64, the formula), with the whole chunk's 15
    planes filtered by two depthwise convolutions.
    """
    import torch
    from torch.nn import functional

    window.check_fits(*output.shape[1:3])
    dtype = torch.float32 if precision == "float32" else torch.float64
    x, y = (frames.permute(0, 3, 1, 2).to(dtype) for frames in (output, reference))
    offset = ((x.double().mean(dim=(2, 3)) + y.double().mean(dim=(2, 3))) / 2).round().to(dtype)[..., None, None]
    x, y = x - offset, y - offset
    planes = torch.cat([x, y, x * x, y * y, x * y], dim=1)
    del x, y
    kernel = torch.as_tensor(window.kernel(), dtype=dtype, device=planes.device)
    count = planes.shape[1]
    planes = functional.conv2d(planes, kernel.view(1, 1, 1, -1).expand(count, 1, 1, -1), groups=count)
    planes = functional.conv2d(planes, kernel.view(1, 1, -1, 1).expand(count, 1, -1, 1), groups=count)
    moments = planes.split(3, dim=1)
    maps = _ssim_formula(moments, offset, scale=window.covariance_scale, **_constants(data_range))
    return maps.mean(dim=1)


def torch_records(output, reference, labels, regions, groups, window, device, **options) -> list[dict]:
    """Per frame, region -> ``(sum, count)``: maps and cell sums on ``device``, one copy of the sums back."""
    import torch

    from void_eval.metrics._precision import ieee_float32

    with ieee_float32(device):
        maps = torch_ssim_maps(output, reference, window, **options)
    pad = window.pad
    inside = labels[:, pad : labels.shape[1] - pad, pad : labels.shape[2] - pad]
    cells = torch.from_numpy(np.ascontiguousarray(inside)).to(device)
    sums = torch.stack(
        [
            torch.stack(
                [torch.where(frame_cells == index, frame, 0).sum(dtype=torch.float64) for index in range(CELLS)]
            )
            for frame, frame_cells in zip(maps, cells, strict=True)
        ]
    )
    return [
        _records(frame_sums, np.bincount(frame_labels.ravel(), minlength=CELLS), regions, groups)
        for frame_sums, frame_labels in zip(sums.cpu().numpy(), inside, strict=True)
    ]


__all__ = ["SsimWindow", "cpu_records", "frame_bands", "torch_records", "torch_ssim_maps"]
