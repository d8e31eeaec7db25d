"""Safe output paths: a clip or method name never escapes the folder it is written under.

Examples
--------
>>> clip_output_path("/tmp/run", "BigBen", "output.mp4").as_posix()
'/tmp/run/BigBen/output.mp4'
>>> clip_output_path("/tmp/run", "../etc", "x")
Traceback (most recent call last):
...
void_eval.errors.InputError: ../etc: unsafe name for an output path (contains '/' or is '.' or '..')
"""

from __future__ import annotations

from pathlib import Path

from void_eval.errors import InputError


def check_name(name: str) -> str:
    """Return ``name`` if it can be used as one path component, else raise :class:`InputError`."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(repr(name), "empty name for an output path")
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise InputError(name, "unsafe name for an output path (contains '/' or is '.' or '..')")
    return name


def clip_output_path(root: str | Path, *names: str) -> Path:
    """Join checked names under ``root``; the result is guaranteed to stay inside ``root``."""
    root = Path(root)
    path = root
    for name in names:
        path = path / check_name(name)
    resolved_root = root.resolve()
    if resolved_root not in path.resolve().parents and path.resolve() != resolved_root:
        raise InputError(str(path), f"resolves outside {root}")
    return path
