"""Side videos an accumulator reads itself, in step with the chunks it is fed (e.g. a clip's shadow mask)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from void_eval.errors import InputError
from void_eval.video import VideoReader


class SyncedVideo:
    """Read frames ``[start, start + count)`` of a video, sequentially when calls follow each other.

    Parameters
    ----------
    path : str or Path
        The video.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reader = VideoReader(self.path)
        self._iterator: Iterator[np.ndarray] | None = None
        self._position = 0

    def frames(self, start: int, count: int) -> np.ndarray:
        """``(count, H, W, 3)`` uint8 frames starting at ``start``; reopens the file only on a jump."""
        if start + count > self.reader.frames:
            raise InputError(self.path, f"has {self.reader.frames} frames, frames up to {start + count} were needed")
        if self._iterator is None or start != self._position:
            self._iterator = self.reader.chunks(1, start=start)
            self._position = start
        frames = [next(self._iterator)[0] for _ in range(count)]
        self._position += count
        return np.stack(frames)
