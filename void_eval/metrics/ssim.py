"""SSIM per quadmask region: the per-pixel SSIM map averaged over region pixels (Wang et al. 2004).

Definition (``docs/metrics.md``), per frame and RGB channel (channel-wise, as ``channel_axis=-1`` in
scikit-image), for uint8 frames X (output) and Y (reference) with ``data_range`` L = 255, ``C1 = (0.01 L)^2``,
``C2 = (0.03 L)^2``:

- window w: ``gaussian`` (default) = the 11x11 separable Gaussian with sigma 1.5 (radius ``int(3.5 sigma + 0.5)``,
  weights normalised to 1, exactly scipy's ``gaussian_filter(..., truncate=3.5)``), or ``uniform`` = a
  ``win_size`` x ``win_size`` box;
- ``mu_x = w * X``, ``sigma_x^2 = k (w * X^2 - mu_x^2)``, ``sigma_xy = k (w * XY - mu_x mu_y)`` with ``k = 1``
  (population covariance, the Gaussian default) or ``k = N / (N - 1)``, ``N = win_size^2`` (sample covariance, the
  uniform default in scikit-image);
- ``S = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))``.

**Borders**: as scikit-image does before averaging, the map is only computed where the whole window lies inside
the frame: pixels closer than ``pad = (win_size - 1) // 2`` (5 for the default) to an edge are dropped. The map
is averaged over the 3 channels; a region's value is its mean over the region's pixels *inside the interior*,
pooled over all frames. ``frame`` = the whole interior, so for one frame it equals ``structural_similarity(X, Y,
data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)``. A region whose
pixels all lie in the border band (or nowhere) is NaN with a reason.

Precision: ``precision="float32"`` (default) filters in float32 after subtracting a per-frame, per-channel integer
offset (the rounded mean of both frames) from X and Y, which leaves S unchanged and keeps the ``w * X^2 - mu_x^2``
cancellation small: within 3e-7 of scikit-image's float64 on real footage. ``precision="float64"`` agrees to
~1e-12.

Where it runs: on the CPU each frame goes through OpenCV's separable filters in row bands of about 2^17 map
pixels plus a halo of ``pad`` rows (a few MB at any frame size, in cache; the maps are bit-identical to a
whole-frame pass); on CUDA (:func:`torch_ssim_maps`) a whole chunk is filtered at once by depthwise convolutions
on the device, from the frames uploaded once per chunk to the region sums. Both give every region from one pass
over each map (:func:`~void_eval.metrics.regions.cell_sums`).

Notes
-----
To match a paper: the usual "SSIM" (Wang et al.; scikit-image with ``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False``) is the default, whole frame, averaged over frames. The FuseFormer / E2FGVI /
ProPainter protocol instead uses ``structural_similarity(..., win_size=65)`` (uniform 65x65 window, sample
covariance): ``window="uniform", win_size=65, sample_covariance=True`` (see :mod:`void_eval.metrics.propainter`).

References
----------
Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error visibility to
structural similarity", IEEE TIP 13(4), 2004.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> reference = rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
>>> round(ssim(reference, reference), 6)
1.0
>>> from skimage.metrics import structural_similarity
>>> noisy = np.clip(reference + rng.normal(0, 20, reference.shape), 0, 255).astype(np.uint8)
>>> ours = ssim(noisy[0], reference[0])
>>> theirs = structural_similarity(noisy[0], reference[0], data_range=255, channel_axis=-1,
...                                gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
>>> bool(abs(ours - theirs) < 1e-6)
True
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    CELLS,
    REGION_CELLS,
    RegionAccumulator,
    cell_sums,
    check_device,
    check_mask,
    check_pair,
    chunk_cells,
    mask_cells,
    region_totals,
)
from void_eval.metrics.spec import ROW_REGIONS

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


def _frame_bands(output: np.ndarray, reference: np.ndarray, window: SsimWindow, **options) -> Iterator[tuple]:
    """Yield ``(top, map rows)`` of one ``(H, W, 3)`` pair, band by band."""
    means = np.add(cv2.mean(output), cv2.mean(reference))[:3]
    offsets = [float(np.rint(mean / 2)) for mean in means]  # per channel, the rounded mean of both frames
    for top, bottom in _band_ranges(*output.shape[:2], window):
        yield top, _band_map(output, reference, top, bottom, offsets, window, **options)


def _cpu_records(output, reference, labels, regions, groups, window, **options) -> Iterator[dict]:
    """Per frame, region -> ``(sum of the map over its interior pixels, count)``."""
    pad, cells = window.pad, max(max(group) for group in groups.values()) + 1
    for frame_output, frame_reference, frame_labels in zip(output, reference, labels, strict=True):
        sums, counts = np.zeros(cells), np.zeros(cells)
        for top, band in _frame_bands(frame_output, frame_reference, window, **options):
            inside = frame_labels[top + pad : top + pad + len(band), pad : frame_labels.shape[1] - pad]
            sums += cell_sums(band, inside, cells)
            counts += np.bincount(inside.ravel(), minlength=cells)
        yield _records(sums, counts, regions, groups)


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


def _torch_records(output, reference, labels, regions, groups, window, device, **options) -> list[dict]:
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


# -- public functions and the accumulator ---------------------------------------------------------------------
def _check_options(data_range: float, precision: str) -> float:
    if not isinstance(data_range, int | float) or not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range!r}")
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
    return float(data_range)


def ssim_map(
    output: np.ndarray,
    reference: np.ndarray,
    *,
    window: Window = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    sample_covariance: bool | None = None,
    data_range: float = 255.0,
    precision: Precision = "float32",
    device: str = "cpu",
) -> np.ndarray:
    """Per-pixel SSIM maps ``(T, H - 2 pad, W - 2 pad)``, averaged over the RGB channels (see module docstring).

    Parameters are those of :func:`ssim` (without ``mask``); pixel ``[t, i, j]`` of the map is frame pixel
    ``(i + pad, j + pad)``.
    """
    options = {"data_range": _check_options(data_range, precision), "precision": precision}
    spec = SsimWindow.build(window, win_size=win_size, sigma=sigma, sample_covariance=sample_covariance)
    output, reference = check_pair(output, reference)
    if check_device(device) != "cpu":
        import torch

        from void_eval.metrics._precision import ieee_float32

        with ieee_float32(device):
            tensors = (torch.from_numpy(np.ascontiguousarray(frames)).to(device) for frames in (output, reference))
            return torch_ssim_maps(*tensors, spec, **options).cpu().numpy()
    pairs = zip(output, reference, strict=True)
    return np.stack([np.concatenate([band for _, band in _frame_bands(a, b, spec, **options)]) for a, b in pairs])


def ssim(
    output: np.ndarray,
    reference: np.ndarray,
    *,
    mask: np.ndarray | None = None,
    window: Window = "gaussian",
    sigma: float = 1.5,
    win_size: int | None = None,
    sample_covariance: bool | None = None,
    data_range: float = 255.0,
    precision: Precision = "float32",
    device: str = "cpu",
) -> float:
    """Mean SSIM of ``output`` against ``reference`` over the region ``mask``, pooled over frames.

    Parameters
    ----------
    output, reference : np.ndarray
        ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB.
    mask : np.ndarray, optional, keyword-only
        Boolean ``(T, H, W)`` or ``(H, W)`` region; ``None`` = every pixel the window can evaluate.
    window : {"gaussian", "uniform"}, keyword-only
        Window kind (default Gaussian, Wang et al.).
    sigma : float, keyword-only
        Gaussian sigma (window side ``2 int(3.5 sigma + 0.5) + 1``).
    win_size : int, optional, keyword-only
        Uniform window side (default 7); for ``gaussian`` it must be unset or match sigma.
    sample_covariance : bool, optional, keyword-only
        Default: False for ``gaussian``, True for ``uniform`` (scikit-image's defaults).
    data_range : float, keyword-only
        L in ``C1 = (0.01 L)^2, C2 = (0.03 L)^2``; 255 for uint8.
    precision : {"float32", "float64"}, keyword-only
        Filtering precision (see the module docstring).
    device : {"cpu", "cuda"}, keyword-only
        Where filtering and the SSIM formula run.

    Returns
    -------
    float
        SSIM in [-1, 1]; NaN when the region has no pixel inside the evaluable interior.
    """
    accumulator = SsimAccumulator(
        regions=("frame",),
        reference="input",
        window=window,
        sigma=sigma,
        win_size=win_size,
        sample_covariance=sample_covariance,
        data_range=data_range,
        precision=precision,
        device=device,
    )
    output, reference = check_pair(output, reference)
    labels = mask_cells(check_mask(mask, output.shape), output.shape)
    for sums in accumulator.records(output, reference, labels, {"frame": (1,)}):
        accumulator.sums.add("frame", *sums["frame"])
    return accumulator.reduce("frame").value


class SsimAccumulator(RegionAccumulator):
    """Streaming SSIM per region (definition, borders and precision in the module docstring).

    Parameters
    ----------
    regions : sequence of str, keyword-only
        Row regions to report (``frame``, ``remove``, ``affected``, ``keep``, ``boundary``).
    reference : {"counterfactual", "input"}, keyword-only
        Which :class:`ScoreChunk` stream is the reference.
    window, sigma, win_size, sample_covariance, data_range, precision, device
        As in :func:`ssim`.

    Examples
    --------
    >>> import numpy as np
    >>> from void_eval.quadmask import Quadmask
    >>> frames = np.random.default_rng(1).integers(0, 256, (3, 24, 24, 3), dtype=np.uint8)
    >>> mask = Quadmask(np.full((3, 24, 24), 255, np.uint8))
    >>> accumulator = SsimAccumulator(regions=("frame", "keep", "remove"), reference="input")
    >>> accumulator.update(ScoreChunk(start=0, output=frames, input=frames, mask=mask))
    >>> result = accumulator.compute()
    >>> round(result["keep"].value, 6), result["keep"].count, result["remove"].value
    (1.0, 3, nan)
    """

    name = "ssim"

    def __init__(
        self,
        *,
        regions: Sequence[str] = ROW_REGIONS,
        reference: str = "counterfactual",
        window: Window = "gaussian",
        sigma: float = 1.5,
        win_size: int | None = None,
        sample_covariance: bool | None = None,
        data_range: float = 255.0,
        precision: Precision = "float32",
        device: str = "cpu",
    ) -> None:
        super().__init__(regions=regions, reference=reference, device=device)
        self.data_range = _check_options(data_range, precision)
        self.window = SsimWindow.build(window, win_size=win_size, sigma=sigma, sample_covariance=sample_covariance)
        self.precision = precision

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> Any:
        """This accumulator, or the ProPainter protocol's SSIM under ``preset="propainter"``."""
        from void_eval.metrics.propainter import under_preset

        return under_preset(cls, preset, device=device, **options)

    def settings(self) -> tuple:
        return (*super().settings(), self.data_range, self.window, self.precision)

    def records(self, output, reference, labels, groups: Mapping[str, tuple[int, ...]]) -> Iterator[dict]:
        """Per frame, region -> ``(sum of the map over its interior pixels, count)``, on this device.

        ``output`` and ``reference`` are uint8 frames: numpy arrays on the CPU, torch tensors on CUDA.
        """
        regions = tuple(groups)
        options = {"data_range": self.data_range, "precision": self.precision}
        if self.device == "cpu":
            return _cpu_records(output, reference, labels, regions, groups, self.window, **options)
        if isinstance(output, np.ndarray):
            import torch

            output, reference = (torch.from_numpy(np.ascontiguousarray(f)).to(self.device) for f in (output, reference))
        return iter(_torch_records(output, reference, labels, regions, groups, self.window, self.device, **options))

    def frame_sums(self, chunk: ScoreChunk, output: np.ndarray, reference: np.ndarray):
        groups = {region: REGION_CELLS[region] for region in self.regions}
        if self.device != "cpu":  # the chunk's frames, uploaded once for every metric on this device
            output, reference = chunk.on_device("output", self.device), chunk.on_device(self.reference, self.device)
        return self.records(output, reference, chunk_cells(chunk), groups)

    def reduce(self, region: str) -> MetricValue:
        """Mean SSIM of ``region``; the note names a window other than the default."""
        empty = None
        if self.sums.counts[region]:
            border = f"the {self.window.pad}-px border SSIM cannot evaluate"
            empty = f"region {region!r} is empty in every frame once {border} is dropped"
        value = self.sums.mean(region, empty_reason=empty)
        if not math.isnan(value.value) and (self.window.kind != "gaussian" or self.window.size != 11):
            value = MetricValue(value.value, note=f"window {self.window.describe()}", count=value.count)
        return value


__all__ = ["SsimAccumulator", "SsimWindow", "ssim", "ssim_map", "torch_ssim_maps"]
