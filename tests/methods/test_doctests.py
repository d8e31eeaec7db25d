"""The runnable Examples in the methods modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["base", "registry", "align", "precomputed", "recipe", "templates", "prepare", "tool", "external"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"void_eval.methods.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
