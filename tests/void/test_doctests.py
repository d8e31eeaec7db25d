"""The runnable Examples in the VOID modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "padding",
    "windows",
    "conditioning",
    "noise_warp",
    "pass2_noise",
    "seeding",
    "checkpoint",
    "tiny",
    "method",
    "passes",
    "pipeline",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"void_eval.void.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
