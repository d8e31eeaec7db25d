"""Regions of result rows, and the accumulator base of the full-reference metrics (PSNR, SSIM, LPIPS).

Row regions (``docs/metrics.md``): ``frame`` every pixel; ``remove`` quadmask 0 and 63 (``remove_any``);
``affected`` 63 and 127 (``affected_any``); ``keep`` 255; ``boundary`` the band of ``Quadmask.boundary_width`` px
on both sides of the ``remove_any`` edge.

**Cells.** The four quadmask levels, each split by the boundary band, make 8 disjoint cells, and every row region
is a union of cells (:data:`REGION_CELLS`). One pass of :func:`cell_sums` (``np.bincount``) over a per-pixel
quantity gives its sum over every cell, and a region's sum is the sum of its cells: PSNR and SSIM get all five
regions from one pass over their per-pixel values, from cell labels computed once per chunk
(:func:`chunk_cells`).

:class:`RegionSums` keeps, per region, one ``(sum, count)`` record per frame and reduces them with
:func:`math.fsum` (correctly rounded, so independent of order): updating with any chunk split, or merging
accumulators over any partition of the frames, gives the bits of one pass over everything.

Examples
--------
>>> sums = RegionSums(("frame", "remove"))
>>> sums.add("frame", 3.0, 2)
>>> sums.add("remove", 0.0, 0)
>>> sums.mean("frame").value, sums.mean("remove").note
(1.5, "region 'remove' is empty in every frame")
>>> cells = cell_sums(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0, 1], [1, 7]], np.uint8))
>>> region_totals(cells, ("frame", "remove", "boundary"))
{'frame': 10.0, 'remove': 6.0, 'boundary': 9.0}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.metrics.spec import ROW_REGIONS
from void_eval.quadmask import QuadLevel

#: Row region -> quadmask region (``None``: every pixel).
ROW_REGION_TO_QUADMASK: dict[str, str | None] = {
    "frame": None,
    "remove": "remove_any",
    "affected": "affected_any",
    "keep": "keep",
    "boundary": "boundary",
}
CELLS = 8
#: Row region -> its cells; cell = 2 x (level index: 0, 63, 127, 255 -> 0..3) + (1 inside the boundary band).
REGION_CELLS: dict[str, tuple[int, ...]] = {
    "frame": tuple(range(CELLS)),
    "remove": (0, 1, 2, 3),
    "affected": (2, 3, 4, 5),
    "keep": (6, 7),
    "boundary": (1, 3, 5, 7),
}
#: Which :class:`ScoreChunk` stream the output may be compared against.
REFERENCES: tuple[str, ...] = ("counterfactual", "input")
_LEVEL_INDEX = np.zeros(256, np.uint8)
for _index, _level in enumerate(QuadLevel):
    _LEVEL_INDEX[int(_level)] = _index


def chunk_cells(chunk: ScoreChunk) -> np.ndarray:
    """``(T, H, W)`` uint8 cell labels of the chunk's pixels (computed once per chunk)."""

    def labels() -> np.ndarray:
        cells = _LEVEL_INDEX[chunk.mask.levels] * np.uint8(2)
        cells += chunk.region("boundary")
        return cells

    return chunk.shared("cells", labels)


def cell_sums(values: np.ndarray, labels: np.ndarray, cells: int = CELLS) -> np.ndarray:
    """Float64 sum of ``values`` over each cell of ``labels`` (same shape), one sequential pass."""
    return np.bincount(labels.ravel(), weights=values.ravel(), minlength=cells)


def cell_count(groups: Mapping[str, tuple[int, ...]]) -> int:
    """How many cells the labels of ``groups`` (region -> cells) use."""
    return max(max(cells) for cells in groups.values()) + 1


def region_totals(cells: np.ndarray, regions: Iterable[str], groups: Mapping[str, tuple[int, ...]] = REGION_CELLS):
    """Per region, the sum of its cells (added in cell order: the same bits for the same cells)."""
    return {region: sum(float(cells[index]) for index in groups[region]) for region in regions}


def mask_cells(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """Labels of a plain boolean region, 1 inside (every pixel for ``None``), to read as ``{"mask": (1,)}``."""
    if mask is None:
        return np.ones(shape[:3], np.uint8)
    return np.ascontiguousarray(mask, dtype=np.uint8)


def check_regions(regions: Sequence[str]) -> tuple[str, ...]:
    """Validate region names (a tuple without duplicates) and return them as a tuple."""
    if isinstance(regions, str):
        raise TypeError(f"regions must be a sequence of names, got the string {regions!r}")
    regions = tuple(regions)
    if not regions:
        raise ValueError("regions must name at least one region")
    for name in regions:
        if name not in ROW_REGIONS:
            raise ValueError(f"unknown region {name!r}; expected one of {', '.join(ROW_REGIONS)}")
    if len(set(regions)) != len(regions):
        raise ValueError(f"regions repeat a name: {regions}")
    return regions


def check_reference(reference: str) -> str:
    """Validate ``reference`` (``counterfactual`` or ``input``)."""
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    return reference


def check_device(device: str) -> str:
    """Validate ``device`` (``cpu``, ``cuda`` or ``cuda:N``); ``cuda`` must be available."""
    if not isinstance(device, str) or not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device != "cpu":
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} requested but torch sees no CUDA device")
    return device


def check_frames(name: str, frames: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 -> ``(T, H, W, 3)``; raise TypeError/ValueError otherwise."""
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise TypeError(f"{name} must be uint8 RGB in [0, 255], got dtype {frames.dtype}")
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"{name} must be (T, H, W, 3) or (H, W, 3) RGB, got shape {frames.shape}")
    return frames


def check_pair(output: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as ``(T, H, W, 3)`` uint8 of one shape (ValueError names both shapes otherwise)."""
    output = check_frames("output", output)
    reference = check_frames("reference", reference)
    if output.shape != reference.shape:
        raise ValueError(f"output and reference differ in shape: output {output.shape}, reference {reference.shape}")
    return output, reference


def check_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """A boolean ``(T, H, W)`` (or ``(H, W)``, broadcast over frames) region mask for frames of ``shape``."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
    if mask.ndim == 2:
        mask = np.broadcast_to(mask, (shape[0], *mask.shape))
    if mask.shape != tuple(shape[:3]):
        raise ValueError(f"mask shape {mask.shape} does not match frames (T, H, W) = {tuple(shape[:3])}")
    return mask


def reference_frames(chunk: ScoreChunk, reference: str, metric: str) -> np.ndarray:
    """The chunk's reference stream; ValueError when the counterfactual is needed but absent."""
    frames = chunk.stream(reference)
    if frames is None:
        raise ValueError(
            f"{metric}: reference='counterfactual' but the chunk at frame {chunk.start} has no counterfactual; "
            "skip the metric or use reference='input'"
        )
    return frames


class RegionSums:
    """Per-region, per-frame ``(sum, count)`` records reduced exactly (see the module docstring).

    Parameters
    ----------
    regions : sequence of str
        Regions tracked.
    """

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = tuple(regions)
        self.sums: dict[str, list[float]] = {name: [] for name in self.regions}
        self.counts: dict[str, list[int]] = {name: [] for name in self.regions}

    def add(self, region: str, total: float, count: int) -> None:
        """Record one frame's sum over ``count`` region elements (``count`` 0 for a frame without the region)."""
        self.sums[region].append(total)
        self.counts[region].append(int(count))

    def merge(self, other: RegionSums) -> None:
        """Append ``other``'s records (its regions must be the same)."""
        if other.regions != self.regions:
            raise ValueError(f"cannot merge sums over regions {other.regions} into {self.regions}")
        for name in self.regions:
            self.sums[name].extend(other.sums[name])
            self.counts[name].extend(other.counts[name])

    def frames(self, region: str) -> int:
        """Frames recorded with a non-empty region."""
        return sum(1 for count in self.counts[region] if count > 0)

    def mean(self, region: str, *, empty_reason: str | None = None) -> MetricValue:
        """Pooled mean ``sum / count`` over all frames; NaN with a reason when the region never occurs.

        The value's ``count`` is the number of frames in which the region is not empty.
        """
        count = sum(self.counts[region])
        if count == 0:
            return MetricValue.nan(empty_reason or self.empty_reason(region))
        return MetricValue(math.fsum(self.sums[region]) / count, count=self.frames(region))

    def empty_reason(self, region: str) -> str:
        """Why a region has no value: no frames seen, or the region empty in every frame."""
        if not self.counts[region]:
            return "no frames were scored"
        return f"region {region!r} is empty in every frame"


class RegionAccumulator(Accumulator):
    """Base of the full-reference metrics: per region, one ``(sum, count)`` per frame (:class:`RegionSums`).

    ``update``, ``merge`` and ``compute`` are written here once; a subclass gives :meth:`frame_sums` (the records
    of one chunk's frames) and, when its value is not the pooled mean, :meth:`reduce`.
    """

    state = ("sums",)

    def __init__(self, *, regions: Sequence[str], reference: str, device: str) -> None:
        self.regions = check_regions(regions)
        self.reference = check_reference(reference)  # type: ignore[assignment]
        self.device = check_device(device)
        self.needs_ground_truth = reference == "counterfactual"
        self.sums = RegionSums(self.regions)

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> Accumulator:
        """The accumulator on ``device`` (the clip itself is not needed)."""
        return cls(device=device, **options)

    def settings(self) -> tuple:
        return (self.regions, self.reference)

    def frame_sums(
        self, chunk: ScoreChunk, output: np.ndarray, reference: np.ndarray
    ) -> Iterable[dict[str, tuple[float, int]]]:  # pragma: no cover - abstract
        """Per frame of the chunk, region -> ``(sum, count)``."""
        raise NotImplementedError

    def update(self, chunk: ScoreChunk) -> None:
        """Add the records of each of the chunk's frames."""
        output, reference = check_pair(chunk.output, reference_frames(chunk, self.reference, self.name))
        for sums in self.frame_sums(chunk, output, reference):
            for region in self.regions:
                self.sums.add(region, *sums[region])

    def reduce(self, region: str) -> MetricValue:
        """The region's value from its records (default: the pooled mean)."""
        return self.sums.mean(region)

    def compute(self) -> dict[str, MetricValue]:
        """Region -> value (NaN with a reason for a region empty in every frame)."""
        return {region: self.reduce(region) for region in self.regions}
