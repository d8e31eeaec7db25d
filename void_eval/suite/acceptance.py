"""Reject scenes whose simulation does not show what their family promises (checked on poses, before rendering).

Scenario functions sample freely; a sampled scene is kept only when its two simulations pass these checks, else the
generator draws the next attempt (deterministically, from the same seed). Checks:

* every object other than the removed one stays inside the frame in both worlds (falls and collisions happen in
  view), and the removed object is in view for enough frames;
* ``occlusion`` and ``shadow``: no object is affected;
* ``support``: an affected object drops by at least :data:`MIN_DROP` metres in the counterfactual;
* ``collision`` and ``chain``: the struck objects move at least :data:`MIN_MOVE` metres in the factual world and
  stay within :data:`STILL` metres in the counterfactual; in ``chain`` most dominoes topple;
* the human families (a person is the removed object): the person's first pose penetrates nothing; the first
  object whose motion differs between the worlds is one the person touched (contact impulse measured from the
  simulation, or held in its hand), and it differs only from the frame of that contact on; no object is flung
  faster than :data:`MAX_SPEED` (a kinematic body can squeeze things out at absurd speeds); in ``human_kick``
  and ``human_push`` the struck objects stay put without the person; in ``human_kick`` with dominoes most
  topple; in ``human_carry`` the bag is held and moves differently.

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
from void_eval.suite.tracks import divergence_frames, measured_roles, motion_summary

#: Largest speed (m/s) an object may reach in the factual world of a human scene, per family.
MAX_SPEED: dict[str, float] = {"human_kick": 12.0, "human_push": 3.5, "human_carry": 4.5}
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
    spec: SceneSpec, factual: WorldStates, counterfactual: WorldStates, *, size: tuple[int, int], fps: float = 12.0
) -> list[str]:
    """Reasons to reject the scene; empty when it is accepted (``fps``: the clip's rate, for speeds)."""
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
    if spec.human is not None:
        return problems + human_problems(spec, factual, counterfactual, fps=fps)
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


def human_problems(spec: SceneSpec, factual: WorldStates, counterfactual: WorldStates, *, fps: float) -> list[str]:
    """The human families' checks (see the module docstring)."""
    log = factual.contacts
    if log is None:
        return ["the person's contacts were not recorded"]
    names = [obj.name for obj in spec.objects]
    overlap = np.zeros(len(names), bool) if log.overlap_at_start is None else log.overlap_at_start
    problems = [f"the person starts inside the {names[i]}" for i in np.nonzero(overlap)[0]]
    touched, first_contact = log.touched(), log.first_contact()
    diverges = divergence_frames(factual, counterfactual)
    if (diverges < 0).all():
        return [*problems, "no object moves differently without the person"]
    start = diverges[diverges >= 0].min()
    first = np.nonzero(diverges == start)[0]
    if not any(touched[i] and 0 <= first_contact[i] <= start for i in first):
        problems.append(f"the {names[first[0]]} moves differently before the person touches anything")
    speed = np.linalg.norm(np.diff(factual.positions, axis=0), axis=-1) * fps
    speed[:, spec.removed_index] = 0.0
    limit = MAX_SPEED.get(spec.scenario, 4.0)
    if np.nanmax(speed, initial=0.0) > limit:
        fastest = int(np.nanargmax(np.nanmax(speed, axis=0)))
        problems.append(f"the {names[fastest]} is flung at {np.nanmax(speed):.1f} m/s (> {limit})")
    intended = [i for i, obj in enumerate(spec.objects) if obj.intended_role == "affected"]
    if spec.scenario in ("human_kick", "human_push"):
        still = max(motion_summary(counterfactual, i)["max_displacement"] for i in intended)
        if still > STILL:
            problems.append(f"without the person, a struck object still moves {still:.3f} m")
        moved = max(motion_summary(factual, i)["max_displacement"] for i in intended)
        if moved < MIN_MOVE:
            problems.append(f"the struck objects move at most {moved:.3f} m")
    if spec.scenario == "human_kick" and spec.notes.get("variant") == "dominoes":
        toppled = sum(motion_summary(factual, i)["max_tilt_degrees"] > 45 for i in intended)
        if toppled < 0.6 * len(intended):
            problems.append(f"only {toppled} of {len(intended)} dominoes topple")
    if spec.scenario == "human_carry":
        held = next(i for i, obj in enumerate(spec.objects) if obj.name == spec.human.hold.object)
        if not log.held[:, held].any() or diverges[held] < 0:
            problems.append(f"the {names[held]} is never carried differently from where it would be")
    return problems
