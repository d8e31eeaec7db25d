"""``external``: run a removal tool from its own checkout and environment, as its recipe says, and score it.

One cell = one call of the tool on one clip, in a fresh work folder:

1. the clip is prepared as the recipe asks (:mod:`void_eval.methods.prepare`) and the files of its ``[[stage]]``
   entries are linked in;
2. the command template is filled (``{python}``, ``{repo}``, ``{input}``, ``{mask}``, params, ...) and run in the
   recipe's ``cwd`` with ``CUDA_VISIBLE_DEVICES`` set from ``device`` (``cpu`` hides every GPU, ``cuda:N`` shows
   GPU N); its stdout and stderr go to log files;
3. the output is found and checked (frame count and size, :mod:`void_eval.methods.align`), trimmed to the input's
   frames, resized back and written at the input's frame rate.

The runner's cache key covers the parameters (recipe params included), and :meth:`ExternalMethod.fingerprint`
adds the recipe file's sha256, the checkout's revision (git commit plus a hash of any local changes), the sha256 of
every weight file the recipe lists and of every staged file. A tool that is missing, fails (its last stderr lines
are quoted), times out or writes the wrong number or size of frames fails the cell with one message; nothing is
recorded as done, and the work folder is kept for inspection (deleted after a success unless ``keep_work``).

Parameters that do not change the output (``keep_raw``, ``keep_work``, ``work_root``, ``timeout``) are left out
of :attr:`ExternalMethod.params`, so changing them reuses cached outputs.

Examples
--------
>>> method = ExternalMethod(recipe="propainter", repo="/opt/ProPainter")
>>> method.params["recipe"], method.params["mask_dilation"], sorted(level.name for level in method.rewrites)
('propainter', 4, ['OVERLAP', 'REMOVE'])
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.atomic import atomic_path
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.align import CHUNK_FRAMES, check_composite, check_length, rechunk, write_aligned
from void_eval.methods.base import LEVEL_SETS, FrameMethod
from void_eval.methods.prepare import Prepared, link_or_copy, prepare_clip
from void_eval.methods.recipe import Recipe, load_recipe, shipped_recipes
from void_eval.methods.templates import parse_size, render
from void_eval.methods.tool import ToolError, checkout_revision, find_python, log_tail, run_tool, weight_hashes
from void_eval.video import VideoReader, VideoWriter, probe


class ExternalMethod(FrameMethod):
    """A removal tool run as a command, configured by a recipe (module docstring).

    Parameters
    ----------
    recipe : str, keyword-only
        A shipped recipe name (:func:`~void_eval.methods.recipe.shipped_recipes`) or a path to a ``.toml`` file.
    repo : str or Path, keyword-only
        The tool's checkout.
    python : str, keyword-only
        The interpreter of the tool's own environment (default: the ``python`` on PATH).
    device : str, keyword-only
        ``cpu``, ``cuda`` or ``cuda:N``; must be one the recipe's tool supports.
    composite : {None, "remove", "remove+affected"}, keyword-only
        Paste the input back outside these levels after reading the output (default: no composite).
    composite_dilation : int, keyword-only
    keep_raw : str or Path, optional, keyword-only
        Copy the tool's own output file (or frames folder) here, under its own name; VOID pass 2 reads pass 1's.
    keep_work : bool, keyword-only
        Keep the work folder after a success too.
    work_root : str or Path, optional, keyword-only
        Where work folders are made (default: the system's temporary folder).
    timeout : float, keyword-only
        Seconds before the tool is stopped (0: no limit).
    output_kind : {"lossless", "h264"}, keyword-only
    **options
        The recipe's ``[params]`` (unknown names are errors that list the known ones).
    """

    name = "external"
    version = "1"
    description = "a removal tool run from its checkout by recipe: " + ", ".join(shipped_recipes())
    rewrites = frozenset(LEVEL_SETS["remove"])

    def __init__(
        self,
        *,
        recipe: str | None = None,
        repo: str | Path | None = None,
        python: str = "python",
        device: str = "cpu",
        composite: str | None = None,
        composite_dilation: int = 0,
        keep_raw: str | Path | None = None,
        keep_work: bool = False,
        work_root: str | Path | None = None,
        timeout: float = 0,
        output_kind: str = "lossless",
        **options: Any,
    ) -> None:
        super().__init__(output_kind=output_kind)
        if not recipe:
            raise ValueError(f"external needs recipe=NAME (shipped: {', '.join(shipped_recipes())}) or a .toml path")
        if repo is None:
            raise ValueError("external needs repo=<the tool's checkout>")
        self.recipe: Recipe = load_recipe(recipe)
        self.recipe_arg = str(recipe)
        self.repo = Path(repo).expanduser().resolve()
        self.python = str(python)
        self.device = str(device)
        self.composite = check_composite(composite, composite_dilation)
        self.composite_dilation = int(composite_dilation)
        self.keep_raw = Path(keep_raw).expanduser().resolve() if keep_raw else None
        self.keep_work = bool(keep_work)
        self.work_root = Path(work_root).expanduser().resolve() if work_root else None
        self.timeout = float(timeout)
        self.rewrites = LEVEL_SETS[self.composite or self.recipe.rewrites]
        self.options = self._resolve_options(options)
        self._identity: dict[str, Any] | None = None

    def _resolve_options(self, options: dict[str, Any]) -> dict[str, Any]:
        recipe = self.recipe
        unknown = sorted(set(options) - set(recipe.params))
        if unknown:
            known = ", ".join(recipe.params) or "none"
            raise TypeError(f"recipe {recipe.name} has no parameter(s) {', '.join(unknown)} (its params: {known})")
        base = self._base_values()
        resolved: dict[str, Any] = {}
        for name, param in recipe.params.items():
            value = options.get(name, param.default)
            if value is None and param.required:
                raise ValueError(f"recipe {recipe.name} needs {name}: {param.help or 'no default'}")
            if isinstance(value, str):
                value = render(value, {**base, **resolved}, where=f"{recipe.source}: [params] {name}")
            resolved[name] = value
        return resolved

    def _params(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe_arg,
            "repo": str(self.repo),
            "python": self.python,
            "composite": self.composite,
            "composite_dilation": self.composite_dilation,
            **self.options,
        }

    # -- identity (cache key) -------------------------------------------------------------------------------
    def _base_values(self) -> dict[str, Any]:
        cuda = self.device.split(":", 1)[1] if self.device.startswith("cuda:") else ""
        return {"repo": str(self.repo), "python": self.python, "device": self.device, "cuda_device": cuda}

    def _check_tool(self) -> Path:
        """The tool's interpreter; raises :class:`InputError` for a missing checkout, script or interpreter."""
        recipe = self.recipe
        kind = self.device.split(":")[0]
        if kind not in recipe.devices:
            raise InputError(
                f"{recipe.name}.device={self.device}",
                f"{recipe.title} runs on {' or '.join(recipe.devices)} only (see {recipe.source.name})",
            )
        if not self.repo.is_dir():
            raise InputError(self.repo, f"{recipe.title} checkout not found (set LABEL.repo=...)")
        if recipe.script and not (self.repo / recipe.script).is_file():
            raise InputError(self.repo, f"has no {recipe.script}: not a {recipe.title} checkout (set LABEL.repo=...)")
        return find_python(self.python)

    def identity(self) -> dict[str, Any]:
        """Recipe sha256, checkout revision, interpreter and weight hashes (computed once per instance)."""
        if self._identity is None:
            python = self._check_tool()
            values = {**self._base_values(), **self.options}
            patterns = [
                render(p, values, where=f"{self.recipe.source}: [run] weights") for p in self.recipe.run.weights
            ]
            self._identity = {
                "recipe": self.recipe.name,
                "recipe_sha256": self.recipe.sha256,
                "tool_revision": checkout_revision(self.repo, self.recipe.script),
                "python": str(python),
                "weights_sha256": weight_hashes(patterns, tool=self.recipe.title),
            }
        return self._identity

    @property
    def weights_sha256(self) -> str | None:
        """One sha256 over the recipe's weight files (their own hashes are in :meth:`fingerprint`)."""
        from void_eval.hashing import cache_key

        hashes = self.identity()["weights_sha256"]
        return cache_key(hashes) if hashes else None

    def fingerprint(self, clip: Clip) -> dict[str, Any]:
        """:meth:`identity` plus the sha256 of each staged file of ``clip``: part of the runner's cache key."""
        from void_eval.hashing import file_sha256

        staged = {str(path): file_sha256(path) for path, _ in self._staged(clip)}
        return {**self.identity(), "staged_sha256": staged}

    def _staged(self, clip: Clip, work: Path | None = None) -> list[tuple[Path, Path | None]]:
        """``(file, folder to link it into)`` for each ``[[stage]]`` entry: exactly one file must match."""
        values = {**self._base_values(), **self.options, "clip": clip.name, "work": str(work or "")}
        found = []
        for stage in self.recipe.stages:
            pattern = render(stage.source, values, where=f"{self.recipe.source}: [[stage]] from")
            matches = [m for m in sorted(glob.glob(pattern)) if not _excluded(m, stage.exclude)]
            if len(matches) != 1:
                what = "no file" if not matches else f"{len(matches)} files ({', '.join(matches)})"
                raise InputError(pattern, f"{what} for clip {clip.name!r}; {self.recipe.name} needs one: {stage.help}")
            into = Path(render(stage.into, values, where=f"{self.recipe.source}: [[stage]] into")) if work else None
            found.append((Path(matches[0]), into))
        return found

    # -- running ----------------------------------------------------------------------------------------------
    def _write(self, clip: Clip, writer: VideoWriter) -> None:
        python = Path(self.identity()["python"])
        if self.work_root is not None:
            self.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"void-eval-{self.recipe.name}-{clip.name}-", dir=self.work_root))
        values = {**self._base_values(), **self.options, "python": str(python), "work": str(work), "clip": clip.name}
        try:
            prepared = prepare_clip(self.recipe, clip, values)
            self._stage_and_link(clip, work, prepared.values)
            argv, cwd, env = self._command(prepared.values)
            run_tool(argv, cwd=cwd, env=env, logs=work / "logs", timeout=self.timeout or None, tool=self.recipe.title)
            source = self._find_output(prepared.values, work)
            record = self._read_back(source, clip, prepared, writer, work)
            if self.keep_raw is not None:
                self._keep_raw(source)
        except InputError as err:
            raise InputError(err.source, f"{err.problem}\n(work folder kept: {work})") from err
        except ToolError as err:
            raise ToolError(f"{err}\n(work folder kept: {work})") from err
        except Exception as err:
            raise ToolError(f"{self.recipe.title}: {type(err).__name__}: {err}\n(work folder kept: {work})") from err
        self.last_run = {
            "recipe": self.recipe.name,
            "command": argv,
            "cwd": str(cwd),
            "tool_revision": self.identity()["tool_revision"],
            "source": str(source),
            **prepared.record,
            **record,
            "work": str(work) if self.keep_work else None,
        }
        if not self.keep_work:
            shutil.rmtree(work, ignore_errors=True)

    def _stage_and_link(self, clip: Clip, work: Path, values: dict[str, Any]) -> None:
        for path, into in self._staged(clip, work):
            link_or_copy(path, into / path.name)
        for name, target in self.recipe.run.links.items():
            source = Path(render(target, values, where=f"{self.recipe.source}: [run] links"))
            if not source.exists():
                raise InputError(source, f"{self.recipe.title} needs it in its working folder ([run] links {name})")
            link_or_copy(source, work / name)

    def _command(self, values: dict[str, Any]) -> tuple[list[str], Path, dict[str, str]]:
        where = f"{self.recipe.source}: [run] command"
        argv: list[str] = []
        for item in self.recipe.run.command:
            if isinstance(item, dict):
                if _truthy(self.options.get(item["if"])):
                    argv += [render(arg, values, where=where) for arg in item["args"]]
            else:
                argv.append(render(item, values, where=where))
        env = dict(os.environ)
        env.update(
            {k: render(v, values, where=f"{self.recipe.source}: [run] env") for k, v in self.recipe.run.env.items()}
        )
        if self.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        elif self.device.startswith("cuda:"):
            env["CUDA_VISIBLE_DEVICES"] = self.device.split(":", 1)[1]
        cwd = Path(render(self.recipe.run.cwd, values, where=f"{self.recipe.source}: [run] cwd"))
        return argv, cwd, env

    def _find_output(self, values: dict[str, Any], work: Path) -> Path:
        spec = self.recipe.output
        pattern = render(spec.path, values, where=f"{self.recipe.source}: [output] path")
        if glob.has_magic(pattern):
            matches = [m for m in sorted(glob.glob(pattern)) if not _excluded(m, spec.exclude)]
        else:
            matches = [pattern] if Path(pattern).exists() else []
        if len(matches) != 1:
            what = "no output" if not matches else f"{len(matches)} outputs ({', '.join(matches)})"
            raise ToolError(
                f"{self.recipe.title} exited normally but wrote {what} at {pattern}{log_tail(work / 'logs')}"
            )
        return Path(matches[0])

    def _read_back(self, source: Path, clip: Clip, prepared: Prepared, writer: VideoWriter, work: Path) -> dict:
        spec = self.recipe.output
        if spec.kind == "video":
            info = probe(source)
            count, size, chunks = info.frames, (info.height, info.width), VideoReader(source).chunks(CHUNK_FRAMES)
        else:
            files = sorted(path for path in source.glob(render(spec.glob, prepared.values)) if path.is_file())
            size = _image_size(files)
            count, chunks = len(files), rechunk(_read_images(files, size))
        check_length(source, count, clip.frames, trim=spec.frames, working_frames=prepared.frames)
        rule = render(spec.size, prepared.values, where=f"{self.recipe.source}: [output] size")
        expected = (
            prepared.size if rule == "working" else parse_size(rule, where=f"{self.recipe.source}: [output] size")
        )
        if size != expected:
            why = "the size it was given" if rule == "working" else "the recipe's output size"
            raise InputError(
                source,
                f"{self.recipe.title} wrote frames of {size[1]}x{size[0]}, expected {expected[1]}x{expected[0]} "
                f"({why})",
            )
        aligned = write_aligned(
            chunks, clip, writer, source_size=size, composite=self.composite, composite_dilation=self.composite_dilation
        )
        return {"source_frames": count, "source_size": list(size), "trimmed_frames": count - clip.frames, **aligned}

    def _keep_raw(self, source: Path) -> None:
        self.keep_raw.mkdir(parents=True, exist_ok=True)
        target = self.keep_raw / source.name
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        else:
            with atomic_path(target) as temp:
                shutil.copyfile(source, temp)


def _excluded(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(Path(path).name, pattern) for pattern in patterns)


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "", "false", "False", "0", "no")


def _image_size(files: list[Path]) -> tuple[int, int]:
    if not files:
        return (0, 0)
    image = cv2.imread(str(files[0]), cv2.IMREAD_COLOR)
    if image is None:
        raise InputError(files[0], "unreadable output frame")
    return image.shape[:2]


def _read_images(files: list[Path], size: tuple[int, int]) -> Iterator[np.ndarray]:
    for path in files:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(path, "unreadable output frame")
        if image.shape[:2] != size:
            raise InputError(
                path, f"is {image.shape[1]}x{image.shape[0]}; the first output frame is {size[1]}x{size[0]}"
            )
        yield np.ascontiguousarray(image[..., ::-1])
