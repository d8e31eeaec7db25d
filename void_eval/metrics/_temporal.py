"""Shared machinery of the metrics that look at consecutive frames (E_warp, flicker): frame pairs across chunks.

A :class:`PairAccumulator` sees frames in order; it keeps what it needs of its first and last frame (the first
one packed, see :class:`PackedArray`: only :meth:`PairAccumulator.merge` reads it), so the pair that straddles
two chunks is counted once, and :meth:`PairAccumulator.merge` of two accumulators over contiguous frame ranges
(``a`` over ``[0, k)``, ``b`` over ``[k, n)``) adds the straddling pair too: merging halves equals one accumulator
over the whole clip exactly. Accumulators over non-contiguous ranges (other clips, other workers) just
add their sums.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from void_eval.metrics.base import Accumulator, ScoreChunk

#: Arrays up to this many bytes are kept as a plain copy (a 1080p RGB frame is 6.2 MB); larger ones are compressed.
PACK_MIN_BYTES = 8 * 2**20


@dataclass(frozen=True)
class PackedArray:
    """An array kept losslessly in fewer bytes: bit-packing for booleans; numbers above :data:`PACK_MIN_BYTES`
    zlib level 1 (a 4K RGB frame of real footage: 25 MB -> ~4 MB in ~0.2 s), smaller ones a plain copy (zlib took
    ~55 ms for a noisy 720p frame, for 2 MB saved)."""

    data: bytes
    shape: tuple[int, ...]
    dtype: np.dtype
    encoding: Literal["bits", "zlib", "raw"]

    @classmethod
    def pack(cls, array: np.ndarray) -> PackedArray:
        array = np.ascontiguousarray(array)
        if array.dtype == bool:
            return cls(np.packbits(array, axis=None).tobytes(), array.shape, array.dtype, "bits")
        if array.nbytes <= PACK_MIN_BYTES:
            return cls(array.tobytes(), array.shape, array.dtype, "raw")
        return cls(zlib.compress(array, 1), array.shape, array.dtype, "zlib")

    def unpack(self) -> np.ndarray:
        if self.encoding == "bits":
            bits = np.unpackbits(np.frombuffer(self.data, np.uint8), count=int(np.prod(self.shape)))
            return bits.astype(bool).reshape(self.shape)
        data = zlib.decompress(self.data) if self.encoding == "zlib" else self.data
        return np.frombuffer(data, self.dtype).reshape(self.shape).copy()


class PairAccumulator(Accumulator):
    """Base class: subclasses define ``_frame_state(chunk, index)`` and ``_add_pair(a, b)``; their sums are the
    attributes named in ``state`` (merged by :meth:`Accumulator.merge_state`).

    Attributes
    ----------
    start, end : int or None
        Frame range ``[start, end)`` seen so far (``None`` before any update).
    pairs : int
        Consecutive frame pairs added.
    """

    def __init__(self) -> None:
        self.start: int | None = None
        self.end: int | None = None
        self.pairs = 0
        self._first: Any = None
        self._last: Any = None

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> Accumulator:
        """This metric of the output paired with the same of the clip's counterfactual (rows ``_cf``, ``_diff``;
        :mod:`void_eval.metrics.truth_pair`)."""
        from void_eval.metrics.truth_pair import TruthPaired

        return TruthPaired.pair(cls, clip, options)

    def _frame_state(self, chunk: ScoreChunk, index: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _add_pair(self, previous: Any, current: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _pack_state(self, state: Any) -> Any:
        """The first frame's state as kept until a merge needs it (default: as is); see :class:`PackedArray`."""
        return state

    def _unpack_state(self, packed: Any) -> Any:
        """Inverse of :meth:`_pack_state`."""
        return packed

    def update(self, chunk: ScoreChunk) -> None:
        """Add the pairs inside ``chunk`` and the one joining it to the previous chunk."""
        frames = len(chunk.output)
        if frames == 0:
            return
        if self.end is not None and chunk.start != self.end:
            raise ValueError(
                f"{type(self).__name__}: chunks must arrive in frame order; expected frame {self.end}, "
                f"got a chunk starting at {chunk.start}"
            )
        for index in range(frames):
            state = self._frame_state(chunk, index)
            if self._last is not None:
                self._add_pair(self._last, state)
                self.pairs += 1
            else:
                self._first = self._pack_state(state)
            self._last = state
        if self.start is None:
            self.start = chunk.start
        self.end = chunk.start + frames

    def merge(self, other: Accumulator) -> None:
        """Add ``other``'s sums; when ``other`` continues this accumulator's frames, add the joining pair."""
        self.check_mergeable(other)  # the same class: ``other`` is a PairAccumulator
        if other.start is None:
            return
        if self.start is None:
            self.start, self.end, self._first, self._last = other.start, other.end, other._first, other._last
        elif other.start == self.end:
            self._add_pair(self._last, other._unpack_state(other._first))
            self.pairs += 1
            self._last, self.end = other._last, other.end
        elif other.end == self.start:
            self._add_pair(other._last, self._unpack_state(self._first))
            self.pairs += 1
            self._first, self.start = other._first, other.start
        self.merge_state(other)
        self.pairs += other.pairs
