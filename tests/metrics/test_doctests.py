"""The runnable Examples in the metric modules' docstrings (every module of void_eval.metrics that has one)."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import void_eval.metrics

MODULES = [
    info.name
    for info in pkgutil.iter_modules(void_eval.metrics.__path__)
    if ">>>"
    in (
        importlib.util.find_spec(f"void_eval.metrics.{info.name}").loader.get_source(f"void_eval.metrics.{info.name}")
        or ""
    )
]


def test_the_modules_with_examples_are_found():
    assert {"psnr", "ssim", "lpips", "ewarp", "warp", "spec", "registry", "regions"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"void_eval.metrics.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
