"""Detection examples: (clip, generator, degradation) -> per-frame block signals, labels and pixel ground truth.

A *generator* is either ``"untouched"`` (the clip's input video as it is) or a fill generator
(:func:`forensics.detectors.generators.get_generator`: a registered removal method or one of the detector's own
fills) run on the clip. The ground truth of a processed video is the region the generator rewrote: the union of
the quadmask levels in ``rewrites``, grown by its ``dilation`` parameter (how every fill here defines its hole);
an untouched video has none. A *degradation* then re-encodes (h264 at a CRF) and/or resizes the video the way
distribution would, and the ground truth follows the resize (nearest).

The expensive part, the block signals (:mod:`forensics.detectors.signals`), is cached under a work folder keyed by
clip (its name and :func:`clip_digest`, the hash of its files: two clips of one name never share an entry), generator
and its version, degradation, block size and :data:`SIGNAL_VERSION`; features are derived from the
signals when needed (:meth:`Example.features`, cheap), so training, evaluation and leave-one-generator-out runs
share one extraction, and a change of the context stage re-reads no video.

Examples
--------
>>> Degradation("crf23-x0.75", crf=23, scale=0.75).output_size(192, 256)
(144, 192)
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from forensics.detectors.blocks import block_fraction
from forensics.detectors.features import features_from_signals
from forensics.detectors.generators import get_generator
from forensics.detectors.signals import FRAME_SIGNAL_NAMES, SIGNAL_NAMES, SignalExtractor
from void_eval.atomic import atomic_path
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.hashing import file_sha256
from void_eval.quadmask import Quadmask
from void_eval.video import VideoReader, read_video, resize_frames, write_video

UNTOUCHED = "untouched"
#: Bump when signals change: cached signal files of another version are recomputed.
SIGNAL_VERSION = 3


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
    """``(T, H, W)`` bool: pixels a generator may rewrite (its ``rewrites`` levels, grown by its ``dilation``)."""
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
    """One degraded video's block signals and truth.

    Attributes
    ----------
    clip, generator, degradation : str
        What it is.
    signals : np.ndarray
        ``(T, rows, cols, S)`` float32 block signals (:data:`~forensics.detectors.signals.SIGNAL_NAMES`).
    flows : np.ndarray
        ``(T, rows, cols, 2)`` float32 block flow towards the previous frame.
    frame_values : np.ndarray
        ``(T, len(FRAME_SIGNAL_NAMES))`` float32 frame-level signals.
    block_truth : np.ndarray
        ``(T, rows, cols)`` float32 share of rewritten pixels in each block.
    truth_bits : np.ndarray
        The ``(T, H, W)`` bool pixel ground truth, bit-packed (:attr:`truth` unpacks it; all False when untouched).
    truth_shape : tuple of int
        ``(T, H, W)``.
    block : int
        Block size in pixels.
    group : str
        What the clip's content comes from (:func:`clip_group`); clips of one group are never split between
        training and evaluation. Defaults to the clip's name.
    """

    clip: str
    generator: str
    degradation: str
    signals: np.ndarray
    flows: np.ndarray
    frame_values: np.ndarray
    block_truth: np.ndarray
    truth_bits: np.ndarray
    truth_shape: tuple[int, int, int]
    block: int
    group: str = ""
    _kept: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.group:
            self.group = self.clip

    @property
    def processed(self) -> bool:
        """Whether a generator touched the video (the video-level label)."""
        return self.generator != UNTOUCHED

    @property
    def truth(self) -> np.ndarray:
        """``(T, H, W)`` bool pixel ground truth."""
        count = int(np.prod(self.truth_shape))
        return np.unpackbits(self.truth_bits, count=count).reshape(self.truth_shape).astype(bool)

    def features(self, *, keep: bool = False) -> np.ndarray:
        """``(T, rows, cols, F)`` float32 block features (:func:`.features.features_from_signals`).

        With ``keep`` the result is kept and returned by later calls (training reads each example's features once
        for its rows and once for its out-of-fold scores; keeping them halves the work at the cost of memory).
        """
        if self._kept is not None:
            return self._kept
        features = features_from_signals(self.signals, self.flows, self.frame_values, block=self.block)
        if keep:
            self._kept = features
        return features

    def forget_features(self) -> None:
        """Drop features kept by :meth:`features`."""
        self._kept = None


def clip_digest(clip_path: str | Path) -> str:
    """16 hex digits of a sha256 over a clip folder's files (relative names and contents): its cache key here.

    Suite clips are named ``000_support``... whatever their seed, and footage clips keep their names when re-cut;
    keyed by name alone, a second clip of one name would be scored with the first one's signals and truth.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "input_video.mp4").write_bytes(b"one")
    >>> first = clip_digest(folder)
    >>> _ = (folder / "input_video.mp4").write_bytes(b"two")
    >>> len(first), first != clip_digest(folder)
    (16, True)
    """
    folder = Path(clip_path)
    digest = hashlib.sha256()
    files = (item for item in folder.rglob("*") if item.is_file() and not item.name.startswith("."))
    for path in sorted(files):  # hidden names: a killed writer's temporary files, desktop litter
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:16]


def _cache_folder(work_dir: Path, kind: str, clip_path: str | Path) -> Path:
    """``work_dir/kind/<clip name>-<clip digest>``."""
    return work_dir / kind / f"{Path(clip_path).name}-{clip_digest(clip_path)}"


def generator_output(clip: Clip, generator: str, work_dir: Path) -> Path:
    """Run (or reuse the cached output of) a generator on a clip; returns the output video path.

    The output is written under a temporary name and moved into place, so an interrupted fill is never reused.
    """
    method = get_generator(generator)
    folder = _cache_folder(work_dir, "outputs", clip.path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{generator}-v{method.version}.mp4"
    if not path.is_file():
        with atomic_path(path) as temp:
            method.run(clip, temp)
    return path


def generator_versions(generators: tuple[str, ...]) -> dict[str, str]:
    """``{generator: version}`` of the generators other than untouched (the cache key and the model card use them)."""
    return {name: str(get_generator(name).version) for name in generators if name != UNTOUCHED}


def video_signals(frames: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(signals, flows, frame_values)`` of ``(T, H, W, 3)`` frames (see :class:`Example`)."""
    extractor = SignalExtractor(block=block)
    out = [extractor.update(frame) for frame in frames]
    return (
        np.stack([item.values for item in out]),
        np.stack([item.flow for item in out]),
        np.stack([item.frame for item in out]),
    )


def _load_cached(cache: Path, names: tuple[str, str, str, str], block: int) -> Example:
    with np.load(cache, allow_pickle=False) as stored:
        return Example(
            *names[:3],
            signals=stored["signals"],
            flows=stored["flows"],
            frame_values=stored["frame_values"],
            block_truth=stored["block_truth"],
            truth_bits=stored["truth_bits"],
            truth_shape=tuple(int(v) for v in stored["truth_shape"]),
            block=block,
            group=names[3],
        )


def build_example(
    clip_path: str | Path,
    generator: str,
    degradation: Degradation,
    work_dir: str | Path,
    *,
    block: int = 16,
) -> Example:
    """Signals and truth of one (clip, generator, degradation), cached under ``work_dir/signals``."""
    work_dir, name = Path(work_dir), Path(clip_path).name
    label = generator if generator == UNTOUCHED else f"{generator}-v{get_generator(generator).version}"
    cache = (
        _cache_folder(work_dir, "signals", clip_path) / f"{label}__{degradation.name}__b{block}__s{SIGNAL_VERSION}.npz"
    )
    names = (name, generator, degradation.name, clip_group(clip_path))
    if cache.is_file():  # the clip is not even opened: probing its videos costs more than loading the signals
        return _load_cached(cache, names, block)
    clip = Clip.load(clip_path)
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))
    if generator == UNTOUCHED:
        source = clip.input_path
        truth = np.zeros(mask.levels.shape, bool)
    else:
        source = generator_output(clip, generator, work_dir)
        truth = rewritten_region(mask, get_generator(generator))
    frames = degradation.apply(np.concatenate(list(VideoReader(source).chunks(32))), clip.fps)
    truth = degradation.apply_mask(truth)
    signals, flows, frame_values = video_signals(frames, block)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as temp:
        np.savez_compressed(
            temp,
            signals=signals,
            flows=flows,
            frame_values=frame_values,
            block_truth=np.stack([block_fraction(frame, block) for frame in truth]),
            truth_bits=np.packbits(truth.ravel()),
            truth_shape=np.asarray(truth.shape),
            signal_names=np.asarray(SIGNAL_NAMES),
            frame_signal_names=np.asarray(FRAME_SIGNAL_NAMES),
        )
    return _load_cached(cache, names, block)


def sample_rows(
    example: Example,
    features: np.ndarray,
    rng: np.random.Generator,
    *,
    positives: int,
    negatives: int,
    positive_share: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Training rows of one example: ``(X (N, F) float32, y (N,) int8)``.

    Blocks at least ``positive_share`` rewritten are positives, blocks with no rewritten pixel negatives; at most
    ``positives`` and ``negatives`` of each are drawn (uniformly over the video's frames and blocks); partly
    rewritten blocks are left out.
    """
    flat = features.reshape(-1, features.shape[-1])
    share = example.block_truth.reshape(-1)
    chosen_positive = np.flatnonzero(share >= positive_share)
    chosen_negative = np.flatnonzero(share == 0)
    if len(chosen_positive) > positives:
        chosen_positive = np.sort(rng.choice(chosen_positive, size=positives, replace=False))
    if len(chosen_negative) > negatives:
        chosen_negative = np.sort(rng.choice(chosen_negative, size=negatives, replace=False))
    rows = np.concatenate([chosen_positive, chosen_negative])
    labels = np.concatenate([np.ones(len(chosen_positive), np.int8), np.zeros(len(chosen_negative), np.int8)])
    return flat[rows], labels
