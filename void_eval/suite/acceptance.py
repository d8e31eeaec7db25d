"""Reject scenes whose simulation does not show what their family promises (checked on poses, before rendering).

Scenario functions sample freely; a sampled scene is kept only when its two simulations pass these checks, else the
generator draws the next attempt (deterministically, from the same seed). Checks:

* every object other than the removed one stays inside the frame in both worlds (falls and collisions happen in
  view), and the removed object is in view for enough frames;
* ``occlusion`` and ``shadow``: no object is affected;
* ``support``: an affected object drops by at least :data:`MIN_DROP` metres in the counterfactual;
* ``collision`` and ``chain``: the struck objects move at least :data:`MIN_MOVE` metres in the factual world and
  stay within :data:`STILL` metres in the counterfactual; in ``chain`` most dominoes topple.

Examples
--------
>>> from void_eval.suite.scenarios import build_scene
>>> from void_eval.suite.physics import simulate
>>> spec = build_scene("support", seed=0)
>>> factual = simulate(spec, include_removed=True, frames=24, fps=12.0)
>>> counterfactual = simulate(spec, include_removed=False, frames=24, fps=12.0)
>>> scene_problems(spec, factual, counterfactual, size=(96, 168))
[]
"""

from __future__ import annotations

import numpy as np

from void_eval.suite.physics import WorldStates
from void_eval.suite.render import project_points
from void_eval.suite.spec import SceneSpec
from void_eval.suite.tracks import measured_roles, motion_summary

MIN_DROP = 0.03
MIN_MOVE = 0.03
STILL = 0.005
#: Share of frames in which the removed object's centre must project inside the frame.
MIN_REMOVED_IN_VIEW = 0.4
#: Margin (share of the frame size) that other objects' centres must keep from the edges.
EDGE_MARGIN = 0.03


def _inside(points: np.ndarray, size: tuple[int, int], margin: float) -> np.ndarray:
    height, width = size
    x, y = points[..., 0], points[..., 1]
    return (x >= margin * width) & (x <= (1 - margin) * width) & (y >= margin * height) & (y <= (1 - margin) * height)


def scene_problems(
    spec: SceneSpec, factual: WorldStates, counterfactual: WorldStates, *, size: tuple[int, int]
) -> list[str]:
    """Reasons to reject the scene; empty when it is accepted."""
    problems: list[str] = []
    removed = spec.removed_index
    for world, states in (("factual", factual), ("counterfactual", counterfactual)):
        pixels = project_points(states.positions, spec.camera, size)
        for index, obj in enumerate(spec.objects):
            if index == removed or not states.present[index]:
                continue
            if not _inside(pixels[:, index], size, EDGE_MARGIN).all():
                problems.append(f"{obj.name} leaves the frame in the {world} world")
    removed_pixels = project_points(factual.positions[:, removed], spec.camera, size)
    in_view = _inside(removed_pixels, size, 0.0)
    if spec.scenario == "support":
        if not in_view.all():
            problems.append("the removed support leaves the frame")
    elif in_view.mean() < MIN_REMOVED_IN_VIEW:
        problems.append(f"the removed object is in view in only {in_view.mean():.0%} of frames")
    roles = measured_roles(factual, counterfactual, removed)
    affected = [index for index, role in enumerate(roles) if role == "affected"]
    if spec.scenario in ("occlusion", "shadow"):
        if affected:
            problems.append(f"{spec.scenario} scene affects {[spec.objects[i].name for i in affected]}")
        return problems
    if not affected:
        problems.append("no object is affected")
        return problems
    if spec.scenario == "support":
        drops = [-(motion_summary(counterfactual, i) or {}).get("height_change", 0.0) for i in affected]
        if max(drops) < MIN_DROP:
            problems.append(f"the supported object drops only {max(drops):.3f} m without its support")
        return problems
    struck = [index for index, obj in enumerate(spec.objects) if obj.intended_role == "affected"]
    factual_moves = [motion_summary(factual, i)["max_displacement"] for i in struck]
    counterfactual_moves = [motion_summary(counterfactual, i)["max_displacement"] for i in struck]
    if max(factual_moves) < MIN_MOVE:
        problems.append(f"the struck objects move at most {max(factual_moves):.3f} m")
    if max(counterfactual_moves) > STILL:
        problems.append(f"without the object, a struck object still moves {max(counterfactual_moves):.3f} m")
    if spec.scenario == "chain":
        toppled = sum(motion_summary(factual, i)["max_tilt_degrees"] > 45 for i in struck)
        if toppled < 0.6 * len(struck):
            problems.append(f"only {toppled} of {len(struck)} dominoes topple")
    return problems
