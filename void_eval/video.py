"""Streaming video I/O on PyAV.

Frames travel as ``uint8`` RGB arrays shaped ``(T, H, W, 3)`` in chunks of a few frames, so memory does not grow
with clip length. Two writers cover the toolkit's needs: ``kind="h264"`` for viewable output and
``kind="lossless"`` (libx264rgb, qp 0) for data that must decode back bit-exact (masks, ground truth, heatmaps).
Every mp4 this module writes is fragmented (``empty_moov`` + fragments of at most a few MiB), so it streams and
can be signed with bounded memory, and it appears under its final name only once complete.

Examples
--------
>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "ramp.mp4")
>>> frames = np.repeat(np.arange(0, 240, 10, dtype=np.uint8)[:, None, None, None], 3, axis=3)
>>> frames = np.broadcast_to(frames, (24, 16, 32, 3))
>>> with VideoWriter(path, fps=12, kind="lossless") as writer:
...     writer.write(frames)
>>> probe(path).frames, probe(path).width
(24, 32)
>>> bool((read_video(path) == frames).all())
True
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

from void_eval.atomic import write_errors
from void_eval.errors import InputError

Interpolation = Literal["area", "torch-area", "nearest", "linear"]
WriterKind = Literal["h264", "lossless"]

_CV2_INTERPOLATION = {"area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR}
_FRAGMENT_BYTES = 4 * 1024 * 1024
_FRAME_THREADING_MAX_PIXELS = 1920 * 1088
#: Default of :func:`max_frame_pixels`: 8K UHD (7680x4320, 33.2 megapixels).
DEFAULT_MAX_PIXELS = 7680 * 4320
MAX_PIXELS_ENV = "VOID_EVAL_MAX_PIXELS"


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds, read without decoding pixels.

    Attributes
    ----------
    path : Path
        The file.
    frames : int
        Number of video frames (counted from the demuxed packets, so fragmented files count right).
    fps : float
        Average frame rate.
    height, width : int
        Frame size in pixels.
    codec : str
        Video codec name as FFmpeg spells it (``h264``, ``ffv1``, ...).
    pix_fmt : str
        Pixel format of the coded stream (``yuv420p``, ``gbrp``, ...).
    has_audio : bool
        Whether the container also carries an audio stream.
    """

    path: Path
    frames: int
    fps: float
    height: int
    width: int
    codec: str
    pix_fmt: str
    has_audio: bool


def _open_for_reading(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(path, "file not found")
    if not path.is_file():
        raise InputError(path, "is not a file")
    if path.stat().st_size == 0:
        raise InputError(path, "is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r")
    except av.FFmpegError as err:
        raise InputError(path, f"not a readable video ({_ffmpeg_reason(err)})") from err
    if not container.streams.video:
        container.close()
        raise InputError(path, "has no video stream")
    return container


def _ffmpeg_reason(err: Exception) -> str:
    reason = getattr(err, "strerror", None) or str(err)
    return str(reason).strip().rstrip(".")


def probe(path: str | Path) -> VideoInfo:
    """Read a video's metadata and count its frames without decoding them.

    Parameters
    ----------
    path : str or Path
        Video file.

    Returns
    -------
    VideoInfo

    Raises
    ------
    InputError
        When the file is missing, unreadable, has no video stream or no frames.
    """
    path = Path(path)
    container = _open_for_reading(path)
    with container:
        stream = container.streams.video[0]
        codec_context = stream.codec_context
        check_frame_size(path, int(codec_context.width), int(codec_context.height))
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else float("nan")
        frames = _count_frames(path, container, stream, fps)
        return VideoInfo(
            path=path,
            frames=frames,
            fps=fps,
            height=int(codec_context.height),
            width=int(codec_context.width),
            codec=codec_context.name,
            pix_fmt=str(codec_context.pix_fmt or ""),
            has_audio=bool(container.streams.audio),
        )


def _count_frames(path: Path, container, stream, fps: float) -> int:
    """Frames in the stream, counted from its packets; a file cut short (a packet read past its end) is an error.

    The count the index declares (``nb_frames``, else duration x fps: a lower bound for a fragmented file, whose
    fragments declare their own lengths) only words the message.
    """
    frames, cut = 0, False
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            if packet.is_corrupt:  # FFmpeg's mark on a packet read past the end of the file
                cut = True
                break
            frames += 1
    except av.FFmpegError as err:
        raise InputError(path, f"corrupt video data ({_ffmpeg_reason(err)})") from err
    declared = int(stream.frames or 0)
    if not declared and stream.duration and stream.time_base and fps == fps:
        declared = round(float(stream.duration * stream.time_base) * fps)
    if cut or frames < int(stream.frames or 0):
        raise InputError(path, f"truncated: read {frames} of {max(declared, frames + 1)} frames (the file ends early)")
    if frames == 0:
        raise InputError(path, "has no video frames")
    return frames


def max_frame_pixels() -> int:
    """The largest frame (width x height) any video may declare: ``$VOID_EVAL_MAX_PIXELS``, default 8K UHD.

    A few hundred bytes of mp4 can declare 10000x10000 frames (300 MB each as RGB); readers refuse such a file
    before decoding it rather than exhaust memory.

    Examples
    --------
    >>> try:
    ...     check_frame_size("bomb.mp4", 10000, 10000)
    ... except InputError as err:
    ...     print(str(err)[:58])
    bomb.mp4: declares 10000x10000 frames (100,000,000 pixels)
    """
    text = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(MAX_PIXELS_ENV, f"must be a positive whole number of pixels, got {text!r}")
    return value


def check_frame_size(path: str | Path, width: int, height: int) -> None:
    """Raise :class:`InputError` when a ``width`` x ``height`` frame is above :func:`max_frame_pixels`."""
    limit = max_frame_pixels()
    if width * height > limit:
        raise InputError(
            path,
            f"declares {width}x{height} frames ({width * height:,} pixels), above the limit of {limit:,} pixels "
            f"(set {MAX_PIXELS_ENV} to raise it)",
        )


def resize_frames(frames: np.ndarray, size: tuple[int, int], *, interpolation: Interpolation = "area") -> np.ndarray:
    """Resize ``(T, H, W[, C])`` uint8 frames to ``size = (height, width)``.

    Parameters
    ----------
    frames : np.ndarray
        uint8 frames, with or without a channel axis.
    size : tuple of int
        Target ``(height, width)``.
    interpolation : {"area", "torch-area", "nearest", "linear"}, keyword-only
        ``area`` is OpenCV's INTER_AREA; ``torch-area`` is ``torch.nn.functional.interpolate(mode="area")``
        (adaptive average pooling), the resize upstream VOID applies to videos and masks, returned as float32
        so that thresholds can be applied before any rounding.

    Returns
    -------
    np.ndarray
        Resized frames (uint8, or float32 for ``torch-area``).
    """
    height, width = size
    if interpolation == "torch-area":
        import torch
        import torch.nn.functional as F

        tensor = torch.from_numpy(np.ascontiguousarray(frames)).float()
        has_channels = tensor.ndim == 4
        if has_channels:
            tensor = tensor.permute(0, 3, 1, 2)
        else:
            tensor = tensor[:, None]
        out = F.interpolate(tensor, size=(height, width), mode="area")
        out = out.permute(0, 2, 3, 1) if has_channels else out[:, 0]
        return out.numpy()
    if frames.shape[1:3] == (height, width):
        return frames
    flag = _CV2_INTERPOLATION[interpolation]
    return np.stack([cv2.resize(frame, (width, height), interpolation=flag) for frame in frames])


class VideoReader:
    """Iterate a video's frames in chunks.

    Parameters
    ----------
    path : str or Path
        Video file.
    size : tuple of int, optional, keyword-only
        Resize every frame to ``(height, width)`` on the fly.
    interpolation : str, keyword-only
        See :func:`resize_frames`.

    Examples
    --------
    >>> reader = VideoReader(path)  # doctest: +SKIP
    >>> for chunk in reader.chunks(8):  # doctest: +SKIP
    ...     chunk.shape  # (<=8, H, W, 3) uint8
    """

    def __init__(
        self,
        path: str | Path,
        *,
        size: tuple[int, int] | None = None,
        interpolation: Interpolation = "area",
    ) -> None:
        self.path = Path(path)
        self.info = probe(self.path)
        self.size = size
        self.interpolation = interpolation

    @property
    def frames(self) -> int:
        """Number of frames the reader yields."""
        return self.info.frames

    def chunks(
        self,
        chunk_size: int = 16,
        *,
        start: int = 0,
        stop: int | None = None,
        as_torch: bool = False,
    ) -> Iterator[np.ndarray]:
        """Yield frames ``[start, stop)`` as arrays of at most ``chunk_size`` frames.

        Raises
        ------
        InputError
            When the stream ends before the frame count its index promised, or the data cannot be decoded.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        stop = self.info.frames if stop is None else min(stop, self.info.frames)
        buffer: np.ndarray | None = None
        filled = 0
        index = 0
        container = _open_for_reading(self.path)
        with container:
            stream = container.streams.video[0]
            # Frame threading keeps several decoded frames in flight; above 1080p slice threading holds one.
            large = self.info.width * self.info.height > _FRAME_THREADING_MAX_PIXELS
            stream.thread_type = "SLICE" if large else "AUTO"
            try:
                for frame in container.decode(stream):
                    if index >= stop:
                        break
                    if index >= start:
                        rgb = self._frame(frame, index)
                        if buffer is None:
                            # One array per chunk, filled in place: the chunk is never held twice.
                            buffer = np.empty((min(chunk_size, stop - index), *rgb.shape), dtype=rgb.dtype)
                        elif rgb.shape != buffer.shape[1:]:
                            raise InputError(
                                self.path, f"frame {index} is {rgb.shape[1]}x{rgb.shape[0]}, not like the frames before"
                            )
                        buffer[filled] = rgb
                        filled += 1
                        if filled == len(buffer):
                            yield self._finish(buffer, as_torch)
                            buffer, filled = None, 0
                    index += 1
            except av.FFmpegError as err:
                raise InputError(self.path, f"corrupt video data at frame {index} ({_ffmpeg_reason(err)})") from err
        if buffer is not None and filled:
            yield self._finish(buffer[:filled], as_torch)
        if index < stop:
            raise InputError(self.path, f"truncated: decoded {index} of {self.info.frames} frames")

    def _frame(self, frame: av.VideoFrame, index: int) -> np.ndarray:
        """One decoded frame as RGB, resized as it is decoded (memory follows the target size, not the file's)."""
        if frame.width * frame.height > self.info.width * self.info.height:  # a stream that grows mid-way
            check_frame_size(self.path, frame.width, frame.height)
        rgb = frame.to_ndarray(format="rgb24")
        if self.size is not None:
            rgb = resize_frames(rgb[None], self.size, interpolation=self.interpolation)[0]
        return rgb

    @staticmethod
    def _finish(chunk: np.ndarray, as_torch: bool):
        if as_torch:
            import torch

            return torch.from_numpy(np.ascontiguousarray(chunk))
        return chunk

    def read(self) -> np.ndarray:
        """Decode every frame into one array (convenience for short clips)."""
        return np.concatenate(list(self.chunks(64)))


def read_video(
    path: str | Path, *, size: tuple[int, int] | None = None, interpolation: Interpolation = "area"
) -> np.ndarray:
    """Decode a whole video into a ``(T, H, W, 3)`` uint8 array.

    Prefer :class:`VideoReader` for long or large clips: this holds every frame in memory.
    """
    return VideoReader(path, size=size, interpolation=interpolation).read()


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
