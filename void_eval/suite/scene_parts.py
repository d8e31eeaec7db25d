"""Building blocks shared by the scenario families: palette, camera, light, textures, resting objects, prompts.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> [name for name, _ in colours(rng, 3)]
['teal', 'blue', 'yellow']
>>> describe([resting_block("red box", (214, 40, 40), 0.0, 0.0, (0.1, 0.1, 0.1), mass=1.0)],
...          {"image": "grass"})
'A red box on a grassy floor in front of a picture wall.'
"""

from __future__ import annotations

import math

import numpy as np

from void_eval.suite.spec import CameraSpec, LightSpec, ObjectSpec
from void_eval.suite.textures import BACKDROP_IMAGES, FLOOR_IMAGES

#: Saturated colours that stand out from the textured floor and backdrop, with their names for prompts.
PALETTE: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (214, 40, 40)),
    ("orange", (244, 140, 30)),
    ("yellow", (240, 210, 40)),
    ("green", (60, 180, 75)),
    ("teal", (30, 160, 160)),
    ("blue", (40, 90, 220)),
    ("purple", (140, 60, 190)),
    ("pink", (235, 110, 170)),
    ("white", (235, 235, 235)),
)


def colours(rng: np.random.Generator, count: int) -> list[tuple[str, tuple[int, int, int]]]:
    order = rng.permutation(len(PALETTE))
    return [PALETTE[int(order[index % len(PALETTE)])] for index in range(count)]


def yaw_quaternion(angle: float) -> tuple[float, float, float, float]:
    return (0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2))


def camera(rng: np.random.Generator, *, distance: tuple[float, float] = (1.25, 1.45)) -> CameraSpec:
    azimuth = math.radians(rng.uniform(-12, 12))
    elevation = math.radians(rng.uniform(18, 25))
    radius = rng.uniform(*distance)
    target = (rng.uniform(-0.14, -0.08), rng.uniform(-0.04, 0.04), 0.1)
    eye = (
        target[0] + radius * math.cos(elevation) * math.cos(azimuth),
        target[1] + radius * math.cos(elevation) * math.sin(azimuth),
        target[2] + radius * math.sin(elevation),
    )
    return CameraSpec(eye=rounded(eye), target=rounded(target), fov=float(round(rng.uniform(40, 46), 2)))


def light(rng: np.random.Generator, *, azimuth_deg: float, elevation_deg: float) -> LightSpec:
    azimuth, elevation = math.radians(azimuth_deg), math.radians(elevation_deg)
    direction = (
        math.cos(elevation) * math.cos(azimuth),
        math.cos(elevation) * math.sin(azimuth),
        math.sin(elevation),
    )
    return LightSpec(direction=rounded(direction), ambient=float(round(rng.uniform(0.1, 0.14), 3)), diffuse=1.3)


def textures(rng: np.random.Generator) -> tuple[dict, dict]:
    floor = {
        "image": str(rng.choice(FLOOR_IMAGES)),
        "tint": [int(v) for v in rng.integers(170, 256, 3)],
        "contrast": float(round(rng.uniform(0.25, 0.35), 3)),
        "brightness": float(round(rng.uniform(0.8, 0.9), 3)),
    }
    backdrop = {
        "image": str(rng.choice(BACKDROP_IMAGES)),
        "tint": [235, 235, 235],
        "contrast": float(round(rng.uniform(0.6, 0.9), 3)),
        "brightness": 0.9,
    }
    return floor, backdrop


def rounded(values) -> tuple[float, ...]:
    return tuple(float(round(v, 5)) for v in values)


def resting_block(
    name: str,
    colour: tuple[int, int, int],
    x: float,
    y: float,
    half: tuple[float, float, float],
    *,
    mass: float,
    role: str = "static",
    yaw: float = 0.0,
) -> ObjectSpec:
    return ObjectSpec(
        name=name,
        shape="box",
        size=rounded(half),
        position=rounded((x, y, half[2])),
        color=colour,
        mass=mass,
        intended_role=role,
        orientation=rounded(yaw_quaternion(yaw)),
    )


def distractors(
    rng: np.random.Generator, colours: list, slots: list[tuple[float, float]], *, prefix: str = "static"
) -> list[ObjectSpec]:
    """Resting objects (boxes, upright cylinders, spheres) at the given ``(x, y)`` slots."""
    objects = []
    for (x, y), (colour_name, colour) in zip(slots, colours, strict=False):
        kind = str(rng.choice(["box", "cylinder", "sphere"]))
        if kind == "box":
            half = (rng.uniform(0.06, 0.1), rng.uniform(0.06, 0.1), rng.uniform(0.06, 0.13))
            objects.append(resting_block(f"{colour_name} box", colour, x, y, half, mass=1.0, yaw=rng.uniform(0, 1.5)))
        elif kind == "cylinder":
            radius, half_length = rng.uniform(0.05, 0.08), rng.uniform(0.07, 0.14)
            objects.append(
                ObjectSpec(
                    name=f"{colour_name} cylinder",
                    shape="cylinder",
                    size=rounded((radius, half_length)),
                    position=rounded((x, y, half_length)),
                    color=colour,
                    mass=1.0,
                    intended_role="static",
                )
            )
        else:
            radius = rng.uniform(0.06, 0.09)
            objects.append(
                ObjectSpec(
                    name=f"{colour_name} ball",
                    shape="sphere",
                    size=(float(round(radius, 5)),),
                    position=rounded((x, y, radius)),
                    color=colour,
                    mass=1.0,
                    intended_role="static",
                    rolling_friction=0.05,
                )
            )
    return objects


def article(text: str) -> str:
    return f"{'an' if text[0] in 'aeiou' else 'a'} {text}"


FLOOR_WORDS = {"grass": "a grassy", "gravel": "a gravel", "brick": "a brick"}


def describe(objects: list[ObjectSpec], floor: dict, tail: str = "") -> str:
    names = [article(obj.name) for obj in objects if obj.intended_role != "removed"]
    if not names:
        listing = "nothing"
    elif len(names) == 1:
        listing = names[0]
    else:
        listing = ", ".join(names[:-1]) + " and " + names[-1]
    return (
        f"{listing[0].upper() + listing[1:]} on {FLOOR_WORDS[floor['image']]} floor in front of a picture wall{tail}."
    )
