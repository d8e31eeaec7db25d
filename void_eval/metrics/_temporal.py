"""Shared machinery of the metrics that look at consecutive frames (E_warp, flicker): frame pairs across chunks.

A :class:`PairAccumulator` sees frames in order; it keeps what it needs of its first and last frame, so the pair
that straddles two chunks is counted once, and :meth:`PairAccumulator.merge` of two accumulators over contiguous
frame ranges (``a`` over ``[0, k)``, ``b`` over ``[k, n)``) adds the straddling pair too: merging halves equals one
accumulator over the whole clip exactly. Accumulators over non-contiguous ranges (other clips, other workers) just
add their sums.
"""

from __future__ import annotations

from typing import Any

from void_eval.metrics.base import ScoreChunk


class PairAccumulator:
    """Base class: subclasses define ``_frame_state(chunk, index)``, ``_add_pair(a, b)`` and ``_merge_sums(other)``.

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

    # -- subclass hooks ---------------------------------------------------------------------------------------
    def _frame_state(self, chunk: ScoreChunk, index: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _add_pair(self, previous: Any, current: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _merge_sums(self, other: PairAccumulator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _settings(self) -> tuple:
        return ()

    # -- protocol ---------------------------------------------------------------------------------------------
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
                self._first = state
            self._last = state
        if self.start is None:
            self.start = chunk.start
        self.end = chunk.start + frames

    def merge(self, other: PairAccumulator) -> None:
        """Add ``other``'s sums; when ``other`` continues this accumulator's frames, add the joining pair."""
        if type(other) is not type(self) or other._settings() != self._settings():
            raise TypeError(f"cannot merge {type(other).__name__}{other._settings()} into {type(self).__name__}")
        if other.start is None:
            return
        if self.start is None:
            self._merge_sums(other)
            self.pairs = other.pairs
            self.start, self.end, self._first, self._last = other.start, other.end, other._first, other._last
            return
        if other.start == self.end:
            self._add_pair(self._last, other._first)
            self.pairs += 1
            self._last, self.end = other._last, other.end
        elif other.end == self.start:
            self._add_pair(other._last, self._first)
            self.pairs += 1
            self._first, self.start = other._first, other.start
        self._merge_sums(other)
        self.pairs += other.pairs
