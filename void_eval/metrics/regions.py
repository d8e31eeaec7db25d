"""Region restriction shared by the full-reference metrics (PSNR, SSIM, LPIPS): masks, inputs, exact sums.

Row regions (names from :mod:`void_eval.metrics._regions`): ``frame`` every pixel; ``remove`` quadmask 0 and 63
(``remove_any``); ``affected`` 63 and 127 (``affected_any``); ``keep`` 255; ``boundary`` the band of
``Quadmask.boundary_width`` px on both sides of the ``remove_any`` edge.

:class:`RegionSums` keeps, per region, one ``(sum, count)`` record per frame and reduces them with
:func:`math.fsum` (correctly rounded, so independent of order). Updating with any chunk split, or merging
accumulators built over any partition of the frames, gives bit-identical results to one pass over everything.

Examples
--------
>>> sums = RegionSums(("frame", "remove"))
>>> sums.add("frame", 3.0, 2)
>>> sums.add("remove", 0.0, 0)
>>> sums.mean("frame").value, sums.mean("remove").note
(1.5, "region 'remove' is empty in every frame")
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from void_eval.metrics._regions import ROW_REGION_TO_QUADMASK, row_region
from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.quadmask import Quadmask

#: Regions the full-reference metrics report by default.
FIDELITY_REGIONS: tuple[str, ...] = ("frame", "remove", "affected", "keep", "boundary")
#: Which :class:`ScoreChunk` field the output is compared against.
REFERENCES: tuple[str, ...] = ("counterfactual", "input")


def check_regions(regions: Sequence[str]) -> tuple[str, ...]:
    """Validate region names (a tuple without duplicates) and return them as a tuple."""
    if isinstance(regions, str):
        raise TypeError(f"regions must be a sequence of names, got the string {regions!r}")
    regions = tuple(regions)
    if not regions:
        raise ValueError("regions must name at least one region")
    for name in regions:
        if name not in ROW_REGION_TO_QUADMASK:
            raise ValueError(f"unknown region {name!r}; expected one of {', '.join(ROW_REGION_TO_QUADMASK)}")
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
    frames = chunk.counterfactual if reference == "counterfactual" else chunk.input
    if frames is None:
        raise ValueError(
            f"{metric}: reference='counterfactual' but the chunk at frame {chunk.start} has no counterfactual; "
            "skip the metric or use reference='input'"
        )
    return frames


def region_masks(mask: Quadmask, regions: Sequence[str]) -> dict[str, np.ndarray | None]:
    """Boolean ``(T, H, W)`` pixels per region; ``None`` for ``frame`` (every pixel, no mask needed)."""
    return {name: None if name == "frame" else row_region(mask, name) for name in regions}


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
        self.sums[region].append(float(total))
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

    def total(self, region: str) -> tuple[float, int]:
        """``(fsum of sums, sum of counts)`` over every frame."""
        return math.fsum(self.sums[region]), sum(self.counts[region])

    def mean(self, region: str, *, empty_reason: str | None = None) -> MetricValue:
        """Pooled mean ``sum / count`` over all frames; NaN with a reason when the region never occurs.

        The value's ``count`` is the number of frames in which the region is not empty.
        """
        total, count = self.total(region)
        if count == 0:
            return MetricValue.nan(empty_reason or self.empty_reason(region))
        return MetricValue(total / count, count=self.frames(region))

    def empty_reason(self, region: str) -> str:
        """Why a region has no value: no frames seen, or the region empty in every frame."""
        if not self.counts[region]:
            return "no frames were scored"
        return f"region {region!r} is empty in every frame"
