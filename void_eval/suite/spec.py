"""Plain-data descriptions of a counterfactual scene: objects, camera, light, textures.

A :class:`SceneSpec` is what a scenario family builds from a seeded RNG. It holds no pybullet handles, so the same
spec builds the factual world (every object) and the counterfactual world (every object but the removed one) in
exactly the same way: same creation order, same textures, same camera and light.

Examples
--------
>>> cube = ObjectSpec(name="cube", shape="box", size=(0.1, 0.1, 0.1), position=(0.0, 0.0, 0.1),
...                   color=(200, 40, 40), mass=1.0, intended_role="removed")
>>> cube.half_height
0.1
>>> walker = HumanSpec(motion="walk", start=0.0, position=(0.0, -1.5), yaw=1.57)
>>> person = ObjectSpec(name="person", shape="humanoid", size=(walker.height,), position=(0.0, -1.5, 0.85),
...                     color=(200, 160, 130), mass=0.0, intended_role="removed", human=walker)
>>> person.half_height
0.8
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Shape = Literal["box", "sphere", "cylinder", "humanoid"]
Role = Literal["removed", "affected", "static"]

#: Roles an object can have in meta.json: the one removed, those whose motion it changes, and the rest.
ROLES: tuple[str, ...] = ("removed", "affected", "static")


#: Standing height (metres, sole to crown) of pybullet's DeepMimic humanoid at the loader's base scale.
HUMANOID_HEIGHT = 1.6
#: Body parts of the humanoid that get one plain colour each (see :data:`void_eval.suite.humanoid.LINK_PARTS`).
BODY_PARTS: tuple[str, ...] = ("skin", "shirt", "sleeves", "trousers", "shoes")


@dataclass(frozen=True)
class HoldSpec:
    """An object carried in one hand: attached to the hand link from ``start`` to ``end`` (clip seconds).

    Parameters
    ----------
    object : str
        Name of the held object (an :class:`ObjectSpec` of the same scene).
    start : float
        Clip time (seconds) at which the hand takes the object; 0 means it is held from the first frame.
    end : float or None
        Clip time at which the hand lets go; None keeps it to the end.
    link : str
        The hand link, ``"right_wrist"`` or ``"left_wrist"``.
    """

    object: str
    start: float = 0.0
    end: float | None = None
    link: str = "right_wrist"

    def __post_init__(self) -> None:
        if self.link not in ("right_wrist", "left_wrist"):
            raise ValueError(f"hold link must be right_wrist or left_wrist, got {self.link!r}")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError(f"hold needs 0 <= start < end, got start={self.start}, end={self.end}")


@dataclass(frozen=True)
class HumanSpec:
    """A motion-captured person played kinematically (see :mod:`void_eval.suite.mocap`).

    Parameters
    ----------
    motion : str
        Clip name from pybullet_data (``"walk"``, ``"kick"``, ...).
    start : float
        Clip time (seconds) shown at the first frame; negative values hold the first pose that long.
    position : tuple of float
        Where the clip's origin lands on the floor, ``(x, y)`` metres.
    yaw : float
        Turn of the clip about the vertical, radians (0: the clip's forward direction is +x).
    scale : float
        Body size relative to :data:`HUMANOID_HEIGHT`.
    colors : dict
        RGB per body part (:data:`BODY_PARTS`).
    hold : HoldSpec, optional
        An object carried in a hand.
    """

    motion: str
    start: float
    position: tuple[float, float]
    yaw: float
    scale: float = 1.0
    colors: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    hold: HoldSpec | None = None

    def __post_init__(self) -> None:
        if not 0.3 <= self.scale <= 3.0:
            raise ValueError(f"human scale must be in 0.3..3, got {self.scale}")
        unknown = sorted(set(self.colors) - set(BODY_PARTS))
        if unknown:
            raise ValueError(f"unknown body parts {unknown}; expected some of {BODY_PARTS}")

    @property
    def height(self) -> float:
        """Standing height in metres."""
        return round(HUMANOID_HEIGHT * self.scale, 5)


@dataclass(frozen=True)
class ObjectSpec:
    """One rigid body.

    Parameters
    ----------
    name : str
        Short name used in meta.json and prompts (``"red ball"``).
    shape : {"box", "sphere", "cylinder", "humanoid"}
        Collision and visual shape; ``"humanoid"`` is pybullet's articulated DeepMimic humanoid, driven by ``human``.
    size : tuple of float
        Box: half extents ``(x, y, z)`` in metres; sphere: ``(radius,)``; cylinder: ``(radius, half_length)``;
        humanoid: ``(height,)``.
    position : tuple of float
        Initial centre ``(x, y, z)`` in metres (z up, floor at z = 0).
    color : tuple of int
        RGB 0-255.
    mass : float
        Kilograms; 0 makes the body static (immovable).
    intended_role : {"removed", "affected", "static"}
        What the scenario means the object to be. meta.json records the role measured from the two simulations.
    orientation : tuple of float
        Initial quaternion ``(x, y, z, w)``.
    velocity : tuple of float
        Initial linear velocity, m/s.
    angular_velocity : tuple of float
        Initial angular velocity, rad/s.
    friction, restitution, rolling_friction : float
        Contact parameters (pybullet's lateral friction, restitution and rolling friction).
    human : HumanSpec, optional
        The motion of a ``"humanoid"`` (required for that shape, refused for the others).
    """

    name: str
    shape: Shape
    size: tuple[float, ...]
    position: tuple[float, float, float]
    color: tuple[int, int, int]
    mass: float
    intended_role: Role
    orientation: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    angular_velocity: tuple[float, float, float] = (0.0, 0.0, 0.0)
    friction: float = 0.6
    restitution: float = 0.1
    rolling_friction: float = 0.0
    human: HumanSpec | None = None

    def __post_init__(self) -> None:
        expected = {"box": 3, "sphere": 1, "cylinder": 2, "humanoid": 1}
        if self.shape not in expected:
            raise ValueError(f"{self.name}: shape must be box, sphere, cylinder or humanoid, got {self.shape!r}")
        if (self.shape == "humanoid") != (self.human is not None):
            raise ValueError(f"{self.name}: a humanoid needs a HumanSpec and only a humanoid takes one")
        if len(self.size) != expected[self.shape] or min(self.size) <= 0:
            raise ValueError(
                f"{self.name}: a {self.shape} needs {expected[self.shape]} positive sizes, got {self.size}"
            )
        if self.mass < 0:
            raise ValueError(f"{self.name}: mass must be >= 0, got {self.mass}")
        if self.intended_role not in ROLES:
            raise ValueError(f"{self.name}: intended_role must be one of {ROLES}, got {self.intended_role!r}")
        if any(not 0 <= channel <= 255 for channel in self.color):
            raise ValueError(f"{self.name}: color channels must be 0-255, got {self.color}")

    @property
    def half_height(self) -> float:
        """Half the vertical extent when upright (axis-aligned orientation)."""
        if self.shape == "box":
            return self.size[2]
        if self.shape == "sphere":
            return self.size[0]
        if self.shape == "humanoid":
            return self.size[0] / 2
        return self.size[1]


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera looking from ``eye`` at ``target``; ``fov`` is vertical, in degrees.

    The near plane is very close on purpose: TinyRenderer's shadow test compares depths with a fixed margin of
    0.05 of which a term of about ``near`` is lost (its light pass reuses this projection), so a near plane of
    5 cm left almost no margin and the floor shadowed itself in stripes (shadow acne). TinyRenderer's depth buffer
    is linear in distance, so a close near plane costs no depth precision.
    """

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov: float = 45.0
    near: float = 0.002
    far: float = 20.0


@dataclass(frozen=True)
class LightSpec:
    """TinyRenderer's directional light; ``direction`` points from the scene towards the light."""

    direction: tuple[float, float, float]
    color: tuple[float, float, float] = (1.0, 1.0, 1.0)
    distance: float = 4.0
    ambient: float = 0.45
    diffuse: float = 0.55
    specular: float = 0.05


@dataclass(frozen=True)
class SceneSpec:
    """A whole scene: the objects (exactly one removed), camera, light, textures and a description.

    Parameters
    ----------
    scenario : str
        Family name.
    objects : tuple of ObjectSpec
        Every body; exactly one has ``intended_role="removed"``.
    camera, light : CameraSpec, LightSpec
    floor_texture, backdrop_texture : dict
        Texture recipes (see :mod:`void_eval.suite.textures`): ``{"image": name, "tint": [r, g, b], ...}``.
    backdrop_distance : float
        The textured wall stands this far behind the scene origin, facing the camera.
    prompt : str
        One sentence describing the counterfactual scene (the world without the removed object).
    notes : dict
        Family-specific facts (variant, counts) recorded in meta.json.
    stage : float
        Size of the set relative to the tabletop families: floor, backdrop and texture tiles scale by it (a person
        needs a room, not a tabletop).
    """

    scenario: str
    objects: tuple[ObjectSpec, ...]
    camera: CameraSpec
    light: LightSpec
    floor_texture: dict[str, Any]
    backdrop_texture: dict[str, Any]
    backdrop_distance: float
    prompt: str
    notes: dict[str, Any] = field(default_factory=dict)
    stage: float = 1.0

    def __post_init__(self) -> None:
        removed = [obj.name for obj in self.objects if obj.intended_role == "removed"]
        if len(removed) != 1:
            raise ValueError(f"a scene needs exactly one removed object, got {removed}")
        names = [obj.name for obj in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")
        for obj in self.objects:
            if obj.shape == "humanoid" and obj.intended_role != "removed":
                raise ValueError(f"{obj.name}: a humanoid can only be the removed object")
            if obj.human is not None and obj.human.hold is not None and obj.human.hold.object not in names:
                raise ValueError(f"{obj.name} holds {obj.human.hold.object!r}, which is not in the scene")

    @property
    def human(self) -> HumanSpec | None:
        """The removed object's motion when it is a person, else None."""
        return self.objects[self.removed_index].human

    @property
    def removed_index(self) -> int:
        """Index of the removed object in :attr:`objects`."""
        return next(index for index, obj in enumerate(self.objects) if obj.intended_role == "removed")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)
