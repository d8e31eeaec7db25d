"""The human-object families: a motion-captured person (the removed object) who touches things.

=============  =======================================================================================
family         what the person does
=============  =======================================================================================
human_kick     kicks a ball, or the first of a row of tall dominoes, with the right foot
human_push     walks into one or two light boxes or bins standing in its way and shoves or topples them
human_carry    carries a bag in the right hand: held from the start and dropped mid-way (without the
               person it falls at once), or picked up from a stand on the way (without the person it
               stays on the stand)
=============  =======================================================================================

The person plays a pybullet motion-capture clip kinematically (see :mod:`void_eval.suite.humanoid`). Objects
are placed from the clip itself: the builders run forward kinematics of the placed clip and put the ball where
the kicking foot sweeps low, the boxes where the pelvis will be, the bag under the hand, so that contact really
happens; the suite then measures it (:mod:`void_eval.suite.actor`) and keeps only scenes where it changed some
object's motion (:mod:`void_eval.suite.acceptance`).

Examples
--------
>>> spec = build_human_kick(np.random.default_rng(4))
>>> spec.scenario, spec.human.motion, spec.objects[spec.removed_index].shape
('human_kick', 'kick', 'humanoid')
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from void_eval.suite import scene_parts as parts
from void_eval.suite.humanoid import LINKS, link_poses
from void_eval.suite.spec import CameraSpec, HoldSpec, HumanSpec, ObjectSpec, SceneSpec

#: Set size of the human scenes relative to the tabletop families (floor, backdrop, texture tiles).
HUMAN_STAGE = 3.0
#: Distance (metres) of TinyRenderer's shadow-casting light from the origin in the human scenes.
LIGHT_DISTANCE = 8.0
#: Half the length of the humanoid's foot box at scale 1 (metres).
FOOT_HALF_LENGTH = 0.0885
#: Human families assume clips of at least this many seconds (the suite's tiny preset: 24 frames at 12 fps).
MIN_SECONDS = 2.0
SKIN: tuple[tuple[int, int, int], ...] = (
    (255, 219, 172),
    (241, 194, 125),
    (224, 172, 105),
    (198, 134, 66),
    (141, 85, 36),
    (92, 58, 36),
)
SHIRTS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (190, 35, 35)),
    ("blue", (45, 80, 180)),
    ("yellow", (225, 190, 40)),
    ("green", (50, 140, 70)),
    ("white", (230, 230, 230)),
    ("black", (35, 35, 40)),
    ("orange", (225, 115, 30)),
)
TROUSERS: tuple[tuple[int, int, int], ...] = ((40, 50, 90), (60, 60, 65), (110, 85, 60), (30, 30, 30), (150, 140, 120))
SHOES: tuple[tuple[int, int, int], ...] = ((25, 25, 25), (235, 235, 235), (120, 70, 40))


def _pick(rng: np.random.Generator, options: tuple):
    return options[int(rng.integers(len(options)))]


def _person(rng: np.random.Generator, motion: str, start: float, yaw: float, hold: HoldSpec | None = None):
    """A person placed at the origin (moved later) with random clothes; returns (HumanSpec, shirt colour name)."""
    shirt_name, shirt = _pick(rng, SHIRTS)
    colors = {
        "skin": _pick(rng, SKIN),
        "shirt": shirt,
        "sleeves": shirt if rng.random() < 0.5 else _pick(rng, SKIN),
        "trousers": _pick(rng, TROUSERS),
        "shoes": _pick(rng, SHOES),
    }
    human = HumanSpec(
        motion=motion,
        start=float(round(start, 4)),
        position=(0.0, 0.0),
        yaw=float(round(yaw, 5)),
        scale=float(round(rng.uniform(1.05, 1.15), 4)),
        colors=colors,
        hold=hold,
    )
    return human, shirt_name


def _moved(human: HumanSpec, offset: np.ndarray) -> HumanSpec:
    return replace(human, position=parts.rounded((human.position[0] + offset[0], human.position[1] + offset[1])))


def _person_object(human: HumanSpec, shirt_name: str) -> ObjectSpec:
    """The removed object: the person, at its pelvis's first position."""
    start = link_poses(human, np.array([0.0]))[0][0, LINKS.index("root")]
    return ObjectSpec(
        name=f"person in a {shirt_name} shirt",
        shape="humanoid",
        size=(human.height,),
        position=parts.rounded(start),
        color=tuple(human.colors["shirt"]),
        mass=0.0,
        intended_role="removed",
        human=human,
    )


def _camera(rng: np.random.Generator) -> CameraSpec:
    azimuth = math.radians(rng.uniform(-15, 15))
    elevation = math.radians(rng.uniform(12, 18))
    radius = rng.uniform(4.0, 4.6)
    target = (rng.uniform(-0.2, 0.2), rng.uniform(-0.2, 0.2), 0.75)
    eye = (
        target[0] + radius * math.cos(elevation) * math.cos(azimuth),
        target[1] + radius * math.cos(elevation) * math.sin(azimuth),
        target[2] + radius * math.sin(elevation),
    )
    return CameraSpec(eye=parts.rounded(eye), target=parts.rounded(target), fov=float(round(rng.uniform(40, 44), 2)))


def _scene(rng: np.random.Generator, scenario: str, objects: list[ObjectSpec], notes: dict, tail: str) -> SceneSpec:
    """Camera, light, textures and prompt around the objects (the person last)."""
    floor, backdrop = parts.textures(rng)
    # From the camera's side and fairly high: the backdrop and far floor are lit at no grazing angle, and from 8 m
    # TinyRenderer's light view (which targets the origin with the camera's field of view) covers the whole set.
    light = parts.light(rng, azimuth_deg=float(rng.uniform(-35, 35)), elevation_deg=float(rng.uniform(45, 58)))
    return SceneSpec(
        scenario=scenario,
        objects=tuple(objects),
        camera=_camera(rng),
        light=replace(light, distance=LIGHT_DISTANCE),
        floor_texture=floor,
        backdrop_texture=backdrop,
        backdrop_distance=float(round(rng.uniform(2.6, 3.2), 3)),
        prompt=parts.describe(objects, floor, tail),
        notes=notes,
        stage=HUMAN_STAGE,
    )


def _heading(rng: np.random.Generator, low: float, high: float) -> float:
    """A walking/kicking direction ``low``-``high`` degrees off the camera axis (+x), on either side."""
    side = 1.0 if rng.random() < 0.5 else -1.0
    return side * math.radians(float(rng.uniform(low, high)))


def _forward(yaw: float) -> np.ndarray:
    return np.array([math.cos(yaw), math.sin(yaw)])


def _link_track(human: HumanSpec, link: str, clip_times: np.ndarray) -> np.ndarray:
    """World centre ``(T, 3)`` of one of the person's links at ``clip_times``."""
    return link_poses(human, clip_times)[0][:, LINKS.index(link)]


def _swing_point(track: np.ndarray, forward: np.ndarray, level: float, *, speed: float = 1.0) -> np.ndarray:
    """Where a swinging foot, moving forward faster than ``speed`` m/s, is first at height ``level`` or above.

    ``track`` is the foot's centre at 120 samples per second; the last sample is used when it never is.
    """
    velocity = np.gradient(track[:, :2], axis=0) * 120 @ forward
    index = np.nonzero((track[:, 2] >= level) & (velocity > speed))[0]
    return track[int(index[0]) if len(index) else -1]


def _side_props(rng: np.random.Generator, names: list, centre: np.ndarray, forward: np.ndarray) -> list[ObjectSpec]:
    """One or two resting props beside the action, well away from the person's path."""
    across = np.array([-forward[1], forward[0]])
    slots = []
    for side in rng.permutation([-1.0, 1.0])[: int(rng.integers(1, 3))]:
        point = centre + across * side * rng.uniform(0.8, 1.1) + forward * rng.uniform(-0.5, 0.5)
        slots.append((float(point[0]), float(point[1])))
    props = parts.distractors(rng, names, slots)
    scale = 2.2  # tabletop props grown to room size
    grown = []
    for obj in props:
        size = parts.rounded([v * scale for v in obj.size])
        grown.append(
            ObjectSpec(
                name=obj.name,
                shape=obj.shape,
                size=size,
                position=parts.rounded((obj.position[0], obj.position[1], obj.position[2] * scale)),
                color=obj.color,
                mass=obj.mass * 4,
                intended_role="static",
                orientation=obj.orientation,
                rolling_friction=obj.rolling_friction,
            )
        )
    return grown


def _kick_ball(rng: np.random.Generator, colour: tuple, foot: np.ndarray, forward: np.ndarray, scale: float):
    """A ball just in front of the kicking foot's toes at rest: the swing passes through its upper half."""
    radius = float(rng.uniform(0.1, 0.13))
    point = foot[0, :2] + forward * (FOOT_HALF_LENGTH * scale + radius + float(rng.uniform(0.04, 0.08)))
    ball = ObjectSpec(
        name=f"{colour[0]} ball",
        shape="sphere",
        size=(round(radius, 5),),
        position=parts.rounded((point[0], point[1], radius)),
        color=colour[1],
        mass=float(round(rng.uniform(0.4, 0.6), 3)),
        intended_role="affected",
        restitution=0.5,
        rolling_friction=0.02,
    )
    return [ball], -forward * float(rng.uniform(0.6, 1.0))


def _kick_dominoes(rng: np.random.Generator, colours: list, foot: np.ndarray, forward: np.ndarray, yaw: float):
    """A row of tall dominoes along the kick, the first where the rising foot reaches a little above its middle."""
    count = int(rng.integers(5, 8))
    height = float(rng.uniform(0.26, 0.32))
    start = _swing_point(foot, forward, height * 1.1)[:2] + forward * 0.04
    spacing = float(rng.uniform(0.55, 0.65)) * 2 * height
    dominoes = []
    for index in range(count):
        x, y = start + forward * spacing * index
        name, colour = colours[index % 2]
        half = (0.11, 0.028, height)
        dominoes.append(
            parts.resting_block(
                f"{name} domino {index + 1}", colour, x, y, half, mass=1.0, role="affected", yaw=yaw - math.pi / 2
            )
        )
    return dominoes, -forward * spacing * (count - 1) / 2 + rng.uniform(-0.3, 0.3, 2)


def build_human_kick(rng: np.random.Generator) -> SceneSpec:
    """A person kicks a ball against the wall, or the first of a row of tall dominoes."""
    colours = parts.colours(rng, 5)
    variant = "ball" if rng.random() < 0.55 else "dominoes"
    low, high = (135.0, 175.0) if variant == "ball" else (95.0, 140.0)
    yaw = _heading(rng, low, high)
    forward = _forward(yaw)
    lead = float(rng.uniform(0.2, 0.6))
    human, shirt = _person(rng, "kick", -lead, yaw)
    foot = _link_track(human, "right_ankle", lead + np.arange(0.3, 0.75, 1 / 120))
    if variant == "ball":
        objects, anchor = _kick_ball(rng, colours[0], foot, forward, human.scale)
    else:
        objects, anchor = _kick_dominoes(rng, colours, foot, forward, yaw)
    shift = anchor - np.array(objects[0].position[:2]) + rng.uniform(-0.2, 0.2, 2)
    objects = [_shifted(obj, shift) for obj in objects]
    human = _moved(human, shift)
    objects += _side_props(rng, colours[2:], np.array(objects[0].position[:2]), forward)
    objects.append(_person_object(human, shirt))
    tail = ", standing still" if variant == "ball" else ", all standing"
    return _scene(rng, "human_kick", objects, {"variant": variant, "motion": "kick"}, tail)


def _shifted(obj: ObjectSpec, shift: np.ndarray) -> ObjectSpec:
    x, y, z = obj.position
    return replace(obj, position=parts.rounded((x + shift[0], y + shift[1], z)))


def _walker(rng: np.random.Generator, hold: HoldSpec | None = None) -> tuple[HumanSpec, str, np.ndarray]:
    """A person walking across the view (60-120 degrees off the camera axis) from a random point of the gait."""
    yaw = _heading(rng, 65.0, 115.0)
    start = float(rng.uniform(0.0, 1.25))
    human, shirt = _person(rng, "walk", start, yaw, hold)
    return human, shirt, _forward(yaw)


def _obstacles(rng: np.random.Generator, colours: list, point: np.ndarray) -> tuple[str, list[ObjectSpec]]:
    """A tall box, a bin or a stack of two crates standing at ``point``; returns (variant, objects)."""
    variant = str(rng.choice(["box", "stack", "bin"]))
    name, colour = colours[0]
    yaw = float(rng.uniform(0, math.pi / 2))
    if variant == "box":
        half = (rng.uniform(0.12, 0.16), rng.uniform(0.12, 0.16), rng.uniform(0.3, 0.42))
        return variant, [
            parts.resting_block(f"tall {name} box", colour, *point, half, mass=2.0, role="affected", yaw=yaw)
        ]
    if variant == "bin":
        radius, half_length = float(rng.uniform(0.14, 0.18)), float(rng.uniform(0.3, 0.4))
        return variant, [
            ObjectSpec(
                name=f"{name} bin",
                shape="cylinder",
                size=parts.rounded((radius, half_length)),
                position=parts.rounded((point[0], point[1], half_length)),
                color=colour,
                mass=2.0,
                intended_role="affected",
            )
        ]
    side = float(rng.uniform(0.15, 0.2))
    top_name, top_colour = colours[1]
    lower = parts.resting_block(f"{name} crate", colour, *point, (side, side, side), mass=2.0, role="affected", yaw=yaw)
    upper_half = side * float(rng.uniform(0.7, 0.9))
    upper = ObjectSpec(
        name=f"{top_name} crate on top",
        shape="box",
        size=parts.rounded((upper_half,) * 3),
        position=parts.rounded((point[0], point[1], 2 * side + upper_half)),
        color=top_colour,
        mass=1.0,
        intended_role="affected",
        orientation=parts.rounded(parts.yaw_quaternion(yaw + float(rng.uniform(-0.3, 0.3)))),
    )
    return variant, [lower, upper]


def build_human_push(rng: np.random.Generator) -> SceneSpec:
    """A person walks into a tall box, a bin or a stack of two crates in its way and shoves or topples it."""
    colours = parts.colours(rng, 5)
    human, shirt, forward = _walker(rng)
    contact_time = float(rng.uniform(0.7, 1.1))
    pelvis = _link_track(human, "root", np.array([contact_time]))[0]
    across = np.array([-forward[1], forward[0]]) * float(rng.choice([-1.0, 1.0]))
    point = pelvis[:2] + forward * float(rng.uniform(0.0, 0.15)) + across * float(rng.uniform(0.18, 0.3))
    variant, objects = _obstacles(rng, colours, point)
    anchor = -forward * float(rng.uniform(0.6, 1.0)) + rng.uniform(-0.3, 0.3, 2)
    shift = anchor - pelvis[:2]
    objects = [_shifted(obj, shift) for obj in objects]
    human = _moved(human, shift)
    objects += _side_props(rng, colours[2:], anchor, forward)
    objects.append(_person_object(human, shirt))
    return _scene(rng, "human_push", objects, {"variant": variant, "motion": "walk"}, ", standing still")


def _bag(rng: np.random.Generator, name: str, colour: tuple[int, int, int], top: np.ndarray, role: str) -> ObjectSpec:
    """A bag (box) or bucket (cylinder) hanging with its top at ``top`` (just under the hand)."""
    if rng.random() < 0.5:
        half = parts.rounded((rng.uniform(0.1, 0.14), rng.uniform(0.05, 0.08), rng.uniform(0.12, 0.16)))
        shape, kind, height = "box", "bag", half[2]
    else:
        half = parts.rounded((rng.uniform(0.09, 0.12), rng.uniform(0.11, 0.15)))
        shape, kind, height = "cylinder", "bucket", half[1]
    return ObjectSpec(
        name=f"{name} {kind}",
        shape=shape,
        size=half,
        position=parts.rounded((top[0], top[1], top[2] - height)),
        color=colour,
        mass=float(round(rng.uniform(1.0, 3.0), 3)),
        intended_role=role,
    )


def build_human_carry(rng: np.random.Generator) -> SceneSpec:
    """A person carries a bag: held from the start and dropped, or picked up from a stand on the way."""
    colours = parts.colours(rng, 5)
    variant = "drop" if rng.random() < 0.5 else "pick"
    name, colour = colours[0]
    human, shirt, forward = _walker(rng)
    times = np.arange(0.0, 2.0, 1 / 120)
    hand_track = _link_track(human, "right_wrist", times)
    if variant == "drop":  # held from the start, let go where the swinging hand is slowest
        hold_start, window = 0.0, (times >= 0.8) & (times <= 1.5)
    else:  # taken from the stand where the hand hangs lowest, let go 0.6-0.9 s later where it is slowest
        window = (times >= 0.5) & (times <= 0.8)
        hold_start = float(times[window][np.argmin(hand_track[window, 2])])
        window = (times >= hold_start + 0.6) & (times <= hold_start + 0.9)
    speed = np.linalg.norm(np.gradient(hand_track, axis=0), axis=1) * 120
    end = float(round(times[window][np.argmin(speed[window])], 4))
    hold = HoldSpec(object="", start=round(hold_start, 4), end=end)
    hand = hand_track[round(hold_start * 120)]
    hand_radius = 0.04 * human.scale
    bag = _bag(rng, name, colour, hand - np.array([0.0, 0.0, hand_radius + 0.005]), "affected")
    objects = [bag]
    if variant == "pick":
        bottom = bag.position[2] - bag.half_height
        stand_half = (0.11, 0.11, bottom / 2)
        stand_name, stand_colour = colours[1]
        objects.append(
            parts.resting_block(f"{stand_name} stand", stand_colour, *bag.position[:2], stand_half, mass=8.0)
        )
    human = replace(human, hold=replace(hold, object=bag.name))  # same motion and placement, now holding
    anchor = rng.uniform(-0.4, 0.4, 2) - forward * 0.5
    shift = anchor - np.array(bag.position[:2])
    objects = [_shifted(obj, shift) for obj in objects]
    human = _moved(human, shift)
    objects += _side_props(rng, colours[2:], anchor, forward)
    objects.append(_person_object(human, shirt))
    tail = f", the {bag.name} falling to the floor" if variant == "drop" else ""
    return _scene(rng, "human_carry", objects, {"variant": variant, "motion": "walk"}, tail)
