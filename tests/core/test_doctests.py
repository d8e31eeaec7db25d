"""The runnable Examples of the core modules that have no test file of their own."""

from __future__ import annotations

import doctest

import pytest

import void_eval.hashing
import void_eval.segmentation


@pytest.mark.parametrize("module", [void_eval.hashing, void_eval.segmentation], ids=lambda module: module.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
