"""Recipes: how the ``external`` method runs one removal tool, read from a small TOML file.

A recipe says how to prepare a clip for the tool, how to call it and how to read its output back. Shipped recipes
live in ``void_eval/methods/recipes/<name>.toml`` (:func:`shipped_recipes`); a user recipe is any ``.toml`` file
with the same tables. Every template is a Python format string over the built-in values
(:data:`~void_eval.methods.templates.BUILTINS`) and the recipe's own ``[params]``; a placeholder naming neither is an
error when the recipe loads, not when the tool runs.

Tables (keys not listed are errors, so a typo never goes unnoticed)::

    [tool]    name, title, upstream, revision (the commit the recipe was written from), script (a file the
              checkout must hold, relative to repo), devices (["cpu", "cuda"]), rewrites ("remove" or
              "remove+affected"; default: the mask's levels), notes
    [params]  NAME = default, or NAME = {default = ..., help = "...", required = true}; users override them
              with --param LABEL.NAME=VALUE
    [input]   kind ("frames" | "video" | "clip-folder"), path, name (frames: file name, e.g. "{index:05d}.png"),
              codec ("lossless" | "h264"), size ("native" | "HxW", may be a template), min_long_side,
              max_long_side, multiple_of, frames ("any" | "4k+1" | "16k+1" | a count), min_frames, max_frames,
              fps ("native" | a number)
    [mask]    kind ("frames" | "video"), path, name, levels ("remove" | "remove+affected"),
              polarity ("white": the hole is 255 | "black": the hole is 0), dilation (px, square kernel)
              (the integer keys of [input] and [mask] may also be templates over params, e.g. "{dilation}")
    [[stage]] from (glob; exactly one match per clip), exclude (globs), into (folder), help: a file the tool reads
              besides the clip (e.g. VOID pass 1's output for pass 2), linked into the work folder and hashed into
              the cache key
    [run]     command (list; an item may be {if = "PARAM", args = [...]}: included when the parameter is true),
              cwd, env (table), links (table: name in the work folder -> path), weights (files or globs whose
              sha256 enter the cache key and must exist)
    [output]  kind ("frames" | "video"), path (a file, folder or glob), glob (frames: file pattern), exclude (globs),
              size ("working" | "HxW"), frames ("exact": as many as the tool was given | "upstream": the input's
              count or upstream VOID's padded length)

Examples
--------
>>> recipe = load_recipe("propainter")
>>> recipe.name, recipe.input.kind, recipe.mask.levels, recipe.output.kind
('propainter', 'frames', 'remove', 'frames')
>>> "{work}" in recipe.output.path
True
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from dataclasses import MISSING, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from void_eval.errors import InputError
from void_eval.methods.base import LEVEL_SETS
from void_eval.methods.templates import BUILTINS, INTEGER_KEYS, check_placeholders, parse_size

INPUT_KINDS = ("frames", "video", "clip-folder")
MASK_KINDS = ("frames", "video")
OUTPUT_KINDS = ("frames", "video")
FRAME_RULES = ("any", "4k+1", "16k+1")
CODECS = ("lossless", "h264")
RECIPES_PACKAGE = "void_eval.methods.recipes"
TOOL_KEYS = ("name", "title", "upstream", "revision", "script", "devices", "rewrites", "notes")


@dataclass(frozen=True)
class Param:
    """One recipe parameter: default (None when required), help text."""

    name: str
    default: Any
    help: str = ""
    required: bool = False


@dataclass(frozen=True)
class InputSpec:
    """The ``[input]`` table: how the clip is given to the tool (module docstring)."""

    kind: str
    path: str
    name: str = "{index:05d}.png"
    codec: str = "lossless"
    size: str = "native"
    min_long_side: int | str = 0
    max_long_side: int | str = 0
    multiple_of: int | str = 1
    frames: str | int = "any"
    min_frames: int | str = 1
    max_frames: int | str = 0
    fps: str | float = "native"


@dataclass(frozen=True)
class MaskSpec:
    """The ``[mask]`` table: which levels form the binary mask and how it is written."""

    kind: str
    path: str
    name: str = "{index:05d}.png"
    levels: str = "remove"
    polarity: str = "white"
    dilation: int | str = 0


@dataclass(frozen=True)
class StageSpec:
    """One ``[[stage]]`` entry: a file the tool reads besides the clip."""

    source: str
    into: str
    exclude: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class RunSpec:
    """The ``[run]`` table: the command, where it runs, its environment and weights."""

    command: tuple[Any, ...]
    cwd: str = "{work}"
    env: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    weights: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputSpec:
    """The ``[output]`` table: where the tool writes and what it must have written."""

    kind: str
    path: str
    glob: str = "*.png"
    exclude: tuple[str, ...] = ()
    size: str = "working"
    frames: str = "exact"


@dataclass(frozen=True)
class Recipe:
    """A parsed recipe (see the module docstring for each table)."""

    name: str
    source: Path
    sha256: str
    title: str
    upstream: str
    revision: str
    script: str
    devices: tuple[str, ...]
    rewrites: str
    notes: str
    params: dict[str, Param]
    input: InputSpec
    mask: MaskSpec | None
    stages: tuple[StageSpec, ...]
    run: RunSpec
    output: OutputSpec


def shipped_recipes() -> list[str]:
    """Names of the recipes shipped with the toolkit.

    Examples
    --------
    >>> {"propainter", "lama", "void-pass1"} <= set(shipped_recipes())
    True
    """
    folder = resources.files(RECIPES_PACKAGE)
    return sorted(entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml"))


def recipe_path(recipe: str | Path) -> Path:
    """The file of a shipped recipe name, or ``recipe`` itself when it is a path to a ``.toml`` file."""
    text = str(recipe)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text).expanduser().resolve()
        if not path.is_file():
            raise InputError(path, "recipe file not found")
        return path
    names = shipped_recipes()
    if text not in names:
        close = difflib.get_close_matches(text, names, n=2)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise InputError(
            f"recipe={text}", f"no such shipped recipe; {hint}shipped: {', '.join(names)}; or give a .toml path"
        )
    return Path(str(resources.files(RECIPES_PACKAGE).joinpath(f"{text}.toml")))


def load_recipe(recipe: str | Path) -> Recipe:
    """Read and check a recipe (a shipped name or a ``.toml`` path); errors name the file and the key."""
    path = recipe_path(recipe)
    data = path.read_bytes()
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise InputError(path, f"not a valid TOML recipe: {err}") from err
    reader = _Reader(path)
    parsed = reader.recipe(table, hashlib.sha256(data).hexdigest())
    defaults = {name: param.default for name, param in parsed.params.items()}
    check_placeholders(parsed.source, defaults, template_strings(parsed))
    return parsed


def template_strings(recipe: Recipe) -> list[tuple[str, str]]:
    """Every ``(where, template)`` of a recipe outside ``[params]``, for :func:`check_placeholders`."""
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
    return found


class _Reader:
    """Builds a :class:`Recipe` from parsed TOML, raising :class:`InputError` naming the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> InputError:
        return InputError(self.path, f"{where}: {problem}")

    def section(self, table: dict, name: str, known: tuple[str, ...], *, required: bool = True) -> dict | None:
        value = table.get(name)
        if value is None:
            if required:
                raise self.fail(f"[{name}]", "missing")
            return None
        if not isinstance(value, dict):
            raise self.fail(f"[{name}]", "must be a table")
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise self.fail(f"[{name}]", f"unknown key(s) {', '.join(unknown)} (known: {', '.join(known)})")
        return value

    def build(self, cls: type, where: str, values: dict) -> Any:
        """``cls(**values)``, failing with the names of the required keys that are missing."""
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.name not in values]
        if missing:
            raise self.fail(where, f"needs {', '.join(missing)}")
        return cls(**values)

    def choice(self, where: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(where, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def integer(self, where: str, value: Any) -> None:
        if isinstance(value, str) and "{" in value:
            return
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, f"must be an integer >= 0 or a template such as '{{param}}', got {value!r}")

    def recipe(self, table: dict, sha256: str) -> Recipe:
        unknown = sorted(set(table) - {"tool", "params", "input", "mask", "stage", "run", "output"})
        if unknown:
            raise self.fail("recipe", f"unknown table(s) {', '.join(unknown)}")
        tool = self.section(table, "tool", TOOL_KEYS)
        name = str(tool.get("name") or self.path.stem)
        mask = self.mask(table)
        input_spec = self.input(table)
        if input_spec.kind != "clip-folder" and mask is None:
            raise self.fail("[mask]", f"missing (needed with [input] kind = {input_spec.kind!r})")
        devices = tuple(tool.get("devices", ("cpu", "cuda")))
        for device in devices:
            self.choice("[tool] devices", device, ("cpu", "cuda"))
        default_rewrites = mask.levels if mask else "remove+affected"
        return Recipe(
            name=name,
            source=self.path,
            sha256=sha256,
            title=str(tool.get("title", name)),
            upstream=str(tool.get("upstream", "")),
            revision=str(tool.get("revision", "")),
            script=str(tool.get("script", "")),
            devices=devices,
            rewrites=self.choice("[tool] rewrites", tool.get("rewrites", default_rewrites), tuple(LEVEL_SETS)),
            notes=str(tool.get("notes", "")).strip(),
            params=self.params(table.get("params", {})),
            input=input_spec,
            mask=mask,
            stages=self.stages(table.get("stage", [])),
            run=self.run(table),
            output=self.output(table),
        )

    def params(self, table: Any) -> dict[str, Param]:
        if not isinstance(table, dict):
            raise self.fail("[params]", "must be a table")
        params: dict[str, Param] = {}
        for key, value in table.items():
            if key in BUILTINS:
                raise self.fail(f"[params] {key}", "is a built-in value's name; choose another")
            if isinstance(value, dict):
                extra = sorted(set(value) - {"default", "help", "required"})
                if extra:
                    raise self.fail(f"[params] {key}", f"unknown key(s) {', '.join(extra)}")
                required = bool(value.get("required", False))
                if "default" not in value and not required:
                    raise self.fail(f"[params] {key}", "needs a default or required = true")
                params[key] = Param(key, value.get("default"), str(value.get("help", "")), required)
            else:
                params[key] = Param(key, value)
        return params

    def input(self, table: dict) -> InputSpec:
        known = tuple(InputSpec.__dataclass_fields__)
        section = self.section(table, "input", known)
        spec = self.build(InputSpec, "[input]", section)
        self.choice("[input] kind", spec.kind, INPUT_KINDS)
        self.choice("[input] codec", spec.codec, CODECS)
        if spec.size != "native" and "{" not in spec.size:
            parse_size(spec.size, where=f"{self.path}: [input] size")
        if not (isinstance(spec.frames, int) and spec.frames > 0) and spec.frames not in FRAME_RULES:
            raise self.fail("[input] frames", f"must be a positive count or one of {', '.join(FRAME_RULES)}")
        if spec.fps != "native" and not (isinstance(spec.fps, int | float) and spec.fps > 0):
            raise self.fail("[input] fps", f"must be 'native' or a positive number, got {spec.fps!r}")
        for key in INTEGER_KEYS:
            self.integer(f"[input] {key}", getattr(spec, key))
        return spec

    def mask(self, table: dict) -> MaskSpec | None:
        section = self.section(table, "mask", tuple(MaskSpec.__dataclass_fields__), required=False)
        if section is None:
            return None
        spec = self.build(MaskSpec, "[mask]", section)
        self.choice("[mask] kind", spec.kind, MASK_KINDS)
        self.choice("[mask] levels", spec.levels, tuple(LEVEL_SETS))
        self.choice("[mask] polarity", spec.polarity, ("white", "black"))
        self.integer("[mask] dilation", spec.dilation)
        return spec

    def stages(self, items: Any) -> tuple[StageSpec, ...]:
        if not isinstance(items, list):
            raise self.fail("[[stage]]", "must be an array of tables")
        stages = []
        for item in items:
            extra = sorted(set(item) - {"from", "into", "exclude", "help"})
            if extra or "from" not in item or "into" not in item:
                raise self.fail("[[stage]]", "needs from and into (and only exclude, help besides)")
            stages.append(StageSpec(item["from"], item["into"], tuple(item.get("exclude", ())), item.get("help", "")))
        return tuple(stages)

    def run(self, table: dict) -> RunSpec:
        section = self.section(table, "run", tuple(RunSpec.__dataclass_fields__))
        command = section.get("command")
        if not isinstance(command, list) or not command:
            raise self.fail("[run] command", "must be a non-empty list")
        for item in command:
            if isinstance(item, dict) and (set(item) != {"if", "args"} or not isinstance(item["args"], list)):
                raise self.fail("[run] command", f"a conditional item is {{if = PARAM, args = [...]}}, got {item}")
        spec = RunSpec(
            command=tuple(command),
            cwd=section.get("cwd", "{work}"),
            env=dict(section.get("env", {})),
            links=dict(section.get("links", {})),
            weights=tuple(section.get("weights", ())),
        )
        for item in spec.command:
            if isinstance(item, dict) and item["if"] not in table.get("params", {}):
                raise self.fail("[run] command", f"condition {item['if']!r} is not a param")
        return spec

    def output(self, table: dict) -> OutputSpec:
        section = self.section(table, "output", tuple(OutputSpec.__dataclass_fields__))
        spec = self.build(OutputSpec, "[output]", {**section, "exclude": tuple(section.get("exclude", ()))})
        self.choice("[output] kind", spec.kind, OUTPUT_KINDS)
        self.choice("[output] frames", spec.frames, ("exact", "upstream"))
        return spec
