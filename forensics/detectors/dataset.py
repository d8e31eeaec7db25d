"""Detection examples: (clip, generator, degradation) -> per-frame block features, labels and pixel ground truth.

A *generator* is either ``"untouched"`` (the clip's input video as it is) or the name of a removal method from
:data:`void_eval.methods.registry.METHODS`, run on the clip. The ground truth of a processed video is the region
the method rewrote: the union of the quadmask levels in ``method.rewrites``, grown by the method's ``dilation``
parameter (how every built-in fill method defines its hole); an untouched video has none. A *degradation* then
re-encodes (h264 at a CRF) and/or resizes the video the way distribution would, and the ground truth follows the
resize (nearest).

Everything expensive is cached under a work folder keyed by clip, generator and its version, degradation, block
size and :data:`FEATURE_VERSION`, so training, evaluation and leave-one-generator-out runs share one extraction.

Examples
--------
>>> Degradation("crf23-x0.75", crf=23, scale=0.75).output_size(192, 256)
(144, 192)
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from forensics.detectors.blocks import block_fraction
from forensics.detectors.features import FEATURE_NAMES, BlockFeatureExtractor
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.quadmask import Quadmask
from void_eval.video import VideoReader, read_video, resize_frames, write_video

UNTOUCHED = "untouched"
#: Bump when features change: cached feature files of another version are recomputed.
FEATURE_VERSION = 2


@dataclass(frozen=True)
class Degradation:
    """A distribution step applied to a video before detection.

    Attributes
    ----------
    name : str
        Label used in tables and cache keys.
    crf : int or None
        Re-encode with libx264 yuv420p at this CRF (0-51); None keeps the frames as they are. The encode is
        deterministic (``VideoWriter(deterministic=True)``), so training data rebuilt from scratch is the same.
    scale : float
        Resize factor in (0, 1] (area interpolation) applied before encoding; sizes are rounded to even.
    """

    name: str
    crf: int | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.crf is not None and not 0 <= self.crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {self.crf}")
        if not 0 < self.scale <= 1:
            raise ValueError(f"scale must be in (0, 1], got {self.scale}")

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Frame size after the resize (even sides when scaled)."""
        if self.scale == 1.0:
            return height, width
        return max(2, round(height * self.scale / 2) * 2), max(2, round(width * self.scale / 2) * 2)

    def apply(self, frames: np.ndarray, fps: float) -> np.ndarray:
        """Degrade ``(T, H, W, 3)`` uint8 frames; returns the decoded result."""
        size = self.output_size(*frames.shape[1:3])
        if size != frames.shape[1:3]:
            frames = resize_frames(frames, size, interpolation="area")
        if self.crf is None:
            return frames
        with tempfile.TemporaryDirectory(prefix="degrade-") as folder:
            path = Path(folder) / "degraded.mp4"
            write_video(path, frames, fps, kind="h264", crf=self.crf, deterministic=True)
            return read_video(path)

    def apply_mask(self, mask: np.ndarray) -> np.ndarray:
        """Resize a ``(T, H, W)`` bool ground truth like :meth:`apply` resizes frames (nearest)."""
        size = self.output_size(*mask.shape[1:3])
        if size == mask.shape[1:3]:
            return mask
        return resize_frames(mask.astype(np.uint8), size, interpolation="nearest").astype(bool)


#: The degradations used for training and evaluation unless told otherwise.
DEFAULT_DEGRADATIONS: tuple[Degradation, ...] = (
    Degradation("lossless"),
    Degradation("crf18", crf=18),
    Degradation("crf28", crf=28),
    Degradation("crf23-x0.75", crf=23, scale=0.75),
)


def rewritten_region(mask: Quadmask, method) -> np.ndarray:
    """``(T, H, W)`` bool: pixels ``method`` may rewrite (its ``rewrites`` levels, grown by its ``dilation``)."""
    region = np.isin(mask.levels, np.array([int(level) for level in method.rewrites], np.uint8))
    dilation = int(method.params.get("dilation", 0) or 0)
    if dilation > 0 and region.any():
        kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
        region = np.stack([cv2.dilate(frame.astype(np.uint8), kernel) > 0 for frame in region])
    return region


def clip_group(clip_path: str | Path) -> str:
    """What a clip's content comes from: ``meta.json``'s ``source`` (the footage a real-footage clip was cut from),
    else the clip folder's name.

    Clips cut from one video share frames and scenery, so splits and folds keep a group on one side: otherwise the
    untouched negatives of "held-out" clips would be pixels the model trained on.

    Examples
    --------
    >>> clip_group("/nowhere/000_occlusion")
    '000_occlusion'
    """
    path = Path(clip_path)
    meta = path / "meta.json"
    if meta.is_file():
        try:
            source = json.loads(meta.read_text()).get("source")
        except (OSError, ValueError, AttributeError) as err:
            raise InputError(meta, f"unreadable meta.json: {err}") from err
        if isinstance(source, str) and source:
            return source
    return path.name


@dataclass
class Example:
    """One degraded video's features and truth.

    Attributes
    ----------
    clip, generator, degradation : str
        What it is.
    features : np.ndarray
        ``(T, rows, cols, F)`` float32 block features.
    block_truth : np.ndarray
        ``(T, rows, cols)`` float32 share of rewritten pixels in each block.
    truth : np.ndarray
        ``(T, H, W)`` bool pixel ground truth (all False for untouched videos).
    block : int
        Block size in pixels.
    group : str
        What the clip's content comes from (:func:`clip_group`); clips of one group are never split between
        training and evaluation. Defaults to the clip's name.
    """

    clip: str
    generator: str
    degradation: str
    features: np.ndarray
    block_truth: np.ndarray
    truth: np.ndarray
    block: int
    group: str = ""

    def __post_init__(self) -> None:
        if not self.group:
            self.group = self.clip

    @property
    def processed(self) -> bool:
        """Whether a method touched the video (the video-level label)."""
        return self.generator != UNTOUCHED


def method_output(clip: Clip, method_name: str, work_dir: Path) -> Path:
    """Run (or reuse the cached output of) a registered method on a clip; returns the output video path."""
    from void_eval.methods.registry import get_method

    method = get_method(method_name)
    folder = work_dir / "outputs" / clip.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{method_name}-v{method.version}.mp4"
    if not path.is_file():
        method.run(clip, path)
    return path


def _method_version(name: str) -> str:
    from void_eval.methods.registry import get_method

    return str(get_method(name).version)


def method_versions(generators: tuple[str, ...]) -> dict[str, str]:
    """``{method: version}`` of the methods among ``generators`` (the cache key and the model card use them)."""
    return {name: _method_version(name) for name in generators if name != UNTOUCHED}


def _video_features(frames: np.ndarray, block: int) -> np.ndarray:
    extractor = BlockFeatureExtractor(block=block)
    return np.stack([extractor.update(frame).features for frame in frames])


def build_example(
    clip_path: str | Path,
    generator: str,
    degradation: Degradation,
    work_dir: str | Path,
    *,
    block: int = 16,
    max_frames: int | None = None,
) -> Example:
    """Features and truth of one (clip, generator, degradation), cached under ``work_dir/features``."""
    work_dir = Path(work_dir)
    clip = Clip.load(clip_path)
    label = generator if generator == UNTOUCHED else f"{generator}-v{_method_version(generator)}"
    cache = work_dir / "features" / clip.name / f"{label}__{degradation.name}__b{block}__v{FEATURE_VERSION}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            truth_shape = tuple(int(v) for v in stored["truth_shape"])
            truth = np.unpackbits(stored["truth_bits"])[: int(np.prod(truth_shape))].reshape(truth_shape).astype(bool)
            return Example(
                clip.name,
                generator,
                degradation.name,
                stored["features"],
                stored["block_truth"],
                truth,
                block,
                clip_group(clip_path),
            )
    stop = clip.frames if max_frames is None else min(max_frames, clip.frames)
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))[:stop]
    if generator == UNTOUCHED:
        source = clip.input_path
        truth = np.zeros(mask.levels.shape, bool)
    else:
        from void_eval.methods.registry import get_method

        source = method_output(clip, generator, work_dir)
        truth = rewritten_region(mask, get_method(generator))
    frames = np.concatenate(list(VideoReader(source).chunks(32, stop=stop)))
    frames = degradation.apply(frames, clip.fps)
    truth = degradation.apply_mask(truth)
    features = _video_features(frames, block)
    block_truth = np.stack([block_fraction(frame, block) for frame in truth])
    cache.parent.mkdir(parents=True, exist_ok=True)
    temp = cache.with_name(cache.stem + ".part.npz")
    np.savez_compressed(
        temp,
        features=features,
        block_truth=block_truth,
        truth_bits=np.packbits(truth.ravel()),
        truth_shape=np.asarray(truth.shape),
        feature_names=np.asarray(FEATURE_NAMES),
    )
    temp.replace(cache)
    return Example(clip.name, generator, degradation.name, features, block_truth, truth, block, clip_group(clip_path))


def sample_blocks(
    examples: list[Example],
    *,
    seed: int,
    negatives_per_positive: float = 1.5,
    negatives_per_frame: int = 8,
    positive_share: float = 0.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows from examples: every block at least ``positive_share`` rewritten is a positive; blocks with
    no rewritten pixel are negatives, subsampled; partly rewritten blocks are left out.

    Returns
    -------
    tuple of np.ndarray
        ``(X (N, F) float32, y (N,) int8, weight (N,) float64)`` with class weights balancing the two classes.
    """
    rng = np.random.default_rng(seed)
    rows_x, rows_y = [], []
    for example in examples:
        features = example.features.reshape(-1, example.features.shape[-1])
        share = example.block_truth.reshape(-1)
        positive = np.flatnonzero(share >= positive_share)
        negative = np.flatnonzero(share == 0)
        wanted = max(int(len(positive) * negatives_per_positive), negatives_per_frame * example.features.shape[0])
        if len(negative) > wanted:
            negative = rng.choice(negative, size=wanted, replace=False)
        rows_x.append(features[positive])
        rows_y.append(np.ones(len(positive), np.int8))
        rows_x.append(features[negative])
        rows_y.append(np.zeros(len(negative), np.int8))
    x = np.concatenate(rows_x)
    y = np.concatenate(rows_y)
    counts = np.bincount(y, minlength=2).astype(np.float64)
    if (counts == 0).any():
        raise ValueError(f"training rows need both classes, got {int(counts[0])} negatives, {int(counts[1])} positives")
    weight = np.where(y == 1, 0.5 / counts[1], 0.5 / counts[0]) * len(y)
    return x, y, weight
