"""The runnable examples in the studies modules' docstrings."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "studies.responses",
    "studies.intervals",
    "studies.design",
    "studies.bradley_terry",
    "studies.tallies",
    "studies.exclusions",
    "studies.position",
    "studies.agreement",
    "studies.models",
    "studies.power",
    "studies.simulate",
    "studies.design_check",
    "studies.packets",
    "studies.analysis",
    "studies.from_run",
    "studies.plots",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
