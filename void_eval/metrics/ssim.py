"""SSIM per quadmask region: the per-pixel SSIM map averaged over region pixels (Wang et al. 2004).

Definition, per frame and RGB channel (channel-wise, as ``channel_axis=-1`` in scikit-image), for uint8 frames
X (output) and Y (reference) with ``data_range`` L = 255, ``C1 = (0.01 L)^2``, ``C2 = (0.03 L)^2``:

- window w: ``gaussian`` (default) = the 11x11 separable Gaussian with sigma 1.5 (radius ``int(3.5 sigma + 0.5)``,
  weights normalised to 1, exactly scipy's ``gaussian_filter(..., truncate=3.5)``), or ``uniform`` = a
  ``win_size`` x ``win_size`` box;
- ``mu_x = w * X``, ``sigma_x^2 = k (w * X^2 - mu_x^2)``, ``sigma_xy = k (w * XY - mu_x mu_y)`` with ``k = 1``
  (population covariance, the Gaussian default) or ``k = N / (N - 1)``, ``N = win_size^2`` (sample covariance, the
  uniform default in scikit-image);
- ``S = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x^2 + sigma_y^2 + C2))``.

**Borders**: as scikit-image does before averaging, the map is only computed where the whole window lies inside
the frame, i.e. pixels closer than ``pad = (win_size - 1) // 2`` (5 for the default) to an edge are dropped. The
per-pixel map is then averaged over the 3 channels. A region's value is the mean of that map over the region's
pixels *inside the cropped interior*, pooled over all frames (each region pixel of each frame weighs the same;
region pixels within ``pad`` of the frame edge are not counted). ``frame`` = the whole interior, so for one frame it
equals ``structural_similarity(X, Y, data_range=255, channel_axis=-1, gaussian_weights=True, sigma=1.5,
use_sample_covariance=False)``. A region whose pixels all lie in the border band (or nowhere) is NaN with a reason.

Precision: ``precision="float32"`` (default) filters in float32 after subtracting a per-frame, per-channel integer
offset (the rounded mean of both frames) from X and Y, which leaves S unchanged mathematically and keeps the
``w * X^2 - mu_x^2`` cancellation small; measured within 3e-7 of scikit-image's float64 on real 720p footage.
``precision="float64"`` agrees to ~1e-12.

Memory: each frame is processed in row bands of about 2^17 map pixels plus a halo of ``pad`` rows above and below
(5 px for the Gaussian window, 32 for the uniform 65x65 one), with the frame's channel offsets, so every map pixel
sees the same window and the same arithmetic as in a whole-frame pass (tests check the maps are bit-identical;
region means summed band by band agree to ~1e-16 relative). The extra memory is a few MB at any frame size (a
whole-frame pass needed ~0.5 GB at 4K), and the region sums are taken band by band, so the full map is never held
(:func:`ssim_map` still returns it).

Notes
-----
To match a paper: the usual "SSIM" (Wang et al.; scikit-image with ``gaussian_weights=True, sigma=1.5,
use_sample_covariance=False``) is the default, whole frame, averaged over frames. The FuseFormer / E2FGVI /
ProPainter protocol instead uses ``structural_similarity(..., win_size=65)`` (uniform 65x65 window, sample
covariance) which gives higher values: ``window="uniform", win_size=65, sample_covariance=True`` (see
:mod:`void_eval.metrics.propainter`). MATLAB's ``ssim`` rounds differently and works on grey; values differ.

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
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import cv2
import numpy as np

from void_eval.metrics.base import MetricInfo, MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    FIDELITY_REGIONS,
    RegionSums,
    check_device,
    check_mask,
    check_pair,
    check_reference,
    check_regions,
    reference_frames,
    region_masks,
)

if TYPE_CHECKING:
    import torch

Window = Literal["gaussian", "uniform"]
Precision = Literal["float32", "float64"]
_K1, _K2 = 0.01, 0.03
_TRUNCATE = 3.5  # scikit-image's truncate for gaussian_weights


@dataclass(frozen=True)
class SsimWindow:
    """The SSIM window: kind, side, Gaussian sigma and covariance normalisation.

    Attributes
    ----------
    kind : {"gaussian", "uniform"}
    size : int
        Odd side length in pixels.
    sigma : float
        Gaussian standard deviation (unused for ``uniform``).
    sample_covariance : bool
        Scale variances by ``N / (N - 1)``, ``N = size^2``.
    """

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


def _filter_valid_cpu(planes: np.ndarray, kernel: np.ndarray, pad: int) -> np.ndarray:
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
    filtered = filtered.reshape(count, height, width)
    return filtered[:, pad : height - pad, pad : width - pad]


def _filter_valid_torch(planes: torch.Tensor, kernel: np.ndarray) -> torch.Tensor:
    """Same as :func:`_filter_valid_cpu` with two depthwise ``conv2d`` passes (any torch device)."""
    import torch

    count = planes.shape[0]
    weights = torch.as_tensor(kernel, dtype=planes.dtype, device=planes.device)
    horizontal = weights.view(1, 1, 1, -1).expand(count, 1, 1, -1)
    vertical = weights.view(1, 1, -1, 1).expand(count, 1, -1, 1)
    out = torch.nn.functional.conv2d(planes[None], horizontal, groups=count)
    return torch.nn.functional.conv2d(out, vertical, groups=count)[0]


#: Map pixels per row band. A band's float planes, filter output and formula temporaries hold ~60 bytes per pixel
#: (~8 MB for 2^17 pixels, whatever the frame size) instead of whole-frame planes (~0.5 GB at 4K), and they stay
#: in cache: 2^16-2^18 was fastest at 720p (~30% faster than whole frames).
_BAND_PIXELS = 1 << 17


def _band_rows(window: SsimWindow, width: int) -> int:
    """Map rows per band: the pixel budget, but at least ``8 pad`` so the halo adds at most a quarter."""
    return max(1, _BAND_PIXELS // max(1, width), 8 * window.pad)


def _channel_offsets(output: np.ndarray, reference: np.ndarray) -> list[float]:
    """Per channel, ``rint((mean X + mean Y) / 2)`` over the whole frame (float64 means of integers)."""
    mean_output, mean_reference = cv2.mean(output), cv2.mean(reference)
    return [float(np.rint((mean_output[c] + mean_reference[c]) / 2)) for c in range(3)]


def _ssim_band_map(
    output: np.ndarray,
    reference: np.ndarray,
    top: int,
    bottom: int,
    offsets: list[float],
    window: SsimWindow,
    *,
    data_range: float,
    precision: Precision,
    device: str,
) -> np.ndarray:
    """Rows ``[top, bottom)`` of one frame's valid SSIM map (frame rows ``top + pad`` to ``bottom + pad - 1``).

    Reads the frame rows ``[top, bottom + 2 pad)`` (the band plus its halo); every map pixel sees exactly the window
    it sees in a whole-frame computation, so banding changes no value (bit-identical in the tests for both windows;
    the box filter's running sums start at another row, which could at most change a last bit).
    """
    dtype = np.float32 if precision == "float32" else np.float64
    kernel = window.kernel()
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    rows = slice(top, bottom + 2 * window.pad)
    output, reference = output[rows], reference[rows]
    height, width = output.shape[:2]
    total = None
    planes = np.empty((5, height, width), dtype=dtype)
    for channel in range(3):  # one channel at a time keeps the band's planes small
        x, y = planes[0], planes[1]
        x[...] = output[..., channel]
        y[...] = reference[..., channel]
        # integer offset (the frame's, not the band's): leaves S unchanged, shrinks the second moments (less float
        # cancellation); integers up to 255^2 are exact in float32, so the planes below hold exact values
        offset = offsets[channel]
        x -= offset
        y -= offset
        np.multiply(x, x, out=planes[2])
        np.multiply(y, y, out=planes[3])
        np.multiply(x, y, out=planes[4])
        if device == "cpu":  # numpy: no intra-op thread barriers for the elementwise formula
            moments = _filter_valid_cpu(planes, kernel, window.pad)
        else:
            import torch  # only for CUDA: importing torch costs ~180 MB of memory

            from void_eval.metrics._precision import ieee_float32

            with ieee_float32(device):
                moments = _filter_valid_torch(torch.from_numpy(planes).to(device), kernel)
        ssim_channel = _ssim_formula(moments, offset, scale=window.covariance_scale, c1=c1, c2=c2)
        if total is None:
            total = ssim_channel
        else:
            total += ssim_channel
    total /= 3
    return total if isinstance(total, np.ndarray) else total.cpu().numpy()


def _frame_band_ranges(height: int, width: int, window: SsimWindow) -> list[tuple[int, int]]:
    """Rows ``[top, bottom)`` of the valid SSIM map that each band of an ``H x W`` frame computes."""
    if height < window.size or width < window.size:
        raise ValueError(f"frames of {height}x{width} px are smaller than the {window.describe()} SSIM window")
    map_height = height - 2 * window.pad
    step = _band_rows(window, width)
    return [(top, min(map_height, top + step)) for top in range(0, map_height, step)]


def _frame_bands(
    output: np.ndarray,
    reference: np.ndarray,
    window: SsimWindow,
    *,
    data_range: float,
    precision: Precision,
    device: str,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(top, map_rows)`` over one ``(H, W, 3)`` uint8 pair: the valid SSIM map, band by band."""
    ranges = _frame_band_ranges(*output.shape[:2], window)
    offsets = _channel_offsets(output, reference)
    for top, bottom in ranges:
        yield (
            top,
            _ssim_band_map(
                output,
                reference,
                top,
                bottom,
                offsets,
                window,
                data_range=data_range,
                precision=precision,
                device=device,
            ),
        )


def _ssim_frame_map(
    output: np.ndarray,
    reference: np.ndarray,
    window: SsimWindow,
    *,
    data_range: float,
    precision: Precision,
    device: str,
) -> np.ndarray:
    """Per-pixel SSIM of one ``(H, W, 3)`` uint8 pair, averaged over channels: ``(H-2pad, W-2pad)`` array."""
    options = {"data_range": data_range, "precision": precision, "device": device}
    return np.concatenate([band for _, band in _frame_bands(output, reference, window, **options)])


def _ssim_frame_sums(
    output: np.ndarray,
    reference: np.ndarray,
    window: SsimWindow,
    masks: dict[str, np.ndarray | None],
    *,
    data_range: float,
    precision: Precision,
    device: str,
) -> dict[str, tuple[float, int]]:
    """Per region of one frame pair, ``(sum, count)`` of the SSIM map over the region's interior pixels.

    The map is never held whole: each band's sums are added (float64) as the band is computed.
    """
    options = {"data_range": data_range, "precision": precision, "device": device}
    bands = _frame_bands(output, reference, window, **options)
    return _add_band_sums([_band_sums(band, top, masks, window.pad) for top, band in bands], masks)


def _band_sums(
    band: np.ndarray, top: int, masks: dict[str, np.ndarray | None], pad: int
) -> dict[str, tuple[float, int]]:
    """Per region, ``(sum, count)`` of the map rows ``[top, top + len(band))`` over the region's interior pixels."""
    sums = {}
    for name, mask in masks.items():
        inside = None if mask is None else mask[top + pad : top + pad + len(band), pad : mask.shape[1] - pad]
        sums[name] = _map_sums(band, inside)
    return sums


def _add_band_sums(
    per_band: list[dict[str, tuple[float, int]]], masks: dict[str, np.ndarray | None]
) -> dict[str, tuple[float, int]]:
    """One frame's region sums from its bands' sums, added in band order (float64)."""
    totals = {name: [0.0, 0] for name in masks}
    for sums in per_band:
        for name, (total, count) in sums.items():
            totals[name][0] += total
            totals[name][1] += count
    return {name: (total, count) for name, (total, count) in totals.items()}


def _ssim_formula(moments, offset: float, *, scale: float, c1: float, c2: float):
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


def _check_options(data_range: float, precision: str) -> float:
    if not isinstance(data_range, int | float) or not math.isfinite(data_range) or data_range <= 0:
        raise ValueError(f"data_range must be a positive finite number, got {data_range!r}")
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
    return float(data_range)


def _map_sums(ssim_map: np.ndarray, inside: np.ndarray | None) -> tuple[float, int]:
    """Sum (float64) and count of a map over the pixels where ``inside`` (same shape) is True; all when None."""
    if inside is None:
        return float(ssim_map.sum(dtype=np.float64)), ssim_map.size
    count = int(np.count_nonzero(inside))
    return (float(np.sum(ssim_map, where=inside, dtype=np.float64)) if count else 0.0), count


def _empty_reason(sums: RegionSums, region: str, pad: int) -> str:
    if not sums.counts[region]:
        return "no frames were scored"
    return f"region {region!r} is empty in every frame once the {pad}-px border SSIM cannot evaluate is dropped"


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
    data_range = _check_options(data_range, precision)
    spec = SsimWindow.build(window, win_size=win_size, sigma=sigma, sample_covariance=sample_covariance)
    output, reference = check_pair(output, reference)
    device = check_device(device)
    return np.stack(
        [
            _ssim_frame_map(a, b, spec, data_range=data_range, precision=precision, device=device)
            for a, b in zip(output, reference, strict=True)
        ]
    )


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
    data_range = _check_options(data_range, precision)
    spec = SsimWindow.build(window, win_size=win_size, sigma=sigma, sample_covariance=sample_covariance)
    output, reference = check_pair(output, reference)
    mask = check_mask(mask, output.shape)
    device = check_device(device)
    sums = RegionSums(("mask",))
    for index, (a, b) in enumerate(zip(output, reference, strict=True)):
        masks = {"mask": None if mask is None else mask[index]}
        frame_sums = _ssim_frame_sums(a, b, spec, masks, data_range=data_range, precision=precision, device=device)
        sums.add("mask", *frame_sums["mask"])
    return sums.mean("mask").value


class SsimAccumulator:
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

    def __init__(
        self,
        *,
        regions: Sequence[str] = FIDELITY_REGIONS,
        reference: str = "counterfactual",
        window: Window = "gaussian",
        sigma: float = 1.5,
        win_size: int | None = None,
        sample_covariance: bool | None = None,
        data_range: float = 255.0,
        precision: Precision = "float32",
        device: str = "cpu",
    ) -> None:
        self.regions = check_regions(regions)
        self.reference = check_reference(reference)
        self.data_range = _check_options(data_range, precision)
        self.window = SsimWindow.build(window, win_size=win_size, sigma=sigma, sample_covariance=sample_covariance)
        self.precision = precision
        self.device = check_device(device)
        self.info = MetricInfo(
            name="ssim",
            higher_is_better=True,
            needs_ground_truth=reference == "counterfactual",
            value_range=(-1.0, 1.0),
            regions=self.regions,
            reference=self.reference,
        )
        self._sums = RegionSums(self.regions)

    def update(self, chunk: ScoreChunk) -> None:
        """Add each frame's SSIM-map sums over every region.

        On the CPU the bands of the chunk's frames are computed on ``cv2.getNumThreads()`` threads (OpenCV's
        filters and numpy release the GIL; bands, not frames, so a one-frame 4K chunk is split too); their sums
        are added in frame and band order, exactly as one thread adds them, so the result does not depend on it.
        """
        output, reference = check_pair(chunk.output, reference_frames(chunk, self.reference, "ssim"))
        masks = region_masks(chunk.mask, self.regions)
        frame_masks = [
            {name: None if mask is None else mask[index] for name, mask in masks.items()}
            for index in range(len(output))
        ]
        options = {"data_range": self.data_range, "precision": self.precision, "device": self.device}
        ranges = _frame_band_ranges(*output.shape[1:3], self.window) if len(output) else []
        offsets = [_channel_offsets(output[index], reference[index]) for index in range(len(output))]

        def band_sums(task: tuple[int, int, int]) -> dict[str, tuple[float, int]]:
            index, top, bottom = task
            band = _ssim_band_map(output[index], reference[index], top, bottom, offsets[index], self.window, **options)
            return _band_sums(band, top, frame_masks[index], self.window.pad)

        tasks = [(index, top, bottom) for index in range(len(output)) for top, bottom in ranges]
        workers = min(len(tasks), cv2.getNumThreads()) if self.device == "cpu" else 1
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ssim") as pool:
                per_band = list(pool.map(band_sums, tasks))
        else:
            per_band = [band_sums(task) for task in tasks]
        per_frame = [
            _add_band_sums(per_band[index * len(ranges) : (index + 1) * len(ranges)], frame_masks[index])
            for index in range(len(output))
        ]
        for sums in per_frame:
            for name, (total, count) in sums.items():
                self._sums.add(name, total, count)

    def merge(self, other: SsimAccumulator) -> None:
        """Add another accumulator's per-frame sums (same settings)."""
        if not isinstance(other, SsimAccumulator):
            raise TypeError(f"cannot merge {type(other).__name__} into SsimAccumulator")
        settings = (self.regions, self.reference, self.data_range, self.window, self.precision)
        if (other.regions, other.reference, other.data_range, other.window, other.precision) != settings:
            raise ValueError("cannot merge SSIM accumulators with different settings")
        self._sums.merge(other._sums)

    def compute(self) -> dict[str, MetricValue]:
        """Region -> mean SSIM (NaN with a reason for a region with no evaluable pixel)."""
        results = {}
        for name in self.regions:
            value = self._sums.mean(name, empty_reason=_empty_reason(self._sums, name, self.window.pad))
            if not math.isnan(value.value) and (self.window.kind != "gaussian" or self.window.size != 11):
                value = MetricValue(value.value, note=f"window {self.window.describe()}", count=value.count)
            results[name] = value
        return results


__all__ = ["SsimAccumulator", "SsimWindow", "ssim", "ssim_map"]
