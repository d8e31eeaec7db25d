"""``copy``: the output is the input, untouched — the floor every method must beat.

Examples
--------
>>> CopyMethod().rewrites
frozenset()
"""

from __future__ import annotations

from void_eval.clip import Clip
from void_eval.methods.base import FrameMethod
from void_eval.video import VideoWriter


class CopyMethod(FrameMethod):
    """Return the input video unchanged (re-encoded with the run's output kind; lossless by default).

    Parameters
    ----------
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    chunk_size : int, keyword-only
        Frames decoded at a time (memory only; does not change the output).
    """

    name = "copy"
    version = "1"
    description = "returns the input unchanged (lower bound)"
    rewrites = frozenset()

    def __init__(self, *, output_kind: str = "lossless", chunk_size: int = 16) -> None:
        super().__init__(output_kind=output_kind)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = chunk_size

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        for chunk in clip.iter_frames(self.chunk_size):
            writer.write(chunk)
