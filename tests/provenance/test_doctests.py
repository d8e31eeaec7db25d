"""The Examples in the provenance modules' docstrings run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "void_eval.atomic",
    "forensics.provenance.keys",
    "forensics.provenance.record",
    "forensics.provenance.signer_callback",
    "forensics.provenance.sign",
    "forensics.provenance.prepare",
    "forensics.provenance.background_writer",
    "forensics.provenance.sign_run",
    "forensics.provenance.verify",
    "forensics.provenance.demo_step",
    "forensics.provenance.codes",
    "forensics.provenance.store",
    "forensics.provenance.fragment",
    "forensics.provenance.mp4_boxes",
    "forensics.provenance.job",
    "forensics.provenance.embed",
    "forensics.provenance.manifest",
    "forensics.provenance.parent",
    "forensics.provenance.signer",
    "forensics.check",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
