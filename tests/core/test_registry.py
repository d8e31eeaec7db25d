"""The typed registry: lazy targets, duplicates, did-you-mean, entry points."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from void_eval import registry as registry_module
from void_eval.registry import Registry


def test_lazy_targets_import_on_first_use():
    reg = Registry("thing", entry_point_group=None)
    reg.add("ordered", "collections:OrderedDict")
    from collections import OrderedDict

    assert reg.get("ordered") is OrderedDict and "ordered" in reg


def test_duplicates_and_bad_targets_are_errors():
    reg = Registry("thing", entry_point_group=None)
    reg.add("a", "collections:OrderedDict")
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", "collections:deque")
    with pytest.raises(ValueError, match="package.module:Object"):
        reg.add("b", "collections.deque")


def test_unknown_names_suggest_close_ones():
    reg = Registry("method", entry_point_group=None)
    reg.add("flowprop", "collections:deque")
    with pytest.raises(KeyError, match="did you mean 'flowprop'"):
        reg.get("flowprob")
    with pytest.raises(KeyError, match="known: flowprop"):
        reg.get("zzz")


def _fake_entry_points(*entries):
    def entry_points(group):
        return [EntryPoint(name, value, group) for name, value in entries]

    return entry_points


def test_entry_points_add_plugins(monkeypatch):
    monkeypatch.setattr(
        registry_module, "entry_points", _fake_entry_points(("p1", "collections:deque"), ("p2", "collections:Counter"))
    )
    reg = Registry("method", entry_point_group="void_eval.methods")
    reg.add("copy", "collections:OrderedDict")
    assert reg.names() == ["copy", "p1", "p2"]


def test_a_plugin_clashing_with_a_built_in_is_an_error_every_time(monkeypatch):
    monkeypatch.setattr(registry_module, "entry_points", _fake_entry_points(("copy", "collections:deque")))
    reg = Registry("method", entry_point_group="void_eval.methods")
    reg.add("copy", "collections:OrderedDict")
    with pytest.raises(ValueError, match="clashes"):
        reg.names()
