"""Fixtures of the detector tests: tiny clips cut from real footage, and a telea fill on real footage."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_footage(tmp_path_factory) -> list[Path]:
    """Three 8-frame 64x96 clips of real footage with drifting elliptic REMOVE masks."""
    from forensics.detectors.footage import make_footage_clips

    return make_footage_clips(tmp_path_factory.mktemp("footage"), count=3, seed=1, frames=8, size=(64, 96))


@pytest.fixture(scope="session")
def telea_fill(tmp_path_factory) -> tuple[Path, Path]:
    """``(input, output)``: a 12-frame 160x224 real-footage clip and its telea fill (lossless)."""
    from forensics.detectors.footage import make_footage_clips
    from void_eval.clip import Clip
    from void_eval.methods.registry import get_method

    root = tmp_path_factory.mktemp("fill")
    (clip_path,) = make_footage_clips(root / "clips", count=1, seed=4, frames=12, size=(160, 224))
    clip = Clip.load(clip_path)
    output = get_method("telea").run(clip, root / "telea.mp4")
    return clip_path, output
