"""Write the known-truth ladder of a suite clip: one lossless output video per rung and ``ladder.json``.

``make_ladder(CLIP, OUT)`` writes ``OUT/<rung>.mp4`` for every rung of :func:`~void_eval.suite.ladder.rungs.
ladder_rungs` (``counterfactual``, ``delay_2``, ``delay_4``, ``delay_8``, ``ghost``, ``half``, ``shadow_30``,
``frozen``, ``input``) and ``OUT/ladder.json``; each video has the clip's frame count, size and rate, so
``void-eval score CLIP OUT/<rung>.mp4`` scores it. Videos are lossless (they decode to exactly the frames built).
The folder appears complete or not at all (written beside it and renamed into place).

``ladder.json`` records per rung its truth (``perfect``, ``partial``, ``worst``), what it degrades (``changes``:
``objects``, the affected objects' motion; ``shadow``, the removed object's shadow), how it was made, and where it
differs from the counterfactual: pixels summed over frames per region ``frame``, ``remove`` (quadmask 0/63),
``affected`` (63/127) and ``shadow`` (``shadow_mask.mp4``), and the frames with any difference; and
``equals_counterfactual``, true when the rung is the counterfactual itself in this clip; ``temporal``, how its
difference from the counterfactual behaves over time (:func:`temporal_kind`). A rung is no partial case for a
metric that reads a region where it does not differ, or that measures an aspect it does not change.
``order`` lists the pairs ``[better, worse]`` that hold by construction: perfect before every other rung, every
partial rung before the worst, and each delay before the next longer one.

Examples
--------
>>> manifest = make_ladder("suite/002_support", "ladder/002_support")  # doctest: +SKIP
>>> [(rung["name"], rung["equals_counterfactual"]) for rung in manifest["rungs"]][:2]  # doctest: +SKIP
[('counterfactual', True), ('delay_2', False)]
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from void_eval.atomic import atomic_folder, write_json_atomic
from void_eval.errors import InputError
from void_eval.suite.ladder.rungs import (
    DEFAULT_DELAYS,
    GHOST_MIX,
    SHADOW_DEPTH,
    Rung,
    delay_name,
    frozen_fill,
    ghost,
    half_time,
    interaction_switch,
    ladder_rungs,
    residual_shadow,
)

LADDER_FILE = "ladder.json"
LADDER_VERSION = "2"


@dataclass(frozen=True)
class ClipArrays:
    """A suite clip's streams decoded whole: videos ``(T, H, W, 3)`` uint8, regions ``(T, H, W)`` bool."""

    input: np.ndarray
    counterfactual: np.ndarray
    remove: np.ndarray
    affected: np.ndarray
    shadow: np.ndarray
    fps: float
    meta: dict[str, Any]


def read_clip_arrays(folder: str | Path) -> ClipArrays:
    """Decode a suite clip folder (needs ``counterfactual.mp4`` and ``meta.json``; ``shadow_mask.mp4`` optional).

    Raises
    ------
    InputError
        Not a clip folder, or one without a counterfactual or meta.json, or a shadow mask of another shape.
    """
    from void_eval.clip import Clip
    from void_eval.metrics.shadow import find_shadow_mask
    from void_eval.quadmask import Quadmask
    from void_eval.video import read_video

    clip = Clip.load(folder)
    if clip.counterfactual_path is None:
        raise InputError(clip.path, "has no counterfactual.mp4; the ladder is built from the ground truth")
    if not clip.meta:
        raise InputError(clip.path / "meta.json", "missing or empty; the ladder needs a suite clip's meta.json")
    factual = read_video(clip.input_path)
    counterfactual = read_video(clip.counterfactual_path)
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))
    shadow_path = find_shadow_mask(clip.path, clip.meta)
    if shadow_path is None:
        shadow = np.zeros(factual.shape[:3], bool)
    else:
        shadow = read_video(shadow_path)[..., 0] > 127
        if shadow.shape != factual.shape[:3]:
            raise InputError(shadow_path, f"has shape {shadow.shape}, the clip's input {factual.shape[:3]}")
    return ClipArrays(
        input=factual,
        counterfactual=counterfactual,
        remove=mask.region("remove_any"),
        affected=mask.region("affected_any"),
        shadow=shadow,
        fps=clip.fps,
        meta=clip.meta,
    )


def _differences(video: np.ndarray, arrays: ClipArrays) -> dict[str, Any]:
    """Where ``video`` differs from the counterfactual (pixels summed over frames, per region)."""
    differs = (video != arrays.counterfactual).any(axis=-1)
    return {
        "frame": int(differs.sum()),
        "remove": int((differs & arrays.remove).sum()),
        "affected": int((differs & arrays.affected).sum()),
        "shadow": int((differs & arrays.shadow).sum()),
        "frames": int(differs.any(axis=(1, 2)).sum()),
    }


def build_rungs(arrays: ClipArrays, source: Path, delays: Sequence[int]) -> Iterator[tuple[Rung, np.ndarray, dict]]:
    """Yield ``(rung, video, how it was made)`` in ladder order; delays re-render the counterfactual world."""
    from void_eval.suite.ladder.delay import affected_indices, delayed_video, moving_indices, replay_counterfactual

    rungs = {rung.name: rung for rung in ladder_rungs(delays)}
    counterfactual, factual = arrays.counterfactual, arrays.input
    yield rungs["counterfactual"], counterfactual, {}
    spec, states = replay_counterfactual(arrays.meta, source / "meta.json")
    objects = moving_indices(states, affected_indices(arrays.meta))
    moving = moving_indices(states, np.flatnonzero(states.present))
    with tempfile.TemporaryDirectory(prefix="void-eval-ladder-textures-") as texture_dir:
        for delay in delays:
            video, rendered = delayed_video(spec, states, counterfactual, objects, delay, texture_dir=texture_dir)
            params = {"delay": delay, "objects": objects, "rendered_frames": rendered.tolist()}
            yield rungs[delay_name(delay)], video, params
    yield rungs["ghost"], ghost(counterfactual, factual, arrays.affected), {"mix": GHOST_MIX}
    switch = interaction_switch(arrays.affected)
    yield rungs["half"], half_time(counterfactual, factual, switch), {"switch_frame": switch}
    shadow_name = next(name for name in rungs if name.startswith("shadow_"))
    shadow_params = {
        "depth": SHADOW_DEPTH,
        "shadow_pixels": int(arrays.shadow.sum()),
        "shadow_moves": role_moves(arrays.meta, "removed"),
    }
    yield rungs[shadow_name], residual_shadow(counterfactual, factual, arrays.shadow), shadow_params
    held = (arrays.remove | arrays.affected).any(axis=0) if moving else np.zeros(counterfactual.shape[1:3], bool)
    frozen_params = {"held_pixels": int(held.sum()), "moving_objects": moving}
    # where neither the affected objects nor the removed one (its shadow) move in the input, the frozen fill and the
    # input show the same (no) motion: a metric of motion alone may tie the two (never reverse them)
    frozen_params["input_still"] = not (role_moves(arrays.meta, "affected") or role_moves(arrays.meta, "removed"))
    yield rungs["frozen"], frozen_fill(counterfactual, held), frozen_params
    yield rungs["input"], factual, {}


def role_moves(meta: dict[str, Any], role: str) -> bool:
    """Whether any object of ``role`` moves in the factual world (``meta.json``'s motion summary against the
    suite's role thresholds); a still removed object casts a still shadow."""
    from void_eval.suite.tracks import MOVED_METRES, TURNED_DEGREES

    for obj in meta.get("objects", []):
        if obj.get("role") != role:
            continue
        motion = (obj.get("motion") or {}).get("factual") or {}
        if motion.get("max_displacement", 0.0) > MOVED_METRES or motion.get("max_tilt_degrees", 0.0) > TURNED_DEGREES:
            return True
    return False


def temporal_kind(rung: Rung, params: dict[str, Any]) -> str:
    """How a rung's difference from the counterfactual behaves over time: ``shift`` (a delay replays the same
    frames later), ``constant`` (a residual of a still shadow is the same offset in every frame), else ``changes``.
    A statistic of frame-to-frame change (E_warp, flicker) cannot see the first two."""
    if rung.name.startswith("delay_"):
        return "shift"
    if rung.changes == frozenset({"shadow"}) and not params.get("shadow_moves", True):
        return "constant"
    return "changes"


def order_pairs(rungs: Sequence[Rung]) -> list[list[str]]:
    """``[better, worse]`` pairs that hold by construction (see the module docstring)."""
    perfect = [rung.name for rung in rungs if rung.truth == "perfect"]
    partial = [rung.name for rung in rungs if rung.truth == "partial"]
    worst = [rung.name for rung in rungs if rung.truth == "worst"]
    pairs = [[best, other] for best in perfect for other in partial + worst]
    pairs += [[middle, bottom] for middle in partial for bottom in worst]
    delays = [name for name in partial if name.startswith("delay_")]
    pairs += [[first, second] for first, second in itertools.pairwise(delays)]
    return pairs


def make_ladder(
    clip: str | Path, out_dir: str | Path, *, delays: Sequence[int] = DEFAULT_DELAYS, force: bool = False
) -> dict[str, Any]:
    """Write the ladder of one suite clip into ``out_dir`` and return the ``ladder.json`` content.

    Parameters
    ----------
    clip : str or Path
        A suite clip folder (``void-eval suite make``).
    out_dir : str or Path
        Folder to create; must be absent or empty unless ``force``.
    delays : sequence of int, keyword-only
        Delays in frames, increasing (default 2, 4, 8).
    force : bool, keyword-only
        Replace an existing ``out_dir``.

    Raises
    ------
    InputError
        Bad clip folder (see :func:`read_clip_arrays`, :func:`~void_eval.suite.ladder.delay.replay_counterfactual`)
        or an occupied ``out_dir``.
    """
    from void_eval.video import VideoWriter

    source, final = Path(clip), Path(out_dir)
    rungs = ladder_rungs(delays)
    if final.exists() and not final.is_dir():
        raise InputError(final, "exists and is not a folder")
    if final.is_dir() and any(final.iterdir()) and not force:
        raise InputError(final, "exists and is not empty; pass force=True (--force) to replace it")
    arrays = read_clip_arrays(source)
    final.parent.mkdir(parents=True, exist_ok=True)
    with atomic_folder(final, replace=True) as partial:
        records = []
        for rung, video, params in build_rungs(arrays, source, delays):
            with VideoWriter(partial / f"{rung.name}.mp4", arrays.fps, kind="lossless") as writer:
                writer.write(video)
            records.append(_rung_record(rung, video, params, arrays))
        manifest = _manifest(source, arrays, records, rungs)
        write_json_atomic(partial / LADDER_FILE, manifest, indent=1)
    return manifest


def _rung_record(rung: Rung, video: np.ndarray, params: dict[str, Any], arrays: ClipArrays) -> dict[str, Any]:
    """One rung's entry in ``ladder.json``: what it is, how it was made and where it differs from the counterfactual."""
    differences = _differences(video, arrays)
    return {
        "name": rung.name,
        "file": f"{rung.name}.mp4",
        "truth": rung.truth,
        "changes": sorted(rung.changes),
        "temporal": temporal_kind(rung, params),
        "description": rung.description,
        "params": params,
        "differs_from_counterfactual": differences,
        "equals_counterfactual": bool(np.array_equal(video, arrays.counterfactual)),
    }


def _manifest(source: Path, arrays: ClipArrays, records: list[dict[str, Any]], rungs: Sequence[Rung]) -> dict[str, Any]:
    """The ``ladder.json`` content: the clip, its frames, size and rate, the rung ``records`` and their order."""
    return {
        "version": LADDER_VERSION,
        "clip": source.name,
        "clip_path": str(source.resolve()),
        "scenario": arrays.meta.get("scenario"),
        "frames": len(arrays.counterfactual),
        "size": list(arrays.counterfactual.shape[1:3]),
        "fps": arrays.fps,
        "rungs": records,
        "order": order_pairs(rungs),
    }


def make_suite_ladders(
    suite: str | Path, out_dir: str | Path, *, delays: Sequence[int] = DEFAULT_DELAYS, force: bool = False
) -> list[Path]:
    """:func:`make_ladder` for every clip of a suite (the ``clips`` of its ``suite.json``): ``out_dir/<clip>/``.

    Raises
    ------
    InputError
        When ``suite`` has no readable ``suite.json``, or from :func:`make_ladder`.
    """
    suite, out_dir = Path(suite), Path(out_dir)
    index = suite / "suite.json"
    try:
        names = [str(name) for name in json.loads(index.read_text())["clips"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputError(index, f"not a readable suite index ({err})") from err
    paths = []
    for name in names:
        make_ladder(suite / name, out_dir / name, delays=delays, force=force)
        paths.append(out_dir / name)
    return paths
