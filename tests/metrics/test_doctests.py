"""The runnable Examples in the metric modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "_exact",
    "base",
    "cf_score",
    "ewarp",
    "flicker",
    "flow",
    "lpips",
    "motion_iou",
    "preservation",
    "propainter",
    "psnr",
    "regions",
    "registry",
    "score",
    "seam",
    "shadow",
    "ssim",
    "trajectory",
    "winograd",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"void_eval.metrics.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
