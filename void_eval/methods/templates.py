"""Recipe templates: the built-in values, filling a template strictly, and checking a recipe's placeholders.

A template is a Python format string (``"{repo}/weights"``, ``"{index:05d}.png"``) over :data:`BUILTINS` and the
recipe's ``[params]``. Param defaults may use ``{repo}``, ``{python}``, ``{device}``, ``{cuda_device}`` and the
params declared before them; every other template may use any built-in.

Examples
--------
>>> render("{repo}/weights/{index:03d}.png", {"repo": "/r", "index": 7})
'/r/weights/007.png'
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from void_eval.errors import InputError

#: Values every template may use, besides the recipe's params.
BUILTINS: dict[str, str] = {
    "python": "the tool's Python interpreter (LABEL.python; default the `python` on PATH)",
    "repo": "the tool's checkout (LABEL.repo)",
    "work": "a fresh work folder for this clip",
    "clip": "the clip's name",
    "device": "the device (LABEL.device or the run's --device)",
    "cuda_device": "the CUDA index of device ('' for cpu or plain cuda)",
    "input": "the prepared input (rendered [input].path)",
    "mask": "the prepared mask (rendered [mask].path)",
    "frames": "frames given to the tool (after padding)",
    "input_frames": "the clip's frames",
    "height": "working height",
    "width": "working width",
    "fps": "working frame rate",
    "fps_int": "working frame rate, rounded to an integer",
    "seconds": "whole seconds covering the working frames, plus one",
}
#: Built-ins known when params are resolved (before any clip is prepared).
PARAM_BUILTINS = ("repo", "python", "device", "cuda_device")
#: Integer keys of ``[input]`` that may be templates.
INTEGER_KEYS = ("min_long_side", "max_long_side", "multiple_of", "min_frames", "max_frames")


def parse_size(text: str, *, where: str = "size") -> tuple[int, int]:
    """``"HxW"`` -> ``(H, W)``.

    Examples
    --------
    >>> parse_size("384x672")
    (384, 672)
    """
    try:
        height, width = (int(part) for part in str(text).lower().split("x"))
    except ValueError as err:
        raise InputError(where, f"must be HxW (e.g. 384x672), got {text!r}") from err
    if height < 1 or width < 1:
        raise InputError(where, f"must be positive, got {text!r}")
    return height, width


def check_placeholders(source: str | Path, defaults: dict[str, Any], templates: list[tuple[str, Any]]) -> None:
    """Raise :class:`InputError` (naming ``source``) for a template naming a value neither built in nor a param.

    ``defaults`` maps each param, in declaration order, to its default; a string default may use only
    :data:`PARAM_BUILTINS` and the params declared before it. ``templates`` holds ``(where, template)`` pairs
    (non-strings are skipped); those may use every built-in, every param and ``index``.

    Examples
    --------
    >>> check_placeholders("r.toml", {"ckpt": "{repo}/w.pt"}, [("[run] command", "{python} x.py {ckpt} {frames}")])
    >>> check_placeholders("r.toml", {}, [("[output] path", "{wrok}/out.mp4")])
    Traceback (most recent call last):
    ...
    void_eval.errors.InputError: r.toml: [output] path: unknown value(s) {wrok} in '{wrok}/out.mp4' (known here: ...)
    """
    everywhere = set(BUILTINS) | set(defaults) | {"index"}
    declared: list[str] = []
    for name, default in defaults.items():  # a param default may use what is known before the clip
        if isinstance(default, str):
            _check(source, f"[params] {name}", default, {*PARAM_BUILTINS, *declared})
        declared.append(name)
    for where, template in templates:
        if isinstance(template, str):
            _check(source, where, template, everywhere)


def _check(source: str | Path, where: str, template: str, known: set[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise InputError(source, f"{where}: bad template {template!r}: {err}") from err
    unknown = sorted(name for name in names if name.split(".")[0].split("[")[0] not in known)
    if unknown:
        raise InputError(
            source,
            f"{where}: unknown value(s) {', '.join('{' + n + '}' for n in unknown)} in {template!r} "
            f"(known here: {', '.join(sorted(known - {'index'}))})",
        )


class _Strict(dict):
    def __missing__(self, key: str) -> Any:
        raise KeyError(key)


def render(template: Any, values: dict[str, Any], *, where: str = "recipe") -> str:
    """Fill a template with ``values``; a missing value raises :class:`InputError` naming ``where``."""
    try:
        return str(template).format_map(_Strict(values))
    except KeyError as err:
        raise InputError(where, f"no value for {{{err.args[0]}}} in {template!r}") from err
    except (ValueError, IndexError) as err:
        raise InputError(where, f"cannot fill {template!r}: {err}") from err


def render_int(value: int | str, values: dict[str, Any], *, where: str) -> int:
    """An integer recipe key: ``value`` itself, or its template filled and read as an integer >= 0."""
    if isinstance(value, int):
        return value
    text = render(value, values, where=where)
    try:
        number = int(text)
    except ValueError:
        raise InputError(where, f"{value!r} gave {text!r}, not an integer") from None
    if number < 0:
        raise InputError(where, f"{value!r} gave {number}, expected >= 0")
    return number
