"""The moving and supporting parts of the rigid-body (tabletop) families: each family's removed object and the
structure it acts on, built from a seeded RNG in the order the family's builder draws them
(:mod:`void_eval.suite.scenarios`).

==============================  ==========  ==============================================================
part                            family      what it is
==============================  ==========  ==============================================================
:func:`crossing_object`         occlusion   the removed ball rolling or box sliding across the view
:func:`plank_support`           support     a plank on two blocks, one of them removed; maybe a cube on it
:func:`column_support`          support     the removed column with a ball or a box on top
:func:`collision_blocks`        collision   one to three light blocks in a row
:func:`launched_object`         collision   the removed ball or pusher box launched at the blocks
:func:`striking_ball`           chain       the removed ball thrown at the first domino
==============================  ==========  ==============================================================

Examples
--------
>>> import numpy as np
>>> ball = striking_ball(np.random.default_rng(0), ("red", (214, 40, 40)), np.zeros(2), np.array([0.0, 1.0]), 0.1)
>>> ball.name, ball.intended_role, ball.position[1]
('red ball', 'removed', -0.3)
"""

from __future__ import annotations

import numpy as np

from void_eval.suite import scene_parts as parts
from void_eval.suite.spec import ObjectSpec

#: A palette entry: colour name (for prompts) and RGB.
NamedColour = tuple[str, tuple[int, int, int]]


def crossing_object(rng: np.random.Generator, colour: NamedColour, x_path: float, direction: float) -> ObjectSpec:
    """The occlusion family's removed object: a ball rolling (65%) or a box sliding along ``x = x_path``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the shape, then its size and speed.
    colour : NamedColour
        Its palette entry.
    x_path : float
        x (m) of its straight path (the camera looks from the +x side).
    direction : float
        +1 or -1: it starts at ``y = -0.95 * direction`` and moves towards ``+direction``.
    """
    colour_name, rgb = colour
    if rng.random() < 0.65:
        radius = float(rng.uniform(0.07, 0.1))
        speed = float(rng.uniform(0.45, 0.6))
        return ObjectSpec(
            name=f"{colour_name} ball",
            shape="sphere",
            size=(round(radius, 5),),
            position=parts.rounded((x_path, -direction * 0.95, radius)),
            color=rgb,
            mass=0.5,
            intended_role="removed",
            velocity=parts.rounded((0.0, direction * speed, 0.0)),
            angular_velocity=parts.rounded((-direction * speed / radius, 0, 0)),
            rolling_friction=0.0005,
        )
    half = (float(rng.uniform(0.06, 0.09)), float(rng.uniform(0.06, 0.09)), float(rng.uniform(0.06, 0.1)))
    speed = float(rng.uniform(0.9, 1.1))
    return ObjectSpec(
        name=f"{colour_name} box",
        shape="box",
        size=parts.rounded(half),
        position=parts.rounded((x_path, -direction * 0.95, half[2])),
        color=rgb,
        mass=0.5,
        intended_role="removed",
        velocity=parts.rounded((0.0, direction * speed, 0.0)),
        friction=0.06,
    )


def plank_support(
    rng: np.random.Generator, colours: list[NamedColour], x0: float, y0: float
) -> tuple[list[ObjectSpec], ObjectSpec, str]:
    """A plank on two blocks (the removed one at one end), maybe a cube riding on it near that end.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the block height, the span, the removed end, whether there is a cube, and its size.
    colours : list of NamedColour
        ``colours[0]`` the removed block, ``[1]`` the other block, ``[2]`` the plank, ``[3]`` the cube.
    x0, y0 : float
        Centre of the plank on the floor (m).

    Returns
    -------
    objects : list of ObjectSpec
        The other block, the plank and the cube if any (the removed block not among them).
    removed : ObjectSpec
        The removed block.
    description : str
        The plank (and cube) as they lie without the removed block, for the prompt.
    """
    height = float(rng.uniform(0.1, 0.14))
    span = float(rng.uniform(0.5, 0.6))
    block = (0.07, 0.07, height)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    objects = [parts.resting_block(f"{colours[1][0]} block", colours[1][1], x0, y0 - sign * span / 2, block, mass=2.0)]
    removed = parts.resting_block(
        f"{colours[0][0]} block", colours[0][1], x0, y0 + sign * span / 2, block, mass=2.0, role="removed"
    )
    plank_half = (0.09, span / 2 + 0.06, 0.02)
    plank = ObjectSpec(
        name=f"{colours[2][0]} plank",
        shape="box",
        size=parts.rounded(plank_half),
        position=parts.rounded((x0, y0, 2 * height + plank_half[2])),
        color=colours[2][1],
        mass=0.6,
        intended_role="affected",
    )
    objects.append(plank)
    if rng.random() < 0.6:  # a small box riding on the plank near the removed end
        cube = float(rng.uniform(0.04, 0.055))
        objects.append(
            ObjectSpec(
                name=f"{colours[3][0]} cube",
                shape="box",
                size=(cube, cube, cube),
                position=parts.rounded((x0, y0 + sign * span * 0.3, 2 * height + 2 * plank_half[2] + cube)),
                color=colours[3][1],
                mass=0.3,
                intended_role="affected",
            )
        )
    description = f"{parts.article(plank.name)} leaning from {parts.article(objects[0].name)} down to the floor"
    if len(objects) > 2:
        description += f", {parts.article(objects[2].name)} tumbled off it"
    return objects, removed, description


def column_support(
    rng: np.random.Generator, colours: list[NamedColour], x0: float, y0: float
) -> tuple[list[ObjectSpec], ObjectSpec, str]:
    """A column (the removed object) with a ball or a box on top.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the column's height and radius, ball or box, and the top's size (and a box's yaw).
    colours : list of NamedColour
        ``colours[0]`` the column, ``[2]`` the top.
    x0, y0 : float
        Position of the column on the floor (m).

    Returns
    -------
    objects : list of ObjectSpec
        The top object alone.
    removed : ObjectSpec
        The column.
    description : str
        The top as it lies without the column, for the prompt.
    """
    column_height = float(rng.uniform(0.14, 0.2))
    radius = float(rng.uniform(0.05, 0.065))
    removed = ObjectSpec(
        name=f"{colours[0][0]} column",
        shape="cylinder",
        size=parts.rounded((radius, column_height)),
        position=parts.rounded((x0, y0, column_height)),
        color=colours[0][1],
        mass=3.0,
        intended_role="removed",
    )
    if rng.random() < 0.5:
        ball = float(rng.uniform(0.06, 0.08))
        top = ObjectSpec(
            name=f"{colours[2][0]} ball",
            shape="sphere",
            size=(round(ball, 5),),
            position=parts.rounded((x0, y0, 2 * column_height + ball)),
            color=colours[2][1],
            mass=0.4,
            intended_role="affected",
            rolling_friction=0.002,
        )
    else:
        cube = float(rng.uniform(0.055, 0.07))
        top = ObjectSpec(
            name=f"{colours[2][0]} box",
            shape="box",
            size=(round(cube, 5),) * 3,
            position=parts.rounded((x0, y0, 2 * column_height + cube)),
            color=colours[2][1],
            mass=0.4,
            intended_role="affected",
            orientation=parts.rounded(parts.yaw_quaternion(float(rng.uniform(0, 1.5)))),
        )
    return [top], removed, f"{parts.article(top.name)} lying on the floor"


def collision_blocks(
    rng: np.random.Generator, colours: list[NamedColour], count: int, x_line: float, y_first: float, direction: float
) -> list[ObjectSpec]:
    """``count`` light blocks (role ``affected``) 0.13 m apart along ``direction`` from ``y_first``, about
    ``x = x_line``; block ``i`` takes ``colours[i + 1]``, and draws its size, x jitter and mass in that order."""
    objects: list[ObjectSpec] = []
    for index in range(count):
        half = (float(rng.uniform(0.045, 0.06)), float(rng.uniform(0.045, 0.06)), float(rng.uniform(0.05, 0.09)))
        y = y_first + direction * index * 0.13
        x = x_line + float(rng.uniform(-0.03, 0.03))
        name, colour = colours[index + 1]
        objects.append(
            parts.resting_block(
                f"{name} block", colour, x, y, half, mass=float(rng.uniform(0.25, 0.45)), role="affected"
            )
        )
    return objects


def launched_object(
    rng: np.random.Generator, colour: NamedColour, x_line: float, start_y: float, direction: float, speed: float
) -> ObjectSpec:
    """The collision family's removed object: a ball (70%) or a pusher box (1.1 times faster) launched from
    ``(x_line, start_y)`` along ``direction`` (+1 or -1 in y) at ``speed`` m/s."""
    colour_name, rgb = colour
    if rng.random() < 0.7:
        radius = float(rng.uniform(0.06, 0.08))
        return ObjectSpec(
            name=f"{colour_name} ball",
            shape="sphere",
            size=(round(radius, 5),),
            position=parts.rounded((x_line, start_y, radius)),
            color=rgb,
            mass=1.0,
            intended_role="removed",
            velocity=parts.rounded((0.0, direction * speed, 0.0)),
            angular_velocity=parts.rounded((-direction * speed / radius, 0.0, 0.0)),
            rolling_friction=0.01,
        )
    half = (0.06, 0.06, 0.06)
    return ObjectSpec(
        name=f"{colour_name} pusher box",
        shape="box",
        size=half,
        position=parts.rounded((x_line, start_y, half[2])),
        color=rgb,
        mass=1.5,
        intended_role="removed",
        velocity=parts.rounded((0.0, direction * speed * 1.1, 0.0)),
        friction=0.15,
    )


def striking_ball(
    rng: np.random.Generator, colour: NamedColour, first: np.ndarray, along: np.ndarray, height: float
) -> ObjectSpec:
    """The chain family's removed ball: thrown along the unit vector ``along`` (and up at 0.6 m/s) from 0.3 m
    before the first domino's floor position ``first``, at 1.6 times the domino ``height``."""
    colour_name, rgb = colour
    radius = float(rng.uniform(0.045, 0.055))
    start = first - along * 0.3
    speed = float(rng.uniform(1.6, 2.0))
    return ObjectSpec(
        name=f"{colour_name} ball",
        shape="sphere",
        size=(round(radius, 5),),
        position=parts.rounded((start[0], start[1], 1.6 * height)),
        color=rgb,
        mass=0.4,
        intended_role="removed",
        velocity=parts.rounded((along[0] * speed, along[1] * speed, 0.6)),
    )
