"""What a run does: method specs x clip folders -> cells, grouped by method so a model loads once.

A method spec is ``name`` or ``label=name`` (the label is the ``method`` column in results, so two configurations
of one method, or several precomputed folders, can sit side by side). Parameters come as ``label.key=value``
strings; values are parsed as JSON when they parse (``5``, ``true``, ``"x"``), else kept as text.

Examples
--------
>>> specs = parse_method_specs("copy,tel=telea", ["tel.radius=5"])
>>> [(s.label, s.name, s.params) for s in specs]
[('copy', 'copy', {}), ('tel', 'telea', {'radius': 5})]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from void_eval.clip import INPUT_NAME
from void_eval.errors import InputError
from void_eval.paths import check_name


@dataclass(frozen=True)
class MethodSpec:
    """One method configuration in a run.

    Attributes
    ----------
    label : str
        Name in results (defaults to ``name``).
    name : str
        Registry name.
    params : dict
        Keyword parameters for :func:`~void_eval.methods.registry.get_method`.
    """

    label: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.label, self.name, json.dumps(self.params, sort_keys=True, default=str)))

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "params": self.params}


@dataclass(frozen=True)
class Cell:
    """One method on one clip."""

    method: MethodSpec
    clip_name: str
    clip_path: Path


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_method_specs(methods: str | Sequence[str], params: Iterable[str] = ()) -> list[MethodSpec]:
    """Parse ``"a,label=b"`` (or a list of such items) and ``["label.key=value", ...]`` into specs.

    Raises
    ------
    ValueError
        Empty list, duplicate labels, a malformed parameter, or a parameter for a label not in the list.
    """
    items = [methods] if isinstance(methods, str) else list(methods)
    entries = [part.strip() for item in items for part in item.split(",") if part.strip()]
    if not entries:
        raise ValueError("no methods given")
    specs: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    for entry in entries:
        label, _, name = entry.partition("=") if "=" in entry else (entry, "", entry)
        label, name = label.strip(), name.strip()
        check_name(label)
        if label in specs:
            raise ValueError(f"method label {label!r} given twice; use label=name to tell configurations apart")
        specs[label] = {}
        names[label] = name
    for text in params:
        target, equals, value = text.partition("=")
        label, dot, key = target.partition(".")
        if not equals or not dot or not key:
            raise ValueError(f"method parameter must look like label.key=value, got {text!r}")
        if label not in specs:
            raise ValueError(f"parameter {text!r} names method {label!r}, which is not in the run ({', '.join(specs)})")
        specs[label][key.replace("-", "_")] = _parse_value(value)
    return [MethodSpec(label=label, name=names[label], params=specs[label]) for label in specs]


def discover_clips(sources: Path | Sequence[Path]) -> list[Path]:
    """Clip folders: each source is a clip folder (holds ``input_video.mp4``) or a folder of clip folders.

    Subfolders without ``input_video.mp4`` are ignored; a source that is neither raises :class:`InputError`.
    The result is sorted by name and has no duplicates.
    """
    paths = [sources] if isinstance(sources, str | Path) else list(sources)
    found: dict[str, Path] = {}
    for source in map(Path, paths):
        if not source.is_dir():
            raise InputError(source, "clips folder not found")
        if (source / INPUT_NAME).exists():
            candidates = [source]
        else:
            candidates = sorted(p for p in source.iterdir() if p.is_dir() and (p / INPUT_NAME).exists())
            if not candidates:
                raise InputError(source, f"holds no clip folders (subfolders with {INPUT_NAME})")
        for clip in candidates:
            if clip.name in found and found[clip.name].resolve() != clip.resolve():
                raise InputError(clip, f"two clips are named {clip.name!r} ({found[clip.name]})")
            found[clip.name] = clip
    return [found[name] for name in sorted(found)]


def make_plan(clips: Sequence[Path], methods: Sequence[MethodSpec]) -> list[Cell]:
    """Every method on every clip, method-major (all clips of the first method, then the next)."""
    for clip in clips:
        check_name(Path(clip).name)
    return [
        Cell(method=spec, clip_name=Path(clip).name, clip_path=Path(clip).resolve())
        for spec in methods
        for clip in clips
    ]
