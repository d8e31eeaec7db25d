"""Writing mp4 files: :class:`VideoWriter` and :func:`write_video` (re-exported by :mod:`void_eval.video`).

Two kinds cover the toolkit's needs: ``kind="h264"`` for viewable output and ``kind="lossless"`` (libx264rgb, qp 0)
for data that must decode back bit-exact (masks, ground truth, heatmaps). Every mp4 written is fragmented
(``empty_moov`` + fragments of at most a few MiB), so it streams and can be signed with bounded memory, and it
appears under its final name only once complete. A write that fails (a full disk, even while the last fragment is
flushed on close) is one :class:`~void_eval.errors.OutputError` naming the file, with the partial file removed.

Examples
--------
>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "grey.mp4")
>>> with VideoWriter(path, fps=12, kind="lossless") as writer:
...     writer.write(np.full((3, 8, 8), 128, np.uint8))
>>> writer.frames_written, sorted(os.listdir(os.path.dirname(path)))
(3, ['grey.mp4'])
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from void_eval.atomic import write_errors
from void_eval.errors import InputError

WriterKind = Literal["h264", "lossless"]

_FRAGMENT_BYTES = 4 * 1024 * 1024


class _RecordingFile:
    """The binary file an encoder writes through; remembers the first OS error (FFmpeg may not report it)."""

    def __init__(self, descriptor: int) -> None:
        self._handle = os.fdopen(descriptor, "wb")
        self.error: OSError | None = None

    def _record(self, err: OSError) -> None:
        if self.error is None:
            self.error = err

    def write(self, data) -> int:
        try:
            return self._handle.write(data)
        except OSError as err:
            self._record(err)
            raise

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        try:
            return self._handle.seek(offset, whence)
        except OSError as err:
            self._record(err)
            raise

    def tell(self) -> int:
        return self._handle.tell()

    def close(self) -> None:
        """Flush and close; a failed flush is recorded, not raised (the writer reports it)."""
        if self._handle.closed:
            return
        try:
            self._handle.close()
        except OSError as err:
            self._record(err)


class VideoWriter:
    """Write frames to an mp4 that appears under its final name only when complete.

    Parameters
    ----------
    path : str or Path
        Destination ``.mp4``. Its folder must exist.
    fps : float
        Frame rate.
    kind : {"h264", "lossless"}, keyword-only
        ``h264``: libx264 yuv420p (yuv444p when a side is odd), ``crf`` quality, for viewing.
        ``lossless``: libx264rgb at qp 0, decodes back bit-exact to the RGB written.
    crf : int, keyword-only
        Quality for ``h264`` (0-51, lower is better).
    preset : str, keyword-only
        x264 speed preset.
    deterministic : bool, keyword-only
        Same frames -> same bytes for ``h264``: runs x264 on one thread without its assembly
        (``x264-params asm=0:threads=1``); either alone still gave different files for the same frames (2-6 in 20
        encodes with ``asm=0`` alone, up to 2 with ``threads=1`` alone; threads: timing, assembly: leftover
        memory). Several times slower to encode; ``lossless`` is always reproducible.

    Notes
    -----
    :meth:`write` takes chunks ``(T, H, W, 3)`` or ``(T, H, W)``, :meth:`write_frame` one frame; single-channel
    frames are written as grey RGB. The file is fragmented mp4 (``frag_keyframe+empty_moov+default_base_moof``,
    fragments of at most about 4 MiB), so readers can stream it and C2PA signing hashes it fragment by fragment.
    On an exception inside the ``with`` block, nothing is left behind.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        *,
        kind: WriterKind = "h264",
        crf: int = 18,
        preset: str = "medium",
        deterministic: bool = False,
    ) -> None:
        if kind not in ("h264", "lossless"):
            raise ValueError(f"kind must be 'h264' or 'lossless', got {kind!r}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise InputError(self.path.parent, "output folder does not exist")
        self.fps = fps
        self.kind = kind
        self.crf = crf
        self.preset = preset
        self.deterministic = deterministic
        self.frames_written = 0
        self._stream = None
        self._container = None
        with write_errors(self.path):
            handle, temp_name = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".part", dir=self.path.parent)
            self._temp_path = Path(temp_name)
            try:
                self._file = _RecordingFile(handle)
            except BaseException:
                os.close(handle)
                self._temp_path.unlink(missing_ok=True)
                raise
        with self._writing():
            self._container = av.open(
                self._file,
                mode="w",
                format="mp4",
                options={
                    "movflags": "frag_keyframe+empty_moov+default_base_moof",
                    "frag_size": str(_FRAGMENT_BYTES),
                },
            )

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Encoder and file errors: the partial file is removed, then one OutputError names :attr:`path`.

        FFmpeg can swallow a failed write (a full disk while the last fragment is flushed on close); the file object
        it writes through records the first OS error, so no failure goes unnoticed.
        """
        with write_errors(self.path):
            try:
                yield
                if self._file.error is not None:
                    raise self._file.error
            except BaseException as err:
                self.abort()
                recorded = self._file.error
                if recorded is not None and recorded is not err and isinstance(err, OSError | av.FFmpegError):
                    raise recorded from err
                raise

    def _open_stream(self, height: int, width: int) -> None:
        rate = Fraction(self.fps).limit_denominator(1001)
        if self.kind == "lossless":
            stream = self._container.add_stream("libx264rgb", rate=rate)
            stream.pix_fmt = "rgb24"
            stream.options = {"qp": "0", "preset": self.preset}
        else:
            stream = self._container.add_stream("libx264", rate=rate)
            stream.pix_fmt = "yuv420p" if height % 2 == 0 and width % 2 == 0 else "yuv444p"
            stream.options = {"crf": str(self.crf), "preset": self.preset}
            if self.deterministic:
                stream.options = {**stream.options, "x264-params": "asm=0:threads=1"}
        stream.height = height
        stream.width = width
        stream.codec_context.gop_size = max(1, round(self.fps * 2))
        self._stream = stream

    def write(self, frames: np.ndarray) -> None:
        """Append a chunk of frames: ``(T, H, W, 3)`` RGB or ``(T, H, W)`` grey, uint8."""
        frames = np.asarray(frames)
        if frames.dtype != np.uint8:
            raise TypeError(f"frames must be uint8, got {frames.dtype}")
        if frames.ndim == 3:
            frames = np.repeat(frames[..., None], 3, axis=3)
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (T, H, W, 3) or (T, H, W), got shape {frames.shape}")
        if self._stream is None:
            self._open_stream(frames.shape[1], frames.shape[2])
        elif frames.shape[1:3] != (self._stream.height, self._stream.width):
            raise ValueError(
                f"frame size {frames.shape[1:3]} differs from the first frames' "
                f"{(self._stream.height, self._stream.width)}"
            )
        with self._writing():
            for frame in frames:
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                for packet in self._stream.encode(video_frame):
                    self._container.mux(packet)
                self.frames_written += 1

    def write_frame(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` or ``(H, W)`` uint8 frame."""
        self.write(np.asarray(frame)[None])

    def close(self) -> None:
        """Flush the encoder and move the file to its final name."""
        if self._container is None:
            return
        if self._stream is None:
            self.abort()
            raise ValueError(f"{self.path}: no frames were written")
        with self._writing():
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
            self._file.close()
        with write_errors(self.path):
            try:
                # mkstemp made the temp file 0600; give the output the mode a plain open() would have.
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(self._temp_path, 0o666 & ~umask)
                os.replace(self._temp_path, self.path)
            except BaseException:
                self._temp_path.unlink(missing_ok=True)
                raise

    def abort(self) -> None:
        """Drop the partial file."""
        if self._container is not None:
            try:
                self._container.close()
            except (av.FFmpegError, OSError):
                pass
            self._container = None
        self._file.close()
        self._temp_path.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float,
    *,
    kind: WriterKind = "h264",
    crf: int = 18,
    deterministic: bool = False,
) -> Path:
    """Write a whole array of frames to ``path``; see :class:`VideoWriter`."""
    with VideoWriter(path, fps, kind=kind, crf=crf, deterministic=deterministic) as writer:
        writer.write(frames)
    return Path(path)
