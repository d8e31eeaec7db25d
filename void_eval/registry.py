"""One typed registry for methods, metrics and detectors.

Entries are lazy ``"package.module:Object"`` strings, so a heavy stack (diffusers, c2pa) is imported only when
its entry is used. Duplicate names are errors; unknown names suggest the closest ones; packages can add entries
through the entry-point group given at construction (``void_eval.methods`` and so on).

Examples
--------
>>> from collections import OrderedDict
>>> reg = Registry("demo", entry_point_group=None)
>>> reg.add("ordered", "collections:OrderedDict")
>>> reg.get("ordered") is OrderedDict
True
>>> reg.get("orderd")
Traceback (most recent call last):
...
KeyError: "unknown demo 'orderd'; did you mean 'ordered'?"
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> lazily imported object.

    Parameters
    ----------
    kind : str
        What the entries are, for messages ("method", "metric", "detector").
    entry_point_group : str or None
        Entry-point group scanned once, on first lookup, for third-party entries.
    """

    def __init__(self, kind: str, *, entry_point_group: str | None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._targets: dict[str, str] = {}
        self._loaded: dict[str, T] = {}
        self._scanned = entry_point_group is None

    def add(self, name: str, target: str | T) -> None:
        """Register ``target`` (an object or a ``"module:attr"`` string) under ``name``."""
        if name in self._targets or name in self._loaded:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        if isinstance(target, str):
            if ":" not in target:
                raise ValueError(f"lazy target must look like 'package.module:Object', got {target!r}")
            self._targets[name] = target
        else:
            self._loaded[name] = target

    def _scan_entry_points(self) -> None:
        if self._scanned:
            return
        for entry in entry_points(group=self.entry_point_group):
            if entry.name in self._targets or entry.name in self._loaded:
                self._scanned = True
                raise ValueError(
                    f"{self.kind} {entry.name!r} from entry point {entry.value!r} (group {self.entry_point_group}) "
                    "clashes with a registered name; rename the plugin's entry point"
                )
            self._targets[entry.name] = entry.value
        self._scanned = True

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._scan_entry_points()
        return sorted({*self._targets, *self._loaded})

    def get(self, name: str) -> T:
        """The object registered as ``name``, imported on first use."""
        self._scan_entry_points()
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._targets:
            close = difflib.get_close_matches(name, self.names(), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            known = "" if close else f"; known: {', '.join(self.names()) or 'none'}"
            raise KeyError(f"unknown {self.kind} {name!r}{hint}{known}")
        module_name, _, attribute = self._targets[name].partition(":")
        target = getattr(importlib.import_module(module_name), attribute)
        self._loaded[name] = target
        return target

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
