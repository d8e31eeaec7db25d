"""``oracle``: the output is the clip's counterfactual (the ground truth) — the ceiling.

Examples
--------
>>> sorted(level.name for level in OracleMethod().rewrites)
['AFFECTED', 'KEEP', 'OVERLAP', 'REMOVE']
"""

from __future__ import annotations

from void_eval.clip import COUNTERFACTUAL_NAME, Clip
from void_eval.errors import InputError
from void_eval.methods.base import FrameMethod
from void_eval.quadmask import QuadLevel
from void_eval.video import VideoWriter


class OracleMethod(FrameMethod):
    """Return ``counterfactual.mp4`` (re-encoded with the run's output kind; lossless by default).

    Parameters
    ----------
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    chunk_size : int, keyword-only
        Frames decoded at a time (memory only).

    Raises
    ------
    InputError
        From :meth:`run` when the clip has no counterfactual.
    """

    name = "oracle"
    version = "1"
    description = "returns the counterfactual ground truth (upper bound; needs counterfactual.mp4)"
    rewrites = frozenset(QuadLevel)

    def __init__(self, *, output_kind: str = "lossless", chunk_size: int = 16) -> None:
        super().__init__(output_kind=output_kind)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.chunk_size = chunk_size

    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        if clip.counterfactual_path is None:
            raise InputError(clip.path, f"oracle needs {COUNTERFACTUAL_NAME} (ground truth), the clip has none")
        for chunk in clip.iter_counterfactual(self.chunk_size):
            writer.write(chunk)
