"""Streaming video I/O on PyAV.

Frames travel as ``uint8`` RGB arrays shaped ``(T, H, W, 3)`` in chunks of a few frames, so memory does not grow
with clip length. The writers (:class:`VideoWriter`, :func:`write_video`) live in :mod:`void_eval.video_writer` and are
re-exported here. Readers refuse files cut short (``truncated: ...``) and frames above :func:`max_frame_pixels`
before decoding them.

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

from void_eval.errors import InputError
from void_eval.video_writer import VideoWriter, WriterKind, write_video

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "MAX_PIXELS_ENV",
    "Interpolation",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "WriterKind",
    "check_frame_size",
    "max_frame_pixels",
    "probe",
    "read_video",
    "resize_frames",
    "write_video",
]

Interpolation = Literal["area", "torch-area", "nearest", "linear"]

_CV2_INTERPOLATION = {"area": cv2.INTER_AREA, "nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR}
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
    """Raise :class:`InputError` when a ``width`` x ``height`` frame is above :func:`max_frame_pixels`.

    Examples
    --------
    >>> try:
    ...     check_frame_size("bomb.mp4", 10000, 10000)
    ... except InputError as err:
    ...     print(str(err)[:58])
    bomb.mp4: declares 10000x10000 frames (100,000,000 pixels)
    """
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
                        rgb = self._frame(frame)
                        if buffer is None:
                            # One array per chunk, filled in place: the chunk is never held twice.
                            buffer = np.empty((min(chunk_size, stop - index), *rgb.shape), dtype=rgb.dtype)
                        elif rgb.shape != buffer.shape[1:]:
                            size = f"{rgb.shape[1]}x{rgb.shape[0]}"
                            raise InputError(self.path, f"frame {index} is {size}, unlike the frames before it")
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

    def _frame(self, frame: av.VideoFrame) -> np.ndarray:
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
