"""The quadmask: VOID's 4-level conditioning mask as a first-class type.

Levels (BLACK = remove, the opposite of binary object masks):

======== ===== ==========================================================================
level    value meaning
======== ===== ==========================================================================
REMOVE   0     the primary object to remove
OVERLAP  63    pixels both of the object and of the region it affected
AFFECTED 127   what the object's presence changed (held/pushed things, shadows, reflections)
KEEP     255   background to keep
======== ===== ==========================================================================

Decoding follows upstream VOID (``videox_fun/utils/utils.py``): channel R, optional area resize, then the cut
points ``<=31 -> 0``, ``32..95 -> 63``, ``96..191 -> 127``, ``>191 -> 255``. A :class:`Quadmask` holds the levels
of some frames (a chunk or a whole clip) as ``(T, H, W)`` uint8; :func:`iter_quadmask` streams them from a video.

Examples
--------
>>> import numpy as np
>>> mask = Quadmask.from_raw(np.array([[[0, 40, 130, 250]]], dtype=np.uint8))
>>> mask.levels.tolist()
[[[0, 63, 127, 255]]]
>>> mask.region("remove_any").tolist()
[[[True, True, False, False]]]
>>> round(mask.fractions()["affected"], 2)
0.25
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from void_eval.errors import InputError
from void_eval.video import Interpolation, VideoReader, VideoWriter, resize_frames


class QuadLevel(IntEnum):
    """The four quadmask values."""

    REMOVE = 0
    OVERLAP = 63
    AFFECTED = 127
    KEEP = 255


#: Upper bounds (inclusive) of the REMOVE, OVERLAP and AFFECTED bins when quantising (upstream's cut points).
QUADMASK_CUTS = (31, 95, 191)
#: Trimask cut points as upstream reads them: ``<64 -> 0``, ``64..192 -> middle``, ``>192 -> 255``.
TRIMASK_CUTS = (64, 192)
#: Binary object masks: WHITE = object. Upstream: ``pixel < 240 -> 0 else 255`` then an 11x11 square dilation.
BINARY_THRESHOLD = 240
BINARY_DILATION = 11

Region = Literal["remove", "overlap", "affected", "keep", "remove_any", "affected_any", "boundary"]
REGIONS: tuple[str, ...] = ("remove", "overlap", "affected", "keep", "remove_any", "affected_any", "boundary")
MaskScheme = Literal["quadmask", "trimask", "binary"]

_VALID_LEVEL = np.zeros(256, dtype=bool)
_VALID_LEVEL[[level.value for level in QuadLevel]] = True


def quantize_quadmask(values: np.ndarray) -> np.ndarray:
    """Snap raw mask values (uint8 or float in 0..255) to the four levels with upstream's cut points.

    Examples
    --------
    >>> quantize_quadmask(np.array([0, 31, 32, 95, 96, 191, 192, 255])).tolist()
    [0, 0, 63, 63, 127, 127, 255, 255]
    """
    values = np.asarray(values)
    if values.dtype == np.uint8:
        return _QUADMASK_LUT[values]  # a table lookup: no wide temporaries on 4K frames
    low, mid, high = QUADMASK_CUTS
    return np.select(
        [values <= low, values <= mid, values <= high],
        [QuadLevel.REMOVE, QuadLevel.OVERLAP, QuadLevel.AFFECTED],
        QuadLevel.KEEP,
    ).astype(np.uint8)


_QUADMASK_LUT = quantize_quadmask(np.arange(256, dtype=np.int16))


def quantize_trimask(values: np.ndarray) -> np.ndarray:
    """Snap trimask values to REMOVE / AFFECTED / KEEP with upstream's trimask cut points.

    Upstream calls the middle level 128; here it becomes :attr:`QuadLevel.AFFECTED` (127).

    Examples
    --------
    >>> quantize_trimask(np.array([0, 63, 64, 192, 193])).tolist()
    [0, 0, 127, 127, 255]
    """
    values = np.asarray(values)
    low, high = TRIMASK_CUTS
    return np.select([values < low, values <= high], [QuadLevel.REMOVE, QuadLevel.AFFECTED], QuadLevel.KEEP).astype(
        np.uint8
    )


def binarize_object_mask(
    values: np.ndarray, *, threshold: int = BINARY_THRESHOLD, dilation: int = BINARY_DILATION
) -> np.ndarray:
    """Binary object mask (WHITE = object) to a boolean ``(T, H, W)`` array, upstream-style.

    Pixels ``>= threshold`` are object; each frame is then dilated with a ``dilation x dilation`` square
    (upstream ``skimage.morphology.binary_dilation(mask, np.ones((11, 11)))``). ``dilation=0`` skips it.
    """
    values = np.asarray(values)
    if values.ndim == 2:
        values = values[None]
    objects = values >= threshold
    if dilation > 0:
        kernel = np.ones((dilation, dilation), np.uint8)
        objects = np.stack([cv2.dilate(frame.astype(np.uint8), kernel) > 0 for frame in objects])
    return objects


def _band(region: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` px (square neighbourhood) of the region's edge, on either side."""
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    band = np.empty_like(region)
    for index, frame in enumerate(region.astype(np.uint8)):
        grown = cv2.dilate(frame, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        shrunk = cv2.erode(frame, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=1)
        band[index] = (grown > 0) & ~(shrunk > 0)
    return band


@dataclass(frozen=True)
class Quadmask:
    """Quadmask levels for ``T`` frames.

    Parameters
    ----------
    levels : np.ndarray
        ``(T, H, W)`` uint8 holding only the values of :class:`QuadLevel`.
    boundary_width : int, keyword-only
        Half-width in pixels of the ``boundary`` region (a band around ``remove_any``). Default 8.

    Attributes
    ----------
    Regions, each a boolean ``(T, H, W)`` array through :meth:`region`:
    ``remove`` (0), ``overlap`` (63), ``affected`` (127), ``keep`` (255), ``remove_any`` (0 or 63),
    ``affected_any`` (63 or 127), ``boundary`` (within ``boundary_width`` px of the ``remove_any`` edge,
    inside or outside).
    """

    levels: np.ndarray
    boundary_width: int = field(default=8, kw_only=True)

    def __post_init__(self) -> None:
        levels = self.levels
        if not isinstance(levels, np.ndarray) or levels.dtype != np.uint8:
            raise TypeError(f"Quadmask levels must be a uint8 numpy array, got {type(levels).__name__}")
        if levels.ndim != 3:
            raise ValueError(f"Quadmask levels must be (T, H, W), got shape {levels.shape}")
        if not _VALID_LEVEL[levels].all():
            bad = np.unique(levels[~_VALID_LEVEL[levels]])[:8].tolist()
            raise ValueError(f"Quadmask levels must be in {{0, 63, 127, 255}}, found {bad}")

    # -- construction -------------------------------------------------------------------------------------
    @classmethod
    def from_raw(cls, values: np.ndarray, *, scheme: MaskScheme = "quadmask") -> Quadmask:
        """Quantise raw grey values (``(T, H, W)`` or ``(H, W)``) with the quadmask or trimask cut points."""
        values = np.asarray(values)
        if values.ndim == 2:
            values = values[None]
        if scheme == "quadmask":
            return cls(quantize_quadmask(values))
        if scheme == "trimask":
            return cls(quantize_trimask(values))
        if scheme == "binary":
            return cls.from_binary([values])
        raise ValueError(f"scheme must be quadmask, trimask or binary, got {scheme!r}")

    @classmethod
    def from_binary(
        cls,
        object_masks: Sequence[np.ndarray],
        *,
        threshold: int = BINARY_THRESHOLD,
        dilation: int = BINARY_DILATION,
    ) -> Quadmask:
        """Combine per-object binary masks (WHITE = remove) into a quadmask of REMOVE and KEEP.

        Each mask is ``(T, H, W)`` grey; all must share a shape. See :func:`binarize_object_mask`.
        """
        if not object_masks:
            raise ValueError("from_binary needs at least one object mask")
        shapes = {np.asarray(mask).shape for mask in object_masks}
        if len(shapes) != 1:
            raise ValueError(f"object masks differ in shape: {sorted(shapes)}")
        remove = np.zeros(np.asarray(object_masks[0]).shape, dtype=bool)
        if remove.ndim == 2:
            remove = remove[None]
        for mask in object_masks:
            remove |= binarize_object_mask(mask, threshold=threshold, dilation=dilation)
        return cls(np.where(remove, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8))

    @classmethod
    def from_counterfactual(
        cls,
        factual: np.ndarray,
        counterfactual: np.ndarray,
        removed: np.ndarray,
        *,
        threshold: int = 12,
        dilation: int = 0,
        caused_behind: np.ndarray | None = None,
    ) -> Quadmask:
        """Quadmask from a counterfactual pair and the removed object's segmentation.

        Parameters
        ----------
        factual, counterfactual : np.ndarray
            ``(T, H, W, 3)`` uint8 renders of the world with and without the object.
        removed : np.ndarray
            ``(T, H, W)`` bool, the removed object's pixels in the factual world -> REMOVE.
        threshold : int, keyword-only
            A pixel outside ``removed`` whose largest channel difference exceeds this is AFFECTED.
        dilation : int, keyword-only
            Grow AFFECTED by this many pixels (square), never into ``removed``.
        caused_behind : np.ndarray, optional, keyword-only
            ``(T, H, W)`` bool marking pixels where what lies behind the object was itself changed by the object
            (e.g. an affected object's silhouette in either world); ``removed & caused_behind`` -> OVERLAP.

        Returns
        -------
        Quadmask
        """
        factual = np.asarray(factual)
        counterfactual = np.asarray(counterfactual)
        removed = np.asarray(removed, dtype=bool)
        if factual.shape != counterfactual.shape or factual.shape[:3] != removed.shape:
            raise ValueError(
                f"shapes disagree: factual {factual.shape}, counterfactual {counterfactual.shape}, "
                f"removed {removed.shape}"
            )
        difference = np.abs(factual.astype(np.int16) - counterfactual.astype(np.int16)).max(axis=-1)
        # The object's own pixels always differ; dilating them would ring the object with AFFECTED.
        changed = (difference > threshold) & ~removed
        if dilation > 0:
            kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
            changed = np.stack([cv2.dilate(frame.astype(np.uint8), kernel) > 0 for frame in changed])
        levels = np.full(removed.shape, QuadLevel.KEEP, dtype=np.uint8)
        levels[changed & ~removed] = QuadLevel.AFFECTED
        levels[removed] = QuadLevel.REMOVE
        if caused_behind is not None:
            levels[removed & np.asarray(caused_behind, dtype=bool)] = QuadLevel.OVERLAP
        return cls(levels)

    @classmethod
    def concatenate(cls, chunks: Sequence[Quadmask]) -> Quadmask:
        """Join chunks along time."""
        if not chunks:
            raise ValueError("concatenate needs at least one chunk")
        return cls(np.concatenate([chunk.levels for chunk in chunks]), boundary_width=chunks[0].boundary_width)

    # -- shape ----------------------------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        return self.levels.shape[0]

    @property
    def height(self) -> int:
        return self.levels.shape[1]

    @property
    def width(self) -> int:
        return self.levels.shape[2]

    def __len__(self) -> int:
        return self.frames

    def __getitem__(self, frames: slice) -> Quadmask:
        if not isinstance(frames, slice):
            raise TypeError("index a Quadmask with a slice of frames, e.g. mask[0:8]")
        return Quadmask(self.levels[frames], boundary_width=self.boundary_width)

    # -- regions --------------------------------------------------------------------------------------------
    def region(self, name: Region) -> np.ndarray:
        """Boolean ``(T, H, W)`` view of one region; see the class docstring for the names."""
        levels = self.levels
        if name == "remove":
            return levels == QuadLevel.REMOVE
        if name == "overlap":
            return levels == QuadLevel.OVERLAP
        if name == "affected":
            return levels == QuadLevel.AFFECTED
        if name == "keep":
            return levels == QuadLevel.KEEP
        if name == "remove_any":
            return levels <= QuadLevel.OVERLAP
        if name == "affected_any":
            return (levels == QuadLevel.OVERLAP) | (levels == QuadLevel.AFFECTED)
        if name == "boundary":
            return self._boundary
        raise ValueError(f"unknown region {name!r}; expected one of {', '.join(REGIONS)}")

    @cached_property
    def _boundary(self) -> np.ndarray:
        # Several metrics ask for the band of the same chunk; a dilation and an erosion per frame, computed once.
        band = _band(self.region("remove_any"), self.boundary_width)
        band.flags.writeable = False
        return band

    def counts(self) -> dict[QuadLevel, int]:
        """Pixels per level over all frames."""
        histogram = np.bincount(self.levels.ravel(), minlength=256)
        return {level: int(histogram[level]) for level in QuadLevel}

    def fractions(self) -> dict[str, float]:
        """Share of all pixels (all frames) at each level: keys remove, overlap, affected, keep."""
        counts = self.counts()
        total = self.levels.size
        return {level.name.lower(): counts[level] / total for level in QuadLevel}

    def frame_fractions(self) -> dict[str, np.ndarray]:
        """Per-frame share of pixels at each level: each value a ``(T,)`` float array."""
        pixels = self.height * self.width
        return {
            level.name.lower(): (self.levels == level).reshape(self.frames, -1).sum(axis=1) / pixels
            for level in QuadLevel
        }

    # -- upstream model view ----------------------------------------------------------------------------------
    def model_view(self, pass_: Literal[0, 1, 2] = 1) -> np.ndarray:
        """The float mask upstream VOID feeds its pipeline, ``(T, H, W)`` float32 where 1 = remove.

        ``pass_=0``: inverted and divided by 255 (remove 1.0, overlap 0.753, affected 0.502, keep 0).
        ``pass_=1``: pass-1 snapping ``>0.75 -> 1``, ``0.25..0.75 -> 127/255``, ``<0.25 -> 0`` (overlap counts
        as remove). ``pass_=2``: pass-2 binarising ``>0.5 -> 1`` (affected becomes remove too).
        """
        view = (255.0 - self.levels.astype(np.float32)) / 255.0
        if pass_ == 0:
            return view
        if pass_ == 1:
            snapped = np.where(view > 0.75, 1.0, np.where(view >= 0.25, 127.0 / 255.0, 0.0))
            return snapped.astype(np.float32)
        if pass_ == 2:
            return (view > 0.5).astype(np.float32)
        raise ValueError(f"pass_ must be 0, 1 or 2, got {pass_!r}")

    # -- files ----------------------------------------------------------------------------------------------
    def write(self, path: str | Path, fps: float) -> Path:
        """Write losslessly (grey, R = G = B); it decodes back to exactly these levels."""
        with VideoWriter(path, fps, kind="lossless") as writer:
            writer.write(self.levels)
        return Path(path)


def iter_quadmask(
    path: str | Path,
    *,
    chunk_size: int = 16,
    scheme: MaskScheme = "quadmask",
    size: tuple[int, int] | None = None,
    interpolation: Interpolation = "torch-area",
    boundary_width: int = 8,
) -> Iterator[Quadmask]:
    """Stream a mask video as :class:`Quadmask` chunks.

    Channel R is read, resized (upstream's area resize by default) when ``size`` is given, then quantised with
    ``scheme``'s cut points. For ``scheme="binary"`` the result holds REMOVE and KEEP only.
    """
    reader = VideoReader(path)
    for chunk in reader.chunks(chunk_size):
        red = chunk[..., 0]
        if size is not None:
            red = resize_frames(red, size, interpolation=interpolation)
        if scheme == "binary":
            yield Quadmask.from_binary([red], dilation=BINARY_DILATION)
        else:
            mask = Quadmask.from_raw(red, scheme=scheme)
            yield Quadmask(mask.levels, boundary_width=boundary_width)


def read_quadmask(path: str | Path, **options) -> Quadmask:
    """Read a whole mask video into one :class:`Quadmask`; keyword options as :func:`iter_quadmask`."""
    chunks = list(iter_quadmask(path, **options))
    if not chunks:
        raise InputError(path, "mask video has no frames")
    return Quadmask.concatenate(chunks)


@dataclass
class QuadmaskStats:
    """Streaming tally of a mask video's content, fed raw decoded RGB chunks at native size.

    Counts pixels per level after quantisation, pixels whose R value is off the four levels before it, pixels
    whose R, G and B disagree by more than ``colour_tolerance`` (a colour video given as a mask), and AFFECTED
    pixels on frame 0 (upstream's convention says there are none).

    Examples
    --------
    >>> stats = QuadmaskStats()
    >>> stats.update(np.full((2, 4, 4, 3), 127, np.uint8))
    >>> stats.fractions()["affected"], stats.affected_on_first_frame
    (1.0, 16)
    """

    scheme: MaskScheme = "quadmask"
    colour_tolerance: int = 16
    frames: int = 0
    pixels: int = 0
    level_counts: dict[str, int] = field(default_factory=lambda: {level.name.lower(): 0 for level in QuadLevel})
    off_level_pixels: int = 0
    colour_pixels: int = 0
    affected_on_first_frame: int = 0

    def update(self, rgb: np.ndarray) -> None:
        """Add a ``(T, H, W, 3)`` uint8 chunk decoded from the mask video."""
        red = rgb[..., 0]
        spread = np.maximum(np.abs(red.astype(np.int16) - rgb[..., 1]), np.abs(red.astype(np.int16) - rgb[..., 2]))
        self.colour_pixels += int((spread > self.colour_tolerance).sum())
        self.off_level_pixels += int((~_VALID_LEVEL[red]).sum())
        self.update_levels(Quadmask.from_raw(red, scheme=self.scheme))

    def update_levels(self, mask: Quadmask) -> None:
        """Add already-quantised levels (e.g. binary object masks combined into a quadmask)."""
        for level, count in mask.counts().items():
            self.level_counts[level.name.lower()] += count
        if self.frames == 0:
            self.affected_on_first_frame = int((mask.levels[0] == QuadLevel.AFFECTED).sum())
        self.frames += mask.frames
        self.pixels += mask.levels.size

    def fractions(self) -> dict[str, float]:
        """Share of all pixels seen so far at each level (NaN before any update)."""
        if self.pixels == 0:
            return {name: float("nan") for name in self.level_counts}
        return {name: count / self.pixels for name, count in self.level_counts.items()}

    @property
    def colour_share(self) -> float:
        return self.colour_pixels / self.pixels if self.pixels else float("nan")
