"""Simulate one world of a scene with pybullet (DIRECT mode, no rendering).

The factual world holds every object; the counterfactual world holds every object but the removed one. Bodies are
created in the spec's order with the removed object last, so every other body gets the same pybullet id and the
same place in the solver's order in both worlds, and pybullet runs with deterministic overlapping pairs: what the
removed object does not touch evolves identically, bit for bit.

Examples
--------
>>> from void_eval.suite.scenarios import build_scene
>>> spec = build_scene("support", seed=3)
>>> states = simulate(spec, include_removed=False, frames=12, fps=12.0)
>>> states.positions.shape == (12, len(spec.objects), 3)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from void_eval.suite.bullet import new_client, pybullet_module
from void_eval.suite.mocap import JOINT_VALUES
from void_eval.suite.spec import ObjectSpec, SceneSpec

if TYPE_CHECKING:
    from void_eval.suite.actor import ContactLog

GRAVITY = 9.81
#: Physics steps per second (pybullet's default time step is 1/240 s).
PHYSICS_RATE = 240


@dataclass(frozen=True)
class WorldStates:
    """Poses of every object at every frame of one world.

    Attributes
    ----------
    positions : np.ndarray
        ``(T, N, 3)`` float64 centres in metres; NaN rows for an object absent from this world.
    orientations : np.ndarray
        ``(T, N, 4)`` float64 quaternions ``(x, y, z, w)``; NaN for an absent object.
    present : np.ndarray
        ``(N,)`` bool, which objects exist in this world.
    joints : dict
        Object index -> ``(T, 36)`` joint values of an articulated object present in this world (the person:
        see :data:`void_eval.suite.mocap.JOINTS`); its base pose is in ``positions`` and ``orientations``.
    contacts : ContactLog or None
        What the person touched, when a person acts in this world (see :mod:`void_eval.suite.actor`).
    """

    positions: np.ndarray
    orientations: np.ndarray
    present: np.ndarray
    joints: dict[int, np.ndarray] = field(default_factory=dict)
    contacts: ContactLog | None = None

    @property
    def frames(self) -> int:
        return self.positions.shape[0]


def creation_order(spec: SceneSpec) -> list[int]:
    """Object indices in the order bodies are created: the spec's order with the removed object moved last."""
    removed = spec.removed_index
    return [index for index in range(len(spec.objects)) if index != removed] + [removed]


def collision_shape(client, obj: ObjectSpec) -> int:
    """Create ``obj``'s collision shape in ``client`` and return its id."""
    p = pybullet_module()

    if obj.shape == "box":
        return client.createCollisionShape(p.GEOM_BOX, halfExtents=list(obj.size))
    if obj.shape == "sphere":
        return client.createCollisionShape(p.GEOM_SPHERE, radius=obj.size[0])
    return client.createCollisionShape(p.GEOM_CYLINDER, radius=obj.size[0], height=2 * obj.size[1])


def _add_object(client, obj: ObjectSpec) -> int:
    body = client.createMultiBody(
        obj.mass,
        collision_shape(client, obj),
        basePosition=list(obj.position),
        baseOrientation=list(obj.orientation),
    )
    client.changeDynamics(
        body,
        -1,
        lateralFriction=obj.friction,
        restitution=obj.restitution,
        rollingFriction=obj.rolling_friction,
        spinningFriction=obj.rolling_friction,
        linearDamping=0.0,
        angularDamping=0.02,
    )
    if obj.mass > 0:
        client.resetBaseVelocity(body, list(obj.velocity), list(obj.angular_velocity))
    return body


def _stage(client, spec: SceneSpec) -> tuple[int, int]:
    """Gravity, the floor plane and the backdrop wall; returns their body ids."""
    p = pybullet_module()

    client.setPhysicsEngineParameter(
        fixedTimeStep=1.0 / PHYSICS_RATE, deterministicOverlappingPairs=1, numSolverIterations=50
    )
    client.setGravity(0, 0, -GRAVITY)
    floor = client.createMultiBody(0, client.createCollisionShape(p.GEOM_PLANE))
    client.changeDynamics(floor, -1, lateralFriction=0.6, restitution=0.1)
    wall_shape = client.createCollisionShape(p.GEOM_BOX, halfExtents=[0.05, 8.0 * spec.stage, 3.0 * spec.stage])
    wall = client.createMultiBody(0, wall_shape, basePosition=[-spec.backdrop_distance - 0.05, 0.0, 3.0 * spec.stage])
    return floor, wall


def simulate(spec: SceneSpec, *, include_removed: bool, frames: int, fps: float) -> WorldStates:
    """Run one world for ``frames`` frames at ``fps`` and record every object's pose per frame.

    Frame 0 is the initial placement; frame ``t`` is the state after ``t / fps`` seconds. The time step is
    ``1 / 240`` s, so ``240 / fps`` must be a whole number. A person (a humanoid removed object) is posed from
    its motion clip before every step (:class:`void_eval.suite.actor.HumanActor`); its base pose goes to
    ``positions``/``orientations``, its joints to ``joints`` and what it touched to ``contacts``.

    Parameters
    ----------
    spec : SceneSpec
        The scene.
    include_removed : bool, keyword-only
        True for the factual world, False for the counterfactual one.
    frames : int, keyword-only
        Number of frames (>= 1).
    fps : float, keyword-only
        Frame rate; ``PHYSICS_RATE / fps`` must be an integer.
    """
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    substeps = PHYSICS_RATE / fps
    if fps <= 0 or abs(substeps - round(substeps)) > 1e-9:
        raise ValueError(f"fps must divide {PHYSICS_RATE} (e.g. 8, 10, 12, 24, 30), got {fps}")
    substeps = round(substeps)
    client = new_client()
    try:
        fixed = _stage(client, spec)
        count = len(spec.objects)
        bodies: dict[int, int] = {}
        for index in creation_order(spec):
            if index != spec.removed_index:
                bodies[index] = _add_object(client, spec.objects[index])
        actor = None
        if include_removed and spec.human is not None:
            from void_eval.suite.actor import HumanActor

            actor = HumanActor(
                client, spec, bodies, fixed=fixed, steps=(frames - 1) * substeps, physics_rate=PHYSICS_RATE
            )
        elif include_removed:
            bodies[spec.removed_index] = _add_object(client, spec.objects[spec.removed_index])
        return _run(client, bodies, actor, count=count, frames=frames, substeps=substeps, removed=spec.removed_index)
    finally:
        client.disconnect()


def _run(client, bodies: dict[int, int], actor, *, count: int, frames: int, substeps: int, removed: int) -> WorldStates:
    positions = np.full((frames, count, 3), np.nan)
    orientations = np.full((frames, count, 4), np.nan)
    joints = np.full((frames, JOINT_VALUES), np.nan) if actor is not None else None
    step = 0
    for frame in range(frames):
        for _ in range(substeps if frame > 0 else 0):
            if actor is not None:
                actor.pose(step)
            client.stepSimulation()
            step += 1
            if actor is not None:
                actor.record_step()
        for index, body in bodies.items():
            position, orientation = client.getBasePositionAndOrientation(body)
            positions[frame, index] = position
            orientations[frame, index] = orientation
        if actor is not None:
            if frame == 0:
                actor.pose(0)  # the first frame shows the clip's first pose (and a hand already holding)
                actor.check_overlap()
            positions[frame, removed], orientations[frame, removed], joints[frame] = actor.frame_state(step)
            actor.end_frame()
    present = np.zeros(count, dtype=bool)
    present[list(bodies)] = True
    if actor is None:
        return WorldStates(positions=positions, orientations=orientations, present=present)
    present[removed] = True
    return WorldStates(positions, orientations, present, joints={removed: joints}, contacts=actor.log())
