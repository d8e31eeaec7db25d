"""Fixtures of the detector tests: tiny clips cut from real footage, and a telea fill on real footage."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_footage(tmp_path_factory) -> list[Path]:
    """Three 8-frame clips (at most 64x96) with moving-blob REMOVE masks: a real video and two photographs filmed."""
    from forensics.detectors.footage import installed_footage, make_footage_clips

    found = installed_footage()
    sources = {name: found[name] for name in ("carphone_pristine", "coins", "chelsea")}
    root = tmp_path_factory.mktemp("footage")
    return make_footage_clips(root, sources, per_source=1, seed=1, frames=8, window=(64, 96))


@pytest.fixture(scope="session")
def telea_fill(tmp_path_factory) -> tuple[Path, Path]:
    """``(input, output)``: a 12-frame 160x224 clip of real footage (bikes) and its telea fill (lossless)."""
    from forensics.detectors.footage import installed_footage, make_footage_clips
    from void_eval.clip import Clip
    from void_eval.methods.registry import get_method

    root = tmp_path_factory.mktemp("fill")
    sources = {"bikes": installed_footage()["bikes"]}
    (clip_path,) = make_footage_clips(root / "clips", sources, per_source=1, seed=4, frames=12, window=(160, 224))
    clip = Clip.load(clip_path)
    output = get_method("telea").run(clip, root / "telea.mp4")
    return clip_path, output
