"""A tiny suite, generated once per test session, shared by the suite tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from void_eval.suite.make import FAMILIES, make_suite

TINY = {"preset": "tiny", "clips": len(FAMILIES), "frames": 24, "size": (72, 128), "seed": 3}


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory) -> dict[str, Path]:
    """One clip per family (24 frames, 72x128): ``{family: clip folder}``."""
    root = tmp_path_factory.mktemp("suite") / "tiny"
    paths = make_suite(root, progress=False, workers=1, **TINY)
    by_family = {path.name.split("_", 1)[1]: path for path in paths}
    assert sorted(by_family) == sorted(FAMILIES)
    return by_family
