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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Shape = Literal["box", "sphere", "cylinder"]
Role = Literal["removed", "affected", "static"]

#: Roles an object can have in meta.json: the one removed, those whose motion it changes, and the rest.
ROLES: tuple[str, ...] = ("removed", "affected", "static")


@dataclass(frozen=True)
class ObjectSpec:
    """One rigid body.

    Parameters
    ----------
    name : str
        Short name used in meta.json and prompts (``"red ball"``).
    shape : {"box", "sphere", "cylinder"}
        Collision and visual shape.
    size : tuple of float
        Box: half extents ``(x, y, z)`` in metres; sphere: ``(radius,)``; cylinder: ``(radius, half_length)``.
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

    def __post_init__(self) -> None:
        expected = {"box": 3, "sphere": 1, "cylinder": 2}
        if self.shape not in expected:
            raise ValueError(f"{self.name}: shape must be box, sphere or cylinder, got {self.shape!r}")
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
        return self.size[1]


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera looking from ``eye`` at ``target``; ``fov`` is vertical, in degrees."""

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov: float = 45.0
    near: float = 0.05
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

    def __post_init__(self) -> None:
        removed = [obj.name for obj in self.objects if obj.intended_role == "removed"]
        if len(removed) != 1:
            raise ValueError(f"a scene needs exactly one removed object, got {removed}")
        names = [obj.name for obj in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")

    @property
    def removed_index(self) -> int:
        """Index of the removed object in :attr:`objects`."""
        return next(index for index, obj in enumerate(self.objects) if obj.intended_role == "removed")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists)."""
        return asdict(self)
