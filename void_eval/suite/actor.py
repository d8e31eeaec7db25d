"""The person in a physics world: posed from the clip before every step, holding and letting go, touching things.

:class:`HumanActor` is what :func:`void_eval.suite.physics.simulate` uses when the factual world holds a
humanoid. Before each physics step it resets the humanoid to the clip's pose and velocities at that instant (see
:mod:`void_eval.suite.humanoid`); it attaches a held object to the hand with a fixed constraint for the hold's time
span and removes the constraint to let go; after each step it reads pybullet's contact points between the
person's links and the objects and adds their normal forces times the step to each object's impulse.

The result is a :class:`ContactLog`: who touched what, when and how hard, measured from the simulation, which
meta.json reports per object (``contact``) and which the human families' acceptance checks use.

Examples
--------
>>> import numpy as np
>>> log = ContactLog(impulse=np.zeros((3, 2)), peak_force=np.zeros((3, 2)), held=np.zeros((3, 2), bool),
...                  hold_impulse=np.zeros((3, 2)), links=((), ()))
>>> log.touched().tolist()
[False, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from void_eval.suite.humanoid import LINKS, human_track, load_humanoid, set_pose
from void_eval.suite.spec import SceneSpec

#: Largest force (newtons) the hand's constraint may apply to a held object.
HOLD_FORCE = 300.0
#: An object counts as touched when the person gave it at least this impulse (newton-seconds) in the clip.
MIN_TOUCH_IMPULSE = 1e-4


@dataclass(frozen=True)
class ContactLog:
    """What the person did to each object, per frame, in the factual world.

    Attributes
    ----------
    impulse : np.ndarray
        ``(T, N)`` newton-seconds: normal contact forces from the person's links on object ``n``, summed over the
        physics steps that end in frame ``t`` (steps after frame ``t - 1``, up to frame ``t``), times the step.
    peak_force : np.ndarray
        ``(T, N)`` newtons: the largest total normal force of one step in that span.
    held : np.ndarray
        ``(T, N)`` bool: object ``n`` is attached to the person's hand at frame ``t``.
    hold_impulse : np.ndarray
        ``(T, N)`` newton-seconds: the hand constraint's force magnitude on the held object times the step.
    links : tuple of tuple of str
        Per object, the names of the person's links that touched it (sorted).
    overlap_at_start : np.ndarray
        ``(N,)`` bool: the person's first pose already penetrates the object (a badly placed scene).
    """

    impulse: np.ndarray
    peak_force: np.ndarray
    held: np.ndarray
    hold_impulse: np.ndarray
    links: tuple[tuple[str, ...], ...]
    overlap_at_start: np.ndarray | None = None

    def touched(self) -> np.ndarray:
        """``(N,)`` bool: the person pushed the object (impulse at least :data:`MIN_TOUCH_IMPULSE`) or held it."""
        return (self.impulse.sum(axis=0) >= MIN_TOUCH_IMPULSE) | self.held.any(axis=0)

    def first_contact(self) -> np.ndarray:
        """``(N,)`` int: first frame with contact or hold, -1 for objects never touched."""
        active = (self.impulse > 0) | self.held
        return np.where(active.any(axis=0), active.argmax(axis=0), -1)


class HumanActor:
    """Drive the scene's person through one world's simulation (the factual world only).

    Parameters
    ----------
    client
        The world's pybullet client.
    spec : SceneSpec
        A scene whose removed object is a humanoid.
    bodies : dict
        Object index -> pybullet body id of the world's other objects.
    fixed : tuple of int
        Body ids of the floor and backdrop wall: the person passes through them.
    steps : int
        Physics steps of the clip (the person's clip is sampled at every step).
    physics_rate : int
        Steps per second.
    """

    def __init__(
        self, client, spec: SceneSpec, bodies: dict[int, int], *, fixed: tuple[int, ...], steps: int, physics_rate: int
    ) -> None:
        human = spec.human
        if human is None:
            raise ValueError(f"{spec.scenario}: the removed object is not a person")
        self.client = client
        self.rate = physics_rate
        self.body = load_humanoid(client, human, fixed_base=False)
        self.track = human_track(human, np.arange(steps + 1) / physics_rate)
        self.bodies = dict(bodies)
        self._object_of_body = {body: index for index, body in bodies.items()}
        for link in range(len(LINKS)):
            for other in fixed:
                client.setCollisionFilterPair(self.body, other, link, -1, 0)
        self.held_index: int | None = None
        self._hold_steps: tuple[int, int | None] | None = None
        self._constraint: int | None = None
        if human.hold is not None:
            self.held_index = next(i for i, obj in enumerate(spec.objects) if obj.name == human.hold.object)
            for link in range(len(LINKS)):
                client.setCollisionFilterPair(self.body, self.bodies[self.held_index], link, -1, 0)
            end = None if human.hold.end is None else round(human.hold.end * physics_rate)
            self._hold_steps = (round(human.hold.start * physics_rate), end)
            self._hand = LINKS.index(human.hold.link)
        self._count = len(spec.objects)
        self._overlap: np.ndarray | None = None
        self._frames: list[dict[str, np.ndarray]] = []
        self._links: list[set[str]] = [set() for _ in range(self._count)]
        self._new_frame()

    def _new_frame(self) -> None:
        self._frames.append(
            {
                "impulse": np.zeros(self._count),
                "peak_force": np.zeros(self._count),
                "hold_impulse": np.zeros(self._count),
                "held": np.zeros(self._count, bool),
            }
        )

    def pose(self, step: int) -> None:
        """Reset the person to the clip at ``step`` (with velocities) and take or let go of the held object."""
        track = self.track
        set_pose(
            self.client,
            self.body,
            track.base_position[step],
            track.base_orientation[step],
            track.joints[step],
            linear_velocity=track.base_linear_velocity[step],
            angular_velocity=track.base_angular_velocity[step],
            joint_velocity=track.joint_velocity[step],
        )
        if self._hold_steps is None:
            return
        start, end = self._hold_steps
        if step == start and self._constraint is None:
            self._grab()
        if end is not None and step == end and self._constraint is not None:
            self.client.removeConstraint(self._constraint)
            self._constraint = None

    def _grab(self) -> None:
        from void_eval.suite.bullet import pybullet_module

        p = self.client
        hand = p.getLinkState(self.body, self._hand, computeForwardKinematics=1)
        held = self.bodies[self.held_index]
        position, orientation = p.getBasePositionAndOrientation(held)
        inverse = p.invertTransform(hand[0], hand[1])
        relative_position, relative_orientation = p.multiplyTransforms(*inverse, position, orientation)
        self._constraint = p.createConstraint(
            self.body,
            self._hand,
            held,
            -1,
            pybullet_module().JOINT_FIXED,
            [0, 0, 0],
            relative_position,
            [0, 0, 0],
            relative_orientation,
            [0, 0, 0, 1],
        )
        p.changeConstraint(self._constraint, maxForce=HOLD_FORCE)

    def record_step(self) -> None:
        """Add the last step's contacts (and hand force) to the current frame's totals."""
        current = self._frames[-1]
        forces = np.zeros(self._count)
        for contact in self.client.getContactPoints(bodyA=self.body):
            index = self._object_of_body.get(contact[2])
            if index is None:
                continue
            forces[index] += contact[9]
            if contact[9] > 0:
                self._links[index].add(LINKS[contact[3]])
        current["impulse"] += forces / self.rate
        current["peak_force"] = np.maximum(current["peak_force"], forces)
        if self._constraint is not None:
            force = np.linalg.norm(self.client.getConstraintState(self._constraint)[:3])
            current["hold_impulse"][self.held_index] += force / self.rate

    def check_overlap(self) -> None:
        """Note which objects the person's current pose penetrates (called at the first frame)."""
        self.client.performCollisionDetection()
        self._overlap = np.zeros(self._count, bool)
        for index, body in self.bodies.items():
            if index != self.held_index and self.client.getClosestPoints(self.body, body, 0.0):
                self._overlap[index] = True

    def end_frame(self) -> None:
        """Close the current frame (note whether the object is held now) and open the next."""
        if self._constraint is not None:
            self._frames[-1]["held"][self.held_index] = True
        self._new_frame()

    def frame_state(self, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Base position, orientation and joint values of the person at ``step``."""
        return self.track.base_position[step], self.track.base_orientation[step], self.track.joints[step]

    def log(self) -> ContactLog:
        """The contact log of the frames closed so far."""
        frames = self._frames[:-1]
        stacked = {key: np.stack([frame[key] for frame in frames]) for key in frames[0]}
        links = tuple(tuple(sorted(links)) for links in self._links)
        return ContactLog(links=links, overlap_at_start=self._overlap, **stacked)
