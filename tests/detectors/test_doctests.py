"""The runnable examples in the detector modules' docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "forensics.detectors.blocks",
    "forensics.detectors.noise",
    "forensics.detectors.residual",
    "forensics.detectors.spectral",
    "forensics.detectors.temporal",
    "forensics.detectors.flicker",
    "forensics.detectors.tracking",
    "forensics.detectors.copies",
    "forensics.detectors.signals",
    "forensics.detectors.features",
    "forensics.detectors.detect",
    "forensics.detectors.fusion",
    "forensics.detectors.scoring",
    "forensics.detectors.localisation",
    "forensics.detectors.dataset",
    "forensics.detectors.generators",
    "forensics.detectors.figures",
    "forensics.detectors.card",
    "forensics.detectors.intervals",
    "forensics.detectors.cli",
    "forensics.detectors.folds",
    "forensics.detectors.camera",
    "forensics.detectors.recipe",
    "forensics.detectors.train",
    "forensics.evaluate",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
