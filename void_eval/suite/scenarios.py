"""The scenario families, each a function from a seeded RNG to a :class:`SceneSpec`: five tabletop rigid-body
families here (their removed objects and the structures they act on in :mod:`void_eval.suite.rigid_parts`) and
three human-object families in :mod:`void_eval.suite.scenarios_human`.

=============  =======================================================================================
family         what the removed object does
=============  =======================================================================================
occlusion      rolls or slides across the view in front of other objects, touching none of them
shadow         rolls past other objects under a low light; its shadow sweeps over them, no contact
support        holds something up (a block under a plank, a column under a ball or box); without it,
               that thing falls
collision      is launched into one to three light blocks and knocks them; without it they stay put
chain          strikes the first of a row of dominoes; without it nothing falls
human_kick     a motion-captured person kicks a ball or a row of tall dominoes
human_push     a walking person shoves or topples a box, a bin or a stack of crates in its way
human_carry    a walking person carries a bag and drops it, or picks it up from a stand
=============  =======================================================================================

Everything is randomised by the seed: sizes, colours, masses, positions, speeds, textures, camera and light.
Motion comes from the simulation: scenes set only initial poses and velocities.

Examples
--------
>>> spec = build_scene("chain", seed=7)
>>> spec.scenario, spec.objects[spec.removed_index].intended_role
('chain', 'removed')
>>> sorted(SCENARIOS)
['chain', 'collision', 'human_carry', 'human_kick', 'human_push', 'occlusion', 'shadow', 'support']
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from void_eval.suite import rigid_parts as rigid
from void_eval.suite import scene_parts as parts
from void_eval.suite.scenarios_human import build_human_carry, build_human_kick, build_human_push
from void_eval.suite.spec import LightSpec, ObjectSpec, SceneSpec


def _tabletop_scene(
    rng: np.random.Generator,
    scenario: str,
    objects: list[ObjectSpec],
    light: LightSpec,
    floor: dict,
    backdrop: dict,
    prompt: str,
    notes: dict | None = None,
) -> SceneSpec:
    """A tabletop scene around ``objects``: draws the camera, then the backdrop distance, from ``rng``."""
    return SceneSpec(
        scenario=scenario,
        objects=tuple(objects),
        camera=parts.camera(rng),
        light=light,
        floor_texture=floor,
        backdrop_texture=backdrop,
        backdrop_distance=float(round(rng.uniform(1.1, 1.4), 3)),
        prompt=prompt,
        notes={} if notes is None else notes,
    )


def build_occlusion(rng: np.random.Generator) -> SceneSpec:
    """A ball rolls (or a box slides) across the view in front of resting objects, touching none."""
    colours = parts.colours(rng, 5)
    count = int(rng.integers(2, 4))
    ys = np.sort(rng.uniform(-0.55, 0.55, count))
    ys = ys + np.arange(count) * 0.05 - (count - 1) * 0.025
    slots = [(float(rng.uniform(-0.45, -0.25)), float(y)) for y in ys]
    objects = parts.distractors(rng, colours[1:], slots)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    x_path = float(rng.uniform(0.15, 0.35))
    objects.append(rigid.crossing_object(rng, colours[0], x_path, direction))
    floor, backdrop = parts.textures(rng)
    light = parts.light(rng, azimuth_deg=float(rng.uniform(-40, 40)), elevation_deg=float(rng.uniform(42, 55)))
    return _tabletop_scene(rng, "occlusion", objects, light, floor, backdrop, parts.describe(objects, floor))


def build_shadow(rng: np.random.Generator) -> SceneSpec:
    """A ball rolls slowly past resting objects under a low side light; its shadow crosses them, no contact.

    The objects stand 2-6 cm beside the ball's path (measured from their widest extent), on the side away from
    the light.
    """
    colours = parts.colours(rng, 5)
    side = 1.0 if rng.random() < 0.5 else -1.0
    colour_name, colour = colours[0]
    radius = float(rng.uniform(0.1, 0.12))
    y_path = side * float(rng.uniform(0.12, 0.18))
    count = int(rng.integers(2, 4))
    xs = np.linspace(-0.35, 0.2, count) + rng.uniform(-0.04, 0.04, count)
    objects = parts.distractors(rng, colours[1:], [(float(x), 0.0) for x in xs])
    for index, obj in enumerate(objects):
        if obj.shape == "box":  # tall enough to catch the shadow
            half = (obj.size[0], obj.size[1], max(obj.size[2], 0.12))
            obj = parts.resting_block(obj.name, obj.color, obj.position[0], 0.0, half, mass=1.0)
            extent = math.hypot(half[0], half[1])
        else:
            extent = obj.size[0]
        y = y_path - side * (radius + extent + float(rng.uniform(0.02, 0.06)))
        objects[index] = dataclasses.replace(obj, position=parts.rounded((obj.position[0], y, obj.position[2])))
    heading = 1.0 if rng.random() < 0.5 else -1.0
    speed = float(rng.uniform(0.22, 0.3))
    removed = ObjectSpec(
        name=f"{colour_name} ball",
        shape="sphere",
        size=(round(radius, 5),),
        position=parts.rounded((-heading * 0.55, y_path, radius)),
        color=colour,
        mass=0.5,
        intended_role="removed",
        velocity=parts.rounded((heading * speed, 0.0, 0.0)),
        angular_velocity=parts.rounded((0.0, heading * speed / radius, 0.0)),
        rolling_friction=0.0005,
    )
    objects.append(removed)
    floor, backdrop = parts.textures(rng)
    # Light low on the ball's side: the shadow points from the ball across the objects.
    light = parts.light(rng, azimuth_deg=side * float(rng.uniform(65, 85)), elevation_deg=float(rng.uniform(26, 30)))
    prompt = parts.describe(objects, floor, " in low sunlight")
    return _tabletop_scene(rng, "shadow", objects, light, floor, backdrop, prompt)


def _support_prompt(objects: list[ObjectSpec], variant: str, description: str, floor: dict) -> str:
    """The counterfactual support scene: the fallen thing, then the static objects (a plank's other block aside)."""
    statics = [parts.article(obj.name) for obj in objects if obj.intended_role == "static" and obj is not objects[0]]
    if variant == "column":
        statics = [parts.article(obj.name) for obj in objects if obj.intended_role == "static"]
    tail = f", and {' and '.join(statics)} nearby" if statics else ""
    return (
        f"{description[0].upper()}{description[1:]}{tail}, on {parts.FLOOR_WORDS[floor['image']]} floor in front of a "
        "picture wall."
    )


def build_support(rng: np.random.Generator) -> SceneSpec:
    """The removed block or column holds something up: a plank end, a ball or a box on top."""
    colours = parts.colours(rng, 6)
    variant = str(rng.choice(["plank", "column"]))
    y0 = float(rng.uniform(-0.15, 0.15))
    x0 = float(rng.uniform(-0.15, 0.05))
    build_part = rigid.plank_support if variant == "plank" else rigid.column_support
    objects, removed, description = build_part(rng, colours, x0, y0)
    side_slots = [(float(rng.uniform(-0.5, -0.35)), float(y)) for y in rng.choice([-0.7, 0.7], 1)]
    objects.extend(parts.distractors(rng, colours[4:], side_slots))
    objects.append(removed)
    floor, backdrop = parts.textures(rng)
    light = parts.light(rng, azimuth_deg=float(rng.uniform(-60, 60)), elevation_deg=float(rng.uniform(38, 50)))
    prompt = _support_prompt(objects, variant, description, floor)
    return _tabletop_scene(rng, "support", objects, light, floor, backdrop, prompt, notes={"variant": variant})


def build_collision(rng: np.random.Generator) -> SceneSpec:
    """A ball (or a sliding box) is launched into one to three light blocks."""
    colours = parts.colours(rng, 6)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    x_line = float(rng.uniform(-0.15, 0.1))
    count = int(rng.integers(1, 4))
    y_first = float(rng.uniform(-0.15, 0.05)) * direction
    objects = rigid.collision_blocks(rng, colours, count, x_line, y_first, direction)
    speed = float(rng.uniform(1.8, 2.3))
    start_y = y_first - direction * float(rng.uniform(0.5, 0.6))
    removed = rigid.launched_object(rng, colours[0], x_line, start_y, direction, speed)
    side_slots = [(float(rng.uniform(-0.5, -0.4)), float(-direction * rng.uniform(0.55, 0.7)))]
    objects.extend(parts.distractors(rng, colours[4:], side_slots))
    objects.append(removed)
    floor, backdrop = parts.textures(rng)
    light = parts.light(rng, azimuth_deg=float(rng.uniform(-60, 60)), elevation_deg=float(rng.uniform(38, 50)))
    prompt = parts.describe(objects, floor, ", standing still")
    return _tabletop_scene(rng, "collision", objects, light, floor, backdrop, prompt)


def build_chain(rng: np.random.Generator) -> SceneSpec:
    """A ball strikes the first of a row of dominoes; the row topples one by one.

    The row runs at 20-35 degrees to the image plane so the camera sees the dominoes' faces, not their edges.
    """
    colours = parts.colours(rng, 3)
    direction = 1.0 if rng.random() < 0.5 else -1.0
    count = int(rng.integers(5, 8))
    height = float(rng.uniform(0.1, 0.12))
    spacing = float(rng.uniform(0.55, 0.65)) * 2 * height
    half = (0.045, 0.011, height)
    angle = math.radians(float(rng.uniform(20, 35))) * (1.0 if rng.random() < 0.5 else -1.0)
    along = np.array([math.sin(angle), math.cos(angle)]) * direction
    across = np.array([math.cos(angle), -math.sin(angle)])
    centre = np.array([float(rng.uniform(-0.12, 0.0)), float(rng.uniform(-0.05, 0.05))])
    curve = float(rng.uniform(-0.08, 0.08))
    objects: list[ObjectSpec] = []
    for index in range(count):
        offset = index - (count - 1) / 2
        fraction = index / max(count - 1, 1)
        x, y = centre + along * offset * spacing + across * curve * (4 * (fraction - 0.5) ** 2 - 1)
        name, colour = colours[1] if index % 2 == 0 else colours[2]
        objects.append(
            parts.resting_block(
                f"{name} domino {index + 1}",
                colour,
                float(x),
                float(y),
                half,
                mass=0.1,
                role="affected",
                yaw=-angle,
            )
        )
    objects.append(rigid.striking_ball(rng, colours[0], np.array(objects[0].position[:2]), along, height))
    floor, backdrop = parts.textures(rng)
    light = parts.light(rng, azimuth_deg=float(rng.uniform(-50, 50)), elevation_deg=float(rng.uniform(40, 52)))
    prompt = (
        f"A row of {count} standing dominoes on {parts.FLOOR_WORDS[floor['image']]} floor in front of a picture "
        "wall, none of them falling."
    )
    return _tabletop_scene(rng, "chain", objects, light, floor, backdrop, prompt, notes={"dominoes": count})


SCENARIOS: dict[str, Callable[[np.random.Generator], SceneSpec]] = {
    "occlusion": build_occlusion,
    "shadow": build_shadow,
    "support": build_support,
    "collision": build_collision,
    "chain": build_chain,
    "human_kick": build_human_kick,
    "human_push": build_human_push,
    "human_carry": build_human_carry,
}


def build_scene(family: str, seed: int | np.random.Generator) -> SceneSpec:
    """Build one scene of ``family`` from ``seed`` (an int or a numpy Generator).

    Raises
    ------
    ValueError
        For an unknown family.
    """
    if family not in SCENARIOS:
        raise ValueError(f"unknown scenario {family!r}; expected one of {', '.join(SCENARIOS)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return SCENARIOS[family](rng)
