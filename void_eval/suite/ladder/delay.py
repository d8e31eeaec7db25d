"""Delayed rungs: the counterfactual world re-rendered with the affected objects' motion replayed late.

A suite clip's ``meta.json`` names its scene (``scenario`` and ``seed``: :func:`~void_eval.suite.scenarios.
build_scene` rebuilds it) and the poses of every object at every frame. :func:`replay_counterfactual` simulates the
counterfactual world again (pybullet is deterministic: the same poses, bit for bit) and checks them against the
recorded ones. :func:`delayed_states` then replays the poses of the affected objects ``k`` frames late,
``P'_i(t) = P_i(max(t - k, 0))``, the other objects keeping their own; :func:`delayed_video` renders those poses
with the suite's renderer, so the late objects cast their own shadows and occlude what they really occlude. Only
frames whose poses differ from the counterfactual's are rendered; the others are the counterfactual's frames,
which the same renderer produced from the same poses (a test checks that re-rendering every frame at ``k = 0``
gives ``counterfactual.mp4`` exactly).

Only affected objects that move in the counterfactual (:func:`moving_indices`) are delayed. Where none does
(collision and chain scenes: without the removed object nothing is struck), or a clip has no affected object, every
delay gives the counterfactual itself.

Examples
--------
>>> import numpy as np
>>> from void_eval.suite.physics import WorldStates
>>> positions = np.arange(5.0)[:, None, None].repeat(2, axis=1).repeat(3, axis=2)
>>> states = WorldStates(positions, np.zeros((5, 2, 4)), np.ones(2, bool))
>>> delayed_states(states, [1], 2).positions[:, :, 0].tolist()
[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 1.0], [4.0, 2.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from void_eval.errors import InputError
from void_eval.suite.physics import WorldStates
from void_eval.suite.spec import SceneSpec

#: Largest difference (metres, quaternion units) between re-simulated and recorded poses; meta.json rounds to 5
#: decimals, so a faithful replay is within 5e-6.
POSE_TOLERANCE = 1e-5


def affected_indices(meta: dict[str, Any]) -> list[int]:
    """Ids of the objects whose measured role in ``meta.json`` is ``affected``."""
    return [int(obj["id"]) for obj in meta.get("objects", []) if obj.get("role") == "affected"]


def moving_indices(states: WorldStates, objects: Sequence[int]) -> list[int]:
    """Those of ``objects`` that move in ``states``: at some frame more than the suite's role thresholds
    (:data:`~void_eval.suite.tracks.MOVED_METRES`, :data:`~void_eval.suite.tracks.TURNED_DEGREES`) from their
    frame-0 pose. Resting bodies settle by fractions of a millimetre; delaying that would change a few pixels and
    make a rung that is no partial case."""
    from void_eval.suite.tracks import MOVED_METRES, TURNED_DEGREES, rotation_degrees

    moving = []
    for index in objects:
        positions, orientations = states.positions[:, index], states.orientations[:, index]
        moved = np.linalg.norm(positions - positions[0], axis=-1).max()
        turned = rotation_degrees(orientations, orientations[0]).max()
        if moved > MOVED_METRES or turned > TURNED_DEGREES:
            moving.append(int(index))
    return moving


def replay_counterfactual(meta: dict[str, Any], source: str | Path) -> tuple[SceneSpec, WorldStates]:
    """Rebuild the clip's scene and simulate its counterfactual world again.

    Parameters
    ----------
    meta : dict
        The clip's ``meta.json`` (a suite clip: ``scenario``, ``seed``, ``frames``, ``fps``, ``objects`` tracks).
    source : str or Path
        The ``meta.json`` path, named in errors.

    Raises
    ------
    InputError
        When ``meta.json`` lacks what is needed, or the replayed poses differ from the recorded ones (a clip made
        by another pybullet or suite version).
    """
    from void_eval.suite.physics import simulate
    from void_eval.suite.scenarios import build_scene

    try:
        spec = build_scene(str(meta["scenario"]), int(meta["seed"]))
        frames, fps = int(meta["frames"]), float(meta["fps"])
        recorded = [obj["tracks"]["counterfactual"] for obj in meta["objects"]]
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(
            source, f"not a suite clip's meta.json (needs scenario, seed, frames, fps, objects): {err}"
        ) from err
    if len(recorded) != len(spec.objects):
        raise InputError(source, f"lists {len(recorded)} objects, the rebuilt scene has {len(spec.objects)}")
    states = simulate(spec, include_removed=False, frames=frames, fps=fps)
    worst = 0.0
    for index, track in enumerate(recorded):
        if not states.present[index]:
            continue
        try:
            positions = np.array([entry["position"] for entry in track], dtype=np.float64)
            orientations = np.array([entry["orientation"] for entry in track], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as err:
            raise InputError(source, f"object {index}'s counterfactual track has no readable poses: {err}") from err
        if positions.shape != states.positions[:, index].shape:
            raise InputError(source, f"object {index}'s counterfactual track has {len(track)} frames, not {frames}")
        worst = max(
            worst,
            float(np.abs(positions - states.positions[:, index]).max()),
            float(np.abs(orientations - states.orientations[:, index]).max()),
        )
    if worst > POSE_TOLERANCE:
        raise InputError(
            source,
            f"re-simulating the counterfactual world does not reproduce the recorded poses (largest difference "
            f"{worst:.3g}); was the clip made with another pybullet or suite version?",
        )
    return spec, states


def delayed_states(states: WorldStates, objects: Sequence[int], delay: int) -> WorldStates:
    """``states`` with the poses of ``objects`` replayed ``delay`` frames late (held at frame 0 meanwhile)."""
    if delay < 0:
        raise ValueError(f"delay must be >= 0, got {delay}")
    source = np.maximum(np.arange(states.frames) - delay, 0)
    objects = list(objects)
    positions = states.positions.copy()
    orientations = states.orientations.copy()
    positions[:, objects] = states.positions[source][:, objects]
    orientations[:, objects] = states.orientations[source][:, objects]
    return WorldStates(positions=positions, orientations=orientations, present=states.present)


def changed_frames(states: WorldStates, reference: WorldStates) -> np.ndarray:
    """Indices of the frames where some present object's pose differs between ``states`` and ``reference``."""
    present = states.present
    same = (states.positions[:, present] == reference.positions[:, present]).all(axis=(1, 2)) & (
        states.orientations[:, present] == reference.orientations[:, present]
    ).all(axis=(1, 2))
    return np.flatnonzero(~same)


def render_states(
    spec: SceneSpec, states: WorldStates, frames: Sequence[int], *, size: tuple[int, int], texture_dir: str | Path
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``frames`` of the counterfactual world in ``states``: RGB ``(n, H, W, 3)`` and ids ``(n, H, W)``."""
    from void_eval.suite.render import SceneRenderer

    frames = list(frames)
    rgb = np.empty((len(frames), *size, 3), np.uint8)
    ids = np.empty((len(frames), *size), np.int16)
    with SceneRenderer(spec, include_removed=False, size=size, texture_dir=texture_dir) as renderer:
        for row, frame in enumerate(frames):
            rgb[row], ids[row] = renderer.render(states.positions[frame], states.orientations[frame])
    return rgb, ids


def delayed_video(
    spec: SceneSpec,
    states: WorldStates,
    counterfactual: np.ndarray,
    objects: Sequence[int],
    delay: int,
    *,
    texture_dir: str | Path,
) -> tuple[np.ndarray, np.ndarray]:
    """The counterfactual video with ``objects`` replayed ``delay`` frames late.

    Parameters
    ----------
    spec, states : SceneSpec, WorldStates
        The scene and its counterfactual poses (:func:`replay_counterfactual`).
    counterfactual : np.ndarray
        ``(T, H, W, 3)`` uint8 counterfactual frames (the clip's ``counterfactual.mp4``, lossless).
    objects : sequence of int
        Object ids to delay (the affected ones).
    delay : int
        Frames (>= 0).
    texture_dir : str or Path, keyword-only
        Folder for the renderer's texture PNGs.

    Returns
    -------
    video : np.ndarray
        ``(T, H, W, 3)`` uint8.
    rendered : np.ndarray
        Indices of the frames that were rendered (all others are the counterfactual's).
    """
    late = delayed_states(states, objects, delay)
    rendered = changed_frames(late, states)
    video = counterfactual.copy()
    if len(rendered):
        video[rendered] = render_states(spec, late, rendered, size=counterfactual.shape[1:3], texture_dir=texture_dir)[
            0
        ]
    return video, rendered
