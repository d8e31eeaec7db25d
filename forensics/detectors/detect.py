"""Detect filled-in regions in a video: a calibrated video score, per-frame scores and a pixel heatmap.

:func:`detect_video` streams the video once: block features (:mod:`.features`), fused block probabilities
(:mod:`.fusion`), frame and video scores on the model's calibrated scale (:mod:`.scoring`: a video or frame scoring
0.5 or more is flagged; the model card states the share of untouched held-out footage that was). With ``out_dir``
it also writes ``<stem>_heatmap.mp4``, a lossless grey video at the input's size, length and frame rate whose pixels
are the probability of having been filled in times 255, and ``<stem>_strip.png``, four frames with the heatmap
overlaid (red = likely filled) above the heatmap itself.

Examples
--------
>>> result = detect_video("clip/input_video.mp4", out_dir="detections")  # doctest: +SKIP
>>> round(result.video_score, 3), len(result.frame_scores), result.heatmap.name  # doctest: +SKIP
(0.912, 24, 'input_video_heatmap.mp4')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from forensics.detectors.features import FEATURE_NAMES, BlockFeatureExtractor, FrameFeatures
from forensics.detectors.fusion import FusionModel, load_model
from forensics.detectors.scoring import FLAG_AT, heatmap_frame, score_probabilities
from void_eval.atomic import atomic_path
from void_eval.errors import InputError
from void_eval.video import VideoReader, VideoWriter

STRIP_FRAMES = 4


@dataclass
class DetectionResult:
    """What :func:`detect_video` found in one file.

    Attributes
    ----------
    file : Path
        The video.
    video_score : float
        In [0, 1], on the model's calibrated scale (flagged from :data:`~forensics.detectors.scoring.FLAG_AT`).
    frame_scores : list of float
        One score in [0, 1] per frame, on the same calibrated scale.
    heatmap : Path or None
        The heatmap video, when written.
    strip : Path or None
        The overlay strip PNG, when written.
    block_probabilities : np.ndarray or None
        ``(T, rows, cols)`` float32 block probabilities (kept when ``keep_blocks=True``).
    model_version : str
        Version of the fusion model used.
    raw_video_score : float
        The video score before calibration.
    calibration : dict or None
        The model's calibration (:class:`~forensics.detectors.scoring.Calibration` as JSON); None when the model has
        none (scores are then raw).
    """

    file: Path
    video_score: float
    frame_scores: list[float]
    heatmap: Path | None = None
    strip: Path | None = None
    block_probabilities: np.ndarray | None = field(default=None, repr=False)
    model_version: str = ""
    raw_video_score: float = float("nan")
    calibration: dict | None = None

    @property
    def threshold(self) -> float:
        """The score from which a video or frame is flagged: the calibrated threshold (0.5 without calibration)."""
        return float(self.calibration.get("flag_at", FLAG_AT)) if self.calibration else FLAG_AT

    def to_json(self) -> dict:
        """``{"file", "video_score", "frame_scores", "heatmap"}`` (+ strip, model version, threshold)."""
        return {
            "file": str(self.file),
            "video_score": self.video_score,
            "frame_scores": self.frame_scores,
            "heatmap": str(self.heatmap) if self.heatmap else None,
            "strip": str(self.strip) if self.strip else None,
            "model_version": self.model_version,
            "threshold": self.threshold,
            "raw_video_score": self.raw_video_score,
        }


def _check_model(model: FusionModel) -> int:
    if tuple(model.feature_names) != FEATURE_NAMES:
        raise ValueError("the model was trained on other features than this version computes; retrain it")
    return int(model.extra.get("block", 16))


def detect_video(
    path: str | Path,
    *,
    model: FusionModel | None = None,
    out_dir: str | Path | None = None,
    chunk_size: int = 16,
    keep_blocks: bool = False,
    name: str | None = None,
) -> DetectionResult:
    """Score one video.

    Parameters
    ----------
    path : str or Path
        Video file.
    model : FusionModel, optional, keyword-only
        Fusion model (default: the shipped one).
    out_dir : str or Path, optional, keyword-only
        Folder (created) for ``<stem>_heatmap.mp4`` and ``<stem>_strip.png``.
    chunk_size : int, keyword-only
        Frames decoded at a time.
    keep_blocks : bool, keyword-only
        Return the block probabilities too.
    name : str, optional, keyword-only
        Name of the files in ``out_dir`` in place of the video's stem (``<name>_heatmap.mp4``).

    Raises
    ------
    InputError
        Unreadable video, or a frame smaller than one block.
    """
    path = Path(path)
    model = load_model() if model is None else model
    block = _check_model(model)
    reader = VideoReader(path)
    info = reader.info
    if info.height < block or info.width < block:
        raise InputError(path, f"frames of {info.width}x{info.height} are smaller than one {block}-px block")
    output = None if out_dir is None else _HeatmapOutput(name or path.stem, Path(out_dir), info, block)
    frames = (frame for chunk in reader.chunks(chunk_size) for frame in chunk)
    probabilities: list[np.ndarray] = []
    try:
        for index, (frame, block_map) in enumerate(block_maps(frames, BlockFeatureExtractor(block=block), model)):
            probabilities.append(block_map.astype(np.float32))
            if output is not None:
                output.add(frame, block_map, index)
    except BaseException:
        if output is not None:
            output.writer.abort()
        raise
    strip_path = output.close() if output is not None else None
    stacked = np.stack(probabilities)
    calibration = model.extra.get("calibration")
    scores = score_probabilities(stacked, model.extra.get("video_model"), calibration)
    return DetectionResult(
        file=path,
        video_score=scores.video,
        frame_scores=scores.frames,
        heatmap=None if output is None else output.path,
        strip=strip_path,
        block_probabilities=stacked if keep_blocks else None,
        model_version=model.version,
        raw_video_score=scores.raw_video,
        calibration=calibration,
    )


def _block_map(model: FusionModel, features: FrameFeatures) -> np.ndarray:
    rows, cols = features.grid.shape
    return model.predict_proba(features.features.reshape(rows * cols, -1)).reshape(rows, cols)


def block_maps(
    frames: Iterable[np.ndarray], extractor: BlockFeatureExtractor, model: FusionModel
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(frame, block probabilities (rows, cols) float64)`` for each frame, in order.

    The trees of frame ``t`` walk in a worker thread while frame ``t + 1``'s features are computed (both release
    the GIL for most of their time), so the two stages share the cores; the values are those of running them one
    after the other (tested).

    Examples
    --------
    >>> frames = np.zeros((2, 32, 48, 3), np.uint8)
    >>> maps = list(block_maps(frames, BlockFeatureExtractor(block=16), load_model()))
    >>> len(maps), maps[0][1].shape
    (2, (2, 3))
    """
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending: tuple[np.ndarray, Future] | None = None
        for frame in frames:
            job = worker.submit(_block_map, model, extractor.update(frame))
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (frame, job)
        if pending is not None:
            yield pending[0], pending[1].result()


class _HeatmapOutput:
    """The heatmap video being written, and the frames kept for the overlay strip."""

    def __init__(self, stem: str, out_dir: Path, info, block: int) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / f"{stem}_heatmap.mp4"
        self.strip_path = out_dir / f"{stem}_strip.png"
        self.size, self.block = (info.height, info.width), block
        count = min(STRIP_FRAMES, info.frames)
        self.picks = set(np.linspace(0, info.frames - 1, count).round().astype(int).tolist())
        self.kept: list[tuple[np.ndarray, np.ndarray]] = []
        fps = info.fps if np.isfinite(info.fps) and info.fps > 0 else 25.0
        self.writer = VideoWriter(self.path, fps, kind="lossless", preset="ultrafast")  # qp 0: still bit-exact

    def add(self, frame: np.ndarray, block_map: np.ndarray, index: int) -> None:
        """Write the frame's heatmap (and keep it with the frame when it is one of the strip's)."""
        heat = heatmap_frame(block_map, *self.size, self.block)
        self.writer.write(heat[None])
        if index in self.picks:
            self.kept.append((frame, heat))

    def close(self) -> Path:
        """Finish the heatmap video and write the strip; returns the strip's path."""
        self.writer.close()
        return write_overlay_strip(self.kept, self.strip_path)


def overlay(frame: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """Blend an 8-bit heatmap into an RGB frame: red with opacity proportional to the probability."""
    alpha = (heatmap.astype(np.float32) / 255.0)[..., None] * 0.7
    red = np.zeros_like(frame, dtype=np.float32)
    red[..., 0] = 255.0
    return np.clip(frame.astype(np.float32) * (1 - alpha) + red * alpha, 0, 255).astype(np.uint8)


def write_overlay_strip(kept: list[tuple[np.ndarray, np.ndarray]], path: Path, *, max_width: int = 1600) -> Path:
    """PNG of frames with their heatmap overlaid (top row) above the grey heatmaps (bottom row), written atomically."""
    if not kept:
        raise ValueError("no frames to draw")
    top = np.concatenate([overlay(frame, heat) for frame, heat in kept], axis=1)
    bottom = np.concatenate([np.repeat(heat[..., None], 3, axis=2) for _, heat in kept], axis=1)
    strip = np.concatenate([top, bottom], axis=0)
    if strip.shape[1] > max_width:
        scale = max_width / strip.shape[1]
        strip = cv2.resize(strip, (max_width, max(1, round(strip.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    with atomic_path(path) as temp:
        if not cv2.imwrite(str(temp), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {path}")
    return path
