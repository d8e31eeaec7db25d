"""``make_suite``: generate a folder of counterfactual clips.

Clip ``i`` of a suite gets family ``scenarios[i % len(scenarios)]`` and its own seed drawn from
``SeedSequence([seed, i, attempt])``; a sampled scene whose simulation fails the family's checks
(:mod:`void_eval.suite.acceptance`) is replaced by the next attempt. Clips are written to a hidden temporary
folder and renamed into place when complete; the suite's arguments go to ``OUT_DIR/suite.json``.

Examples
--------
>>> import tempfile
>>> paths = make_suite(tempfile.mkdtemp(), preset="tiny", clips=2, progress=False)  # doctest: +SKIP
>>> [path.name for path in paths]  # doctest: +SKIP
['000_occlusion', '001_shadow']
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from void_eval.atomic import write_json_atomic
from void_eval.errors import InputError
from void_eval.suite.quadmask_from_render import DEFAULT_DILATION, DEFAULT_THRESHOLD

if TYPE_CHECKING:
    from void_eval.suite.quadmask_from_render import SceneMasks
    from void_eval.suite.world import WorldPair

FAMILIES: tuple[str, ...] = (
    "occlusion",
    "shadow",
    "support",
    "collision",
    "chain",
    "human_kick",
    "human_push",
    "human_carry",
)
#: Names that stand for several families in ``scenarios``.
GROUPS: dict[str, tuple[str, ...]] = {
    "rigid": FAMILIES[:5],
    "human": tuple(family for family in FAMILIES if family.startswith("human_")),
}
MAX_ATTEMPTS = 40
SUITE_INDEX = "suite.json"
_CLIP_NAME = re.compile(r"^\d{3}_(" + "|".join(FAMILIES) + r")$")
_PREVIEW_NAME = re.compile(r"^preview_(" + "|".join(FAMILIES) + r")\.png$")


@dataclass(frozen=True)
class SuitePreset:
    """Default clip count, length, size and rate of a suite."""

    clips: int
    frames: int
    size: tuple[int, int]
    fps: float = 12.0


PRESETS: dict[str, SuitePreset] = {
    "demo": SuitePreset(clips=8, frames=48, size=(192, 336)),
    "tiny": SuitePreset(clips=8, frames=24, size=(72, 128)),
    "full": SuitePreset(clips=32, frames=85, size=(384, 672)),
}


@dataclass(frozen=True)
class ClipJob:
    """Everything needed to generate one clip (picklable, for worker processes)."""

    index: int
    scenario: str
    suite_seed: int
    frames: int
    size: tuple[int, int]
    fps: float
    threshold: int
    dilation: int
    folder: str


def clip_seed(suite_seed: int, index: int, attempt: int) -> int:
    """Seed of attempt ``attempt`` of clip ``index``: 32 bits of ``SeedSequence([suite_seed, index, attempt])``."""
    return int(np.random.SeedSequence([suite_seed, index, attempt]).generate_state(1)[0])


def accepted_scene(scenario: str, suite_seed: int, index: int, *, frames: int, fps: float, size: tuple[int, int]):
    """Sample scenes until one passes the family's checks; returns ``(spec, factual, counterfactual, seed, attempt)``.

    Raises
    ------
    ValueError
        When :data:`MAX_ATTEMPTS` attempts all fail, typically because the clip is too short for the family's
        event (the reasons of the last attempt are given).
    """
    from void_eval.suite.acceptance import scene_problems
    from void_eval.suite.physics import simulate
    from void_eval.suite.scenarios import build_scene

    problems: list[str] = []
    for attempt in range(MAX_ATTEMPTS):
        seed = clip_seed(suite_seed, index, attempt)
        spec = build_scene(scenario, seed)
        factual = simulate(spec, include_removed=True, frames=frames, fps=fps)
        counterfactual = simulate(spec, include_removed=False, frames=frames, fps=fps)
        problems = scene_problems(spec, factual, counterfactual, size=size, fps=fps)
        if not problems:
            return spec, factual, counterfactual, seed, attempt
    raise ValueError(
        f"no acceptable {scenario} scene for clip {index} in {MAX_ATTEMPTS} attempts with {frames} frames "
        f"({frames / fps:.2f} s; more frames give the physics time to happen); last: {'; '.join(problems)}"
    )


def generate_clip(job: ClipJob) -> Path:
    """Simulate, render and write one clip into ``job.folder`` (created through a temporary sibling folder)."""
    from void_eval.suite.quadmask_from_render import derive_masks
    from void_eval.suite.world import simulate_pair
    from void_eval.suite.writer import clip_meta

    spec, factual, counterfactual, seed, attempt = accepted_scene(
        job.scenario, job.suite_seed, job.index, frames=job.frames, fps=job.fps, size=job.size
    )
    final = Path(job.folder)
    with tempfile.TemporaryDirectory(prefix=".textures-", dir=final.parent) as texture_dir:
        pair = simulate_pair(
            spec,
            frames=job.frames,
            fps=job.fps,
            size=job.size,
            texture_dir=texture_dir,
            factual=factual,
            counterfactual=counterfactual,
        )
    masks = derive_masks(
        pair.factual_rgb,
        pair.counterfactual_rgb,
        pair.behind_rgb,
        pair.factual_ids,
        removed_index=spec.removed_index,
        threshold=job.threshold,
        dilation=job.dilation,
    )
    meta = clip_meta(
        spec,
        pair,
        masks,
        seed=seed,
        suite_seed=job.suite_seed,
        index=job.index,
        attempt=attempt,
        fps=job.fps,
        threshold=job.threshold,
        dilation=job.dilation,
    )
    _write_into_place(final, pair, masks, meta, fps=job.fps)
    return final


def _write_into_place(final: Path, pair: WorldPair, masks: SceneMasks, meta: dict[str, Any], *, fps: float) -> None:
    """Write the clip into a hidden sibling of ``final`` and rename it into place (replacing an earlier ``final``)."""
    from void_eval.suite.writer import write_clip

    partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=final.parent))
    try:
        _umask_permissions(partial, 0o777)
        write_clip(partial, pair, masks, meta, fps=fps)
        for file in partial.iterdir():  # temp-file writers create 0600 files
            _umask_permissions(file, 0o666)
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _umask_permissions(path: Path, mode: int) -> None:
    """Give ``path`` the permissions a plain ``mkdir``/``open`` would (``mode`` less the umask)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


def _parse_scenarios(scenarios: Sequence[str] | str | None) -> tuple[str, ...]:
    if scenarios is None:
        return FAMILIES
    if isinstance(scenarios, str):
        scenarios = [name.strip() for name in scenarios.split(",") if name.strip()]
    names = tuple(family for name in scenarios for family in GROUPS.get(name, (name,)))
    if not names:
        raise ValueError("scenarios must name at least one family")
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise ValueError(
            f"unknown scenario(s) {unknown}; expected some of {', '.join(FAMILIES)} or a group ({', '.join(GROUPS)})"
        )
    return names


def _prepare_out_dir(out_dir: Path, force: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(out_dir, "exists and is not a folder")
    if out_dir.is_dir():
        entries = list(out_dir.iterdir())
        if entries and not force:
            raise InputError(out_dir, f"is not empty ({len(entries)} entries); pass force=True (--force) to overwrite")
        for entry in entries:  # with force: drop earlier suite output only
            if entry.is_dir() and (_CLIP_NAME.match(entry.name) or entry.name.endswith(".partial")):
                shutil.rmtree(entry)
            elif entry.name == SUITE_INDEX or _PREVIEW_NAME.match(entry.name):
                entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def make_suite(
    out_dir: str | Path,
    *,
    preset: str = "demo",
    clips: int | None = None,
    seed: int = 0,
    frames: int | None = None,
    size: tuple[int, int] | None = None,
    scenarios: Sequence[str] | str | None = None,
    force: bool = False,
    progress: bool = True,
    workers: int | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    dilation: int = DEFAULT_DILATION,
) -> list[Path]:
    """Generate a counterfactual suite: one clip folder per clip, loadable with :meth:`void_eval.clip.Clip.load`.

    Parameters
    ----------
    out_dir : str or Path
        Output folder; must be empty or absent unless ``force``.
    preset : {"demo", "tiny", "full"}, keyword-only
        Defaults for clips, frames and size: demo 8 clips x 48 frames at 192x336 (one per family); tiny 8 x 24 at
        72x128; full 32 x 85 at 384x672 (VOID's working size, four clips per family). All at 12 fps.
    clips, frames : int, optional, keyword-only
        Override the preset (clips >= 1, frames >= 2).
    seed : int, keyword-only
        Suite seed (>= 0); equal arguments and seed give byte-identical folders.
    size : tuple of int, optional, keyword-only
        ``(height, width)``, each 16-2048.
    scenarios : sequence of str or comma-separated str, optional, keyword-only
        Families to cycle through (default all eight: occlusion, shadow, support, collision, chain and the human
        families human_kick, human_push, human_carry); ``"rigid"`` and ``"human"`` name the two groups.
    force : bool, keyword-only
        Overwrite earlier suite output in a non-empty ``out_dir``.
    progress : bool, keyword-only
        Show a tqdm progress bar.
    workers : int, optional, keyword-only
        Processes to use (default: up to 2, at most one per clip); 1 generates in this process.
    threshold, dilation : int, keyword-only
        Quadmask difference threshold (0-254) and AFFECTED dilation in pixels (>= 0).

    Returns
    -------
    list of Path
        The clip folders, in clip order.

    Raises
    ------
    InputError
        When ``out_dir`` is not empty (and not ``force``) or is a file.
    ValueError
        For an unknown preset or scenario, or out-of-range numbers.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
    base = PRESETS[preset]
    clips = base.clips if clips is None else clips
    frames = base.frames if frames is None else frames
    size = base.size if size is None else tuple(size)
    families = _parse_scenarios(scenarios)
    _check_numbers(
        clips=clips, frames=frames, size=size, seed=seed, threshold=threshold, dilation=dilation, workers=workers
    )
    out_dir = Path(out_dir)
    _prepare_out_dir(out_dir, force)
    jobs = [
        ClipJob(
            index=index,
            scenario=families[index % len(families)],
            suite_seed=seed,
            frames=frames,
            size=(int(size[0]), int(size[1])),
            fps=base.fps,
            threshold=threshold,
            dilation=dilation,
            folder=str(out_dir / f"{index:03d}_{families[index % len(families)]}"),
        )
        for index in range(clips)
    ]
    workers = min(2, os.cpu_count() or 1) if workers is None else workers
    workers = max(1, min(workers, len(jobs)))
    paths = _run_jobs(jobs, workers=workers, progress=progress)
    index_content: dict[str, Any] = {
        "generator": "void_eval.suite",
        "preset": preset,
        "seed": seed,
        "clips": [path.name for path in paths],
        "frames": frames,
        "size": list(size),
        "fps": base.fps,
        "scenarios": list(families),
        "quadmask": {"threshold": threshold, "dilation": dilation},
    }
    write_json_atomic(out_dir / SUITE_INDEX, index_content, indent=1)
    return paths


def _check_numbers(
    *, clips: int, frames: int, size: tuple[int, ...], seed: int, threshold: int, dilation: int, workers: int | None
) -> None:
    """Raise ValueError for the first of :func:`make_suite`'s numbers that is out of range or not an integer."""
    if isinstance(clips, bool) or not isinstance(clips, int) or clips < 1:
        raise ValueError(f"clips must be an integer >= 1, got {clips!r}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
        raise ValueError(f"frames must be an integer >= 2, got {frames!r}")
    if len(size) != 2 or not all(isinstance(side, int) and 16 <= side <= 2048 for side in size):
        raise ValueError(f"size must be (height, width) with integer sides in 16..2048, got {size!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, int) or not 0 <= threshold <= 254:
        raise ValueError(f"threshold must be an integer in 0..254, got {threshold!r}")
    if isinstance(dilation, bool) or not isinstance(dilation, int) or dilation < 0:
        raise ValueError(f"dilation must be an integer >= 0, got {dilation!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")


def _run_jobs(jobs: list[ClipJob], *, workers: int, progress: bool) -> list[Path]:
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="suite", unit="clip", disable=not progress)
    try:
        if workers == 1:
            paths = []
            for job in jobs:
                paths.append(generate_clip(job))
                bar.update(1)
            return paths
        import multiprocessing

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(generate_clip, job) for job in jobs]
            for future in futures:
                future.result()
                bar.update(1)
            return [future.result() for future in futures]
    finally:
        bar.close()
