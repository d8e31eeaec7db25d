"""The suite modules' docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "spec",
    "textures",
    "bullet",
    "physics",
    "render",
    "world",
    "quadmask_from_render",
    "tracks",
    "acceptance",
    "scenarios",
    "scene_parts",
    "rigid_parts",
    "quaternions",
    "mocap",
    "humanoid",
    "actor",
    "human_meta",
    "scenarios_human",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(f"void_eval.suite.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
