"""Fixtures of the VOID tests: a tiny real clip cut from upstream's BigBen sample, tiny pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from void_eval.video import read_video, write_video

#: Tiny BigBen: the first frames, downscaled (H, W).
TINY_FRAMES = 10
TINY_SIZE = (60, 90)


@pytest.fixture(scope="session")
def bigben_tiny(samples_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clip folder made from BigBen's first 10 frames at 90x60 (input h264, quadmask lossless, real prompt)."""
    source = samples_root / "BigBen"
    folder = tmp_path_factory.mktemp("clips") / "BigBen-tiny"
    folder.mkdir()
    height, width = TINY_SIZE
    frames = read_video(source / "input_video.mp4")[:TINY_FRAMES]
    frames = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames])
    red = read_video(source / "trimask_quadmask.mp4")[:TINY_FRAMES, ..., 0]
    red = np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_NEAREST) for f in red])
    write_video(folder / "input_video.mp4", frames, 12, kind="h264")
    write_video(folder / "quadmask_0.mp4", np.repeat(red[..., None], 3, axis=-1), 12, kind="lossless")
    (folder / "prompt.json").write_text((source / "prompt.json").read_text())
    json.loads((folder / "prompt.json").read_text())
    return folder
