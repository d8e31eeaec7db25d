"""Simulate and render both worlds of a scene: factual (with the removed object) and counterfactual (without).

Besides the two worlds, a third render, *behind*, shows the factual physical state with the removed object taken
out: what the camera would see behind the object at that moment, and the scene without the object's shadow. It
gives the removed object's shadow (factual vs behind, outside the object) and the overlap level (behind vs
counterfactual, inside the object). Where every other object is in the same pose in both worlds, behind equals
the counterfactual render and is not rendered again.

Examples
--------
>>> import tempfile
>>> from void_eval.suite.scenarios import build_scene
>>> pair = simulate_pair(build_scene("collision", seed=1), frames=4, fps=12.0, size=(48, 84),
...                      texture_dir=tempfile.mkdtemp())
>>> pair.factual_rgb.shape, pair.counterfactual_ids.shape
((4, 48, 84, 3), (4, 48, 84))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void_eval.suite.physics import WorldStates, simulate
from void_eval.suite.render import SceneRenderer
from void_eval.suite.spec import SceneSpec


@dataclass(frozen=True)
class WorldPair:
    """Renders and states of both worlds.

    Attributes
    ----------
    factual_rgb, counterfactual_rgb, behind_rgb : np.ndarray
        ``(T, H, W, 3)`` uint8.
    factual_ids, counterfactual_ids, behind_ids : np.ndarray
        ``(T, H, W)`` int16 object index per pixel, ``-1`` for background.
    factual, counterfactual : WorldStates
        Poses per frame.
    """

    factual_rgb: np.ndarray
    counterfactual_rgb: np.ndarray
    behind_rgb: np.ndarray
    factual_ids: np.ndarray
    counterfactual_ids: np.ndarray
    behind_ids: np.ndarray
    factual: WorldStates
    counterfactual: WorldStates


def same_others(factual: WorldStates, counterfactual: WorldStates) -> np.ndarray:
    """``(T,)`` bool: every object present in the counterfactual has exactly the same pose in both worlds."""
    present = counterfactual.present
    same_position = (factual.positions[:, present] == counterfactual.positions[:, present]).all(axis=(1, 2))
    same_orientation = (factual.orientations[:, present] == counterfactual.orientations[:, present]).all(axis=(1, 2))
    return same_position & same_orientation


def simulate_pair(
    spec: SceneSpec,
    *,
    frames: int,
    fps: float,
    size: tuple[int, int],
    texture_dir: str | Path,
    factual: WorldStates | None = None,
    counterfactual: WorldStates | None = None,
) -> WorldPair:
    """Simulate (unless states are given) and render the factual, counterfactual and behind views.

    Parameters
    ----------
    spec : SceneSpec
        The scene.
    frames, fps : keyword-only
        Clip length and frame rate (see :func:`void_eval.suite.physics.simulate`).
    size : tuple of int, keyword-only
        ``(height, width)``.
    texture_dir : keyword-only
        Folder for texture PNGs.
    factual, counterfactual : WorldStates, optional, keyword-only
        Already simulated states (e.g. from scene validation), to skip simulating again.
    """
    if factual is None:
        factual = simulate(spec, include_removed=True, frames=frames, fps=fps)
    if counterfactual is None:
        counterfactual = simulate(spec, include_removed=False, frames=frames, fps=fps)
    height, width = size
    shape = (frames, height, width)
    out = {
        name: np.empty((*shape, 3), np.uint8) if name.endswith("rgb") else np.empty(shape, np.int16)
        for name in (
            "factual_rgb",
            "counterfactual_rgb",
            "behind_rgb",
            "factual_ids",
            "counterfactual_ids",
            "behind_ids",
        )
    }
    unchanged = same_others(factual, counterfactual)
    with (
        SceneRenderer(spec, include_removed=True, size=size, texture_dir=texture_dir) as with_object,
        SceneRenderer(spec, include_removed=False, size=size, texture_dir=texture_dir) as without_object,
    ):
        for frame in range(frames):
            joints = {index: values[frame] for index, values in factual.joints.items()}
            out["factual_rgb"][frame], out["factual_ids"][frame] = with_object.render(
                factual.positions[frame], factual.orientations[frame], joints=joints
            )
            out["counterfactual_rgb"][frame], out["counterfactual_ids"][frame] = without_object.render(
                counterfactual.positions[frame], counterfactual.orientations[frame]
            )
            if unchanged[frame]:
                out["behind_rgb"][frame] = out["counterfactual_rgb"][frame]
                out["behind_ids"][frame] = out["counterfactual_ids"][frame]
            else:
                out["behind_rgb"][frame], out["behind_ids"][frame] = without_object.render(
                    factual.positions[frame], factual.orientations[frame]
                )
    return WorldPair(factual=factual, counterfactual=counterfactual, **out)
