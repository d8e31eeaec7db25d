"""Fixtures for runner tests: a folder of small synthetic clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

#: Metrics the runner tests score with (fast ones; the full set is exercised by the demo and report tests).
FAST_METRICS = ("psnr", "cf_score", "flicker")


@pytest.fixture
def clips_root(make_clip, tmp_path) -> Callable[..., Path]:
    """Build ``count`` synthetic clips under ``tmp_path`` (named c0, c1, ...) and return their parent folder."""

    def build(count: int = 2, *, frames: int = 8) -> Path:
        for index in range(count):
            make_clip(f"c{index}", frames=frames)
        return tmp_path

    return build
