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

Where it runs: on the CPU in cache-sized row bands through OpenCV, on CUDA a whole chunk at once through torch; see
:mod:`void_eval.metrics.ssim_maps`. Both take every region from one pass over each map.

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

import numpy as np

from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.metrics.regions import (
    REGION_CELLS,
    RegionAccumulator,
    check_device,
    check_mask,
    check_pair,
    chunk_cells,
    mask_cells,
)
from void_eval.metrics.spec import ROW_REGIONS
from void_eval.metrics.ssim_maps import (
    Precision,
    SsimWindow,
    Window,
    cpu_records,
    frame_bands,
    torch_records,
    torch_ssim_maps,
)


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
    return np.stack([np.concatenate([band for _, band in frame_bands(a, b, spec, **options)]) for a, b in pairs])


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

    def settings(self) -> tuple:
        return (*super().settings(), self.data_range, self.window, self.precision)

    def records(self, output, reference, labels, groups: Mapping[str, tuple[int, ...]]) -> Iterator[dict]:
        """Per frame, region -> ``(sum of the map over its interior pixels, count)``, on this device.

        ``output`` and ``reference`` are uint8 frames: numpy arrays on the CPU, torch tensors on CUDA.
        """
        regions = tuple(groups)
        options = {"data_range": self.data_range, "precision": self.precision}
        if self.device == "cpu":
            return cpu_records(output, reference, labels, regions, groups, self.window, **options)
        if isinstance(output, np.ndarray):
            import torch

            output, reference = (torch.from_numpy(np.ascontiguousarray(f)).to(self.device) for f in (output, reference))
        return iter(torch_records(output, reference, labels, regions, groups, self.window, self.device, **options))

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
