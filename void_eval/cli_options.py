"""What every ``void-eval`` command spells the same way: ``--json``, ``--quiet``, ``--clips``, and the help's layout.

- ``--json`` (:func:`json_option`): the command's result as one JSON document on stdout; progress, notes and
  errors go to stderr, so ``void-eval bench ... --json | jq`` works; :func:`json_safe` makes NaN ``null``.
- ``--quiet`` (:data:`QuietOption`): no progress bars or progress lines; results, notes and errors still print.
- ``--clips`` (:data:`ClipsOption`, read by :func:`clip_sources`): repeatable, and each value may be a
  comma-separated list; every item is a clip folder or a folder of clip folders.
- Help: plain text (no boxes) wrapped to the terminal, option values named in capitals (``PATH``, ``INTEGER``)
  rather than Python types; :func:`tidy_help` applies it to the whole command tree.

Examples
--------
>>> [str(path) for path in clip_sources(["suite,more", "one"])]
['suite', 'more', 'one']
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperArgument

QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress bars or progress lines (results and errors still print).")
]
ClipsOption = Annotated[
    list[str],
    typer.Option(
        "--clips",
        metavar="DIR[,DIR...]",
        help="Clip folders or folders of clip folders; repeatable or comma-separated.",
        show_default=False,
    ),
]

#: Python type names in typer's generated help -> the plain metavar shown instead.
_METAVARS = {"path": "PATH", "int": "INTEGER", "float": "NUMBER", "str": "TEXT", "bool": "BOOLEAN"}


def json_option(what: str) -> Any:
    """A ``--json`` option whose help says what the document holds (``what``, e.g. "the leaderboard")."""
    return typer.Option("--json", help=f"Print {what} as one JSON document on stdout (progress goes to stderr).")


def json_safe(value: Any) -> Any:
    """NaN -> None (JSON null); +-inf -> "inf" / "-inf" (JSON has no infinities); recurse into containers."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        return json_safe(value.item())
    return value


def clip_sources(values: Iterable[str | Path]) -> list[Path]:
    """The paths of ``--clips`` values: each value one path or a comma-separated list (empty items dropped).

    A value that names an existing path is taken whole even if it holds a comma.
    """
    paths: list[Path] = []
    for value in values:
        text = str(value)
        parts = [text] if Path(text).exists() else text.split(",")
        paths.extend(Path(part.strip()) for part in parts if part.strip())
    return paths


def tidy_help(command: Any) -> Any:
    """Give every option of ``command`` and its subcommands a plain metavar; arguments show their name only.

    Typer names values by their Python type (``<list[Path]>``, ``<int range>``); options with an explicit
    ``metavar`` keep it. Returns ``command``.
    """
    for param in command.params:
        if isinstance(param, TyperArgument):
            if param.metavar is None:
                param.metavar = param.name.upper()
            param.__class__ = _NamedArgument
        elif param.metavar is None and not getattr(param, "is_flag", False):
            param.metavar = _plain_metavar(param, command)
    for sub in (getattr(command, "commands", None) or {}).values():
        tidy_help(sub)
    return command


def _plain_metavar(param: Any, command: Any) -> str:
    """``PATH`` for ``<path>`` or ``<list[Path]>``, ``INTEGER`` for ``<int range>``, choices as ``a|b``."""
    import typer._click as click  # typer's vendored click: the context its parameters expect

    shown = param.display_type(click.Context(command))
    inner = shown.strip("<>")
    inner = re.sub(r"^list\[(.*)\]$", r"\1", inner)
    base = inner.replace(" range", "").lower()
    return _METAVARS.get(base, inner if "|" in inner else base.upper())


class _NamedArgument(TyperArgument):
    """An argument shown by its name: ``NAME`` (required), ``[NAME]`` (optional), ``NAME...`` (several)."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _rich_display_name(self) -> str:
        return self.metavar + ("..." if self.nargs != 1 else "")

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self._rich_display_name()
        return [name if self.required else f"[{name}]"]
