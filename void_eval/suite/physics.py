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

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from void_eval.suite.spec import ObjectSpec, SceneSpec

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
    """

    positions: np.ndarray
    orientations: np.ndarray
    present: np.ndarray

    @property
    def frames(self) -> int:
        return self.positions.shape[0]


@contextlib.contextmanager
def _quiet_fds() -> Iterator[None]:
    """Silence C-level stdout and stderr (pybullet prints its build time and ``argv[0]=`` there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def pybullet_module():
    """``import pybullet`` without its build-time banner on stderr."""
    if "pybullet" not in sys.modules:
        with _quiet_fds():
            import pybullet  # noqa: F401
    return sys.modules["pybullet"]


def new_client():
    """A fresh pybullet DIRECT client (``BulletClient``), created without pybullet's console chatter."""
    p = pybullet_module()
    with _quiet_fds():
        from pybullet_utils.bullet_client import BulletClient

        return BulletClient(connection_mode=p.DIRECT)


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


def simulate(spec: SceneSpec, *, include_removed: bool, frames: int, fps: float) -> WorldStates:
    """Run one world for ``frames`` frames at ``fps`` and record every object's pose per frame.

    Frame 0 is the initial placement; frame ``t`` is the state after ``t / fps`` seconds. The time step is
    ``1 / 240`` s, so ``240 / fps`` must be a whole number.

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
    p = pybullet_module()

    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    substeps = PHYSICS_RATE / fps
    if fps <= 0 or abs(substeps - round(substeps)) > 1e-9:
        raise ValueError(f"fps must divide {PHYSICS_RATE} (e.g. 8, 10, 12, 24, 30), got {fps}")
    substeps = round(substeps)
    client = new_client()
    try:
        client.setPhysicsEngineParameter(
            fixedTimeStep=1.0 / PHYSICS_RATE, deterministicOverlappingPairs=1, numSolverIterations=50
        )
        client.setGravity(0, 0, -GRAVITY)
        floor = client.createMultiBody(0, client.createCollisionShape(p.GEOM_PLANE))
        client.changeDynamics(floor, -1, lateralFriction=0.6, restitution=0.1)
        wall_shape = client.createCollisionShape(p.GEOM_BOX, halfExtents=[0.05, 8.0, 3.0])
        client.createMultiBody(0, wall_shape, basePosition=[-spec.backdrop_distance - 0.05, 0.0, 3.0])
        count = len(spec.objects)
        bodies: dict[int, int] = {}
        for index in creation_order(spec):
            if index == spec.removed_index and not include_removed:
                continue
            obj = spec.objects[index]
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
            bodies[index] = body
        positions = np.full((frames, count, 3), np.nan)
        orientations = np.full((frames, count, 4), np.nan)
        for frame in range(frames):
            if frame > 0:
                for _ in range(substeps):
                    client.stepSimulation()
            for index, body in bodies.items():
                position, orientation = client.getBasePositionAndOrientation(body)
                positions[frame, index] = position
                orientations[frame, index] = orientation
        present = np.zeros(count, dtype=bool)
        present[list(bodies)] = True
        return WorldStates(positions=positions, orientations=orientations, present=present)
    finally:
        client.disconnect()
