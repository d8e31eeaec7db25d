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
from typing import TYPE_CHECKING, Any

from void_eval.errors import InputError

if TYPE_CHECKING:
    from void_eval.methods.recipe import Recipe

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


def template_strings(recipe: Recipe) -> list[tuple[str, str]]:
    """Every ``(where, template)`` of a recipe, for checking and for the docs."""
    found: list[tuple[str, str]] = [("[input] path", recipe.input.path), ("[output] path", recipe.output.path)]
    found += [("[output] size", recipe.output.size), ("[run] cwd", recipe.run.cwd)]
    found += [("[input] name", recipe.input.name), ("[output] glob", recipe.output.glob)]
    found += [(f"[input] {key}", getattr(recipe.input, key)) for key in (*INTEGER_KEYS, "size")]
    if recipe.mask:
        found += [("[mask] path", recipe.mask.path), ("[mask] name", recipe.mask.name)]
        found.append(("[mask] dilation", recipe.mask.dilation))
    for item in recipe.run.command:
        args = item["args"] if isinstance(item, dict) else [item]
        found += [("[run] command", str(arg)) for arg in args]
    found += [(f"[run] env {key}", value) for key, value in recipe.run.env.items()]
    found += [(f"[run] links {key}", value) for key, value in recipe.run.links.items()]
    found += [("[run] weights", value) for value in recipe.run.weights]
    for stage in recipe.stages:
        found += [("[[stage]] from", stage.source), ("[[stage]] into", stage.into)]
    found += [(f"[params] {p.name}", p.default) for p in recipe.params.values() if isinstance(p.default, str)]
    return found


def check_placeholders(recipe: Recipe) -> None:
    """Raise :class:`InputError` for a template naming a value that is neither built in nor a param."""
    everywhere = set(BUILTINS) | set(recipe.params) | {"index"}
    declared: list[str] = []
    for name, param in recipe.params.items():  # a param default may use what is known before the clip
        if isinstance(param.default, str):
            _check(recipe, f"[params] {name}", param.default, {*PARAM_BUILTINS, *declared})
        declared.append(name)
    for where, template in template_strings(recipe):
        if isinstance(template, str) and not where.startswith("[params]"):
            _check(recipe, where, template, everywhere)


def _check(recipe: Recipe, where: str, template: str, known: set[str]) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as err:
        raise InputError(recipe.source, f"{where}: bad template {template!r}: {err}") from err
    unknown = sorted(name for name in names if name.split(".")[0].split("[")[0] not in known)
    if unknown:
        raise InputError(
            recipe.source,
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
