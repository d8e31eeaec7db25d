"""Preference studies: design, participant pages and honest statistics. May import ``void_eval``'s core types.

Entry points: :func:`studies.analyze` (a responses frame -> :class:`studies.analysis.StudyAnalysis`),
:func:`studies.read_responses`, :func:`studies.make_design`, :func:`studies.write_study`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["analyze", "make_design", "read_responses", "write_study"]

_LAZY = {
    "analyze": "studies.analysis",
    "make_design": "studies.design",
    "read_responses": "studies.responses",
    "write_study": "studies.packets",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
