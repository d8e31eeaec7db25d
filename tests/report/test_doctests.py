"""The runnable Examples in the report modules' docstrings."""

from __future__ import annotations

import doctest

import pytest

from void_eval.report import board, metric_guide, render, strips, tables


@pytest.mark.parametrize("module", [board, metric_guide, render, strips, tables], ids=lambda module: module.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
