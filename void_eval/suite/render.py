"""Render recorded world states with pybullet's TinyRenderer: RGB with cast shadows plus object ids.

A :class:`SceneRenderer` owns a pybullet client holding only visual shapes (no physics): the textured floor and
backdrop and the scene's objects, created in the same order as :mod:`void_eval.suite.physics` does (a person is
pybullet's humanoid, posed from its base and joint values). Each frame the bodies are posed from recorded states
and rendered with the scene's camera and light, so two renderers of the same spec, one with the removed object and
one without, give pixel-identical images wherever the object has no influence (checked by the suite's tests).

Examples
--------
>>> from void_eval.suite.scenarios import build_scene
>>> from void_eval.suite.physics import simulate
>>> import tempfile
>>> spec = build_scene("occlusion", seed=0)
>>> states = simulate(spec, include_removed=True, frames=2, fps=12.0)
>>> with SceneRenderer(spec, include_removed=True, size=(48, 84), texture_dir=tempfile.mkdtemp()) as renderer:
...     rgb, ids = renderer.render(states.positions[0], states.orientations[0])
>>> rgb.shape, ids.shape, int(ids.min())
((48, 84, 3), (48, 84), -1)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from void_eval.suite.bullet import new_client, pybullet_module
from void_eval.suite.humanoid import load_humanoid, set_pose
from void_eval.suite.physics import creation_order
from void_eval.suite.spec import CameraSpec, ObjectSpec, SceneSpec
from void_eval.suite.textures import texture_png

#: Half size of the floor square (metres) and how many metres one copy of the floor texture covers.
FLOOR_HALF_SIZE = 4.0
FLOOR_TILE = 0.8
#: Half width and height of the backdrop wall (metres); the picture covers it once.
BACKDROP_HALF_WIDTH = 2.4
BACKDROP_HALF_HEIGHT = 1.05
BACKGROUND_ID = -1


def camera_matrices(camera: CameraSpec, size: tuple[int, int]) -> tuple[list[float], list[float]]:
    """pybullet view and projection matrices (column-major 16-lists) for ``camera`` at ``size = (h, w)``."""
    p = pybullet_module()

    height, width = size
    view = p.computeViewMatrix(list(camera.eye), list(camera.target), list(camera.up))
    projection = p.computeProjectionMatrixFOV(camera.fov, width / height, camera.near, camera.far)
    return list(view), list(projection)


def project_points(points: np.ndarray, camera: CameraSpec, size: tuple[int, int]) -> np.ndarray:
    """Project world points ``(..., 3)`` to pixel coordinates ``(..., 2)`` as ``(x, y)``; NaN behind the camera."""
    view, projection = camera_matrices(camera, size)
    view_m = np.asarray(view).reshape(4, 4).T
    proj_m = np.asarray(projection).reshape(4, 4).T
    points = np.asarray(points, dtype=np.float64)
    homogeneous = np.concatenate([points, np.ones((*points.shape[:-1], 1))], axis=-1)
    clip = homogeneous @ (proj_m @ view_m).T
    with np.errstate(invalid="ignore", divide="ignore"):
        ndc = clip[..., :3] / clip[..., 3:4]
    height, width = size
    x = (ndc[..., 0] + 1) * 0.5 * width
    y = (1 - ndc[..., 1]) * 0.5 * height
    out = np.stack([x, y], axis=-1)
    out[clip[..., 3] <= 0] = np.nan
    return out


def _visual_shape(client, obj: ObjectSpec) -> int:
    p = pybullet_module()

    rgba = [channel / 255.0 for channel in obj.color] + [1.0]
    if obj.shape == "box":
        return client.createVisualShape(p.GEOM_BOX, halfExtents=list(obj.size), rgbaColor=rgba)
    if obj.shape == "sphere":
        return client.createVisualShape(p.GEOM_SPHERE, radius=obj.size[0], rgbaColor=rgba)
    return client.createVisualShape(p.GEOM_CYLINDER, radius=obj.size[0], length=2 * obj.size[1], rgbaColor=rgba)


#: The floor and backdrop quads are split into this many cells a side: TinyRenderer scans every triangle's
#: screen bounding box, so two huge triangles cost a scan of the whole frame each; small cells render the same
#: picture about 15% faster.
QUAD_CELLS = 8


def _quad(client, corners: list[list[float]], uvs: list[list[float]], normal: list[float]) -> int:
    """A textured flat mesh of :data:`QUAD_CELLS` x :data:`QUAD_CELLS` cells with bilinearly interpolated corners
    and texture coordinates; ``corners`` counter-clockwise seen from the side ``normal`` points to."""
    p = pybullet_module()

    steps = np.linspace(0.0, 1.0, QUAD_CELLS + 1)
    a, b = (grid.reshape(-1, 1) for grid in np.meshgrid(steps, steps, indexing="ij"))
    weights = np.concatenate([(1 - a) * (1 - b), a * (1 - b), a * b, (1 - a) * b], axis=1)
    vertices = weights @ np.asarray(corners, dtype=np.float64)
    texture = weights @ np.asarray(uvs, dtype=np.float64)
    side = QUAD_CELLS + 1
    indices = []
    for row in range(QUAD_CELLS):
        for column in range(QUAD_CELLS):
            k = row * side + column
            indices += [k, k + side, k + side + 1, k, k + side + 1, k + 1]
    return client.createVisualShape(
        p.GEOM_MESH,
        vertices=vertices.tolist(),
        indices=indices,
        uvs=texture.tolist(),
        normals=[normal] * len(vertices),
        rgbaColor=[1, 1, 1, 1],
    )


def _floor_shape(client, stage: float = 1.0) -> int:
    half, repeats = FLOOR_HALF_SIZE * stage, 2 * FLOOR_HALF_SIZE / FLOOR_TILE
    corners = [[-half, -half, 0.0], [half, -half, 0.0], [half, half, 0.0], [-half, half, 0.0]]
    uvs = [[0.0, 0.0], [repeats, 0.0], [repeats, repeats], [0.0, repeats]]
    return _quad(client, corners, uvs, [0.0, 0.0, 1.0])


def _backdrop_shape(client, distance: float, stage: float = 1.0) -> int:
    x, half_width, top = -distance, BACKDROP_HALF_WIDTH * stage, 2 * BACKDROP_HALF_HEIGHT * stage
    corners = [[x, -half_width, 0.0], [x, half_width, 0.0], [x, half_width, top], [x, -half_width, top]]
    uvs = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    return _quad(client, corners, uvs, [1.0, 0.0, 0.0])


class SceneRenderer:
    """Render one world's frames (RGB + object ids) from recorded poses.

    Parameters
    ----------
    spec : SceneSpec
        The scene.
    include_removed : bool, keyword-only
        Whether the removed object exists in this renderer's world.
    size : tuple of int, keyword-only
        ``(height, width)`` in pixels.
    texture_dir : str or Path, keyword-only
        Folder for the texture PNGs pybullet loads.
    shadows : bool, keyword-only
        Cast shadows (TinyRenderer's shadow map); off only to check the shadows themselves.
    """

    def __init__(
        self,
        spec: SceneSpec,
        *,
        include_removed: bool,
        size: tuple[int, int],
        texture_dir: str | Path,
        shadows: bool = True,
    ) -> None:
        self.spec = spec
        self.size = size
        self.include_removed = include_removed
        self.shadows = shadows
        self._client = new_client()
        client = self._client
        floor = client.createMultiBody(0, -1, _floor_shape(client, spec.stage))
        wall = client.createMultiBody(0, -1, _backdrop_shape(client, spec.backdrop_distance, spec.stage))
        for body, recipe in ((floor, spec.floor_texture), (wall, spec.backdrop_texture)):
            texture = client.loadTexture(str(texture_png(recipe, texture_dir)))
            client.changeVisualShape(body, -1, textureUniqueId=texture, rgbaColor=[1, 1, 1, 1])
        self._bodies: dict[int, int] = {}
        for index in creation_order(spec):
            if index == spec.removed_index and not include_removed:
                continue
            obj = spec.objects[index]
            if obj.shape == "humanoid":
                self._bodies[index] = load_humanoid(client, obj.human, fixed_base=True)
                continue
            self._bodies[index] = client.createMultiBody(
                0,
                -1,
                _visual_shape(client, obj),
                basePosition=list(obj.position),
                baseOrientation=list(obj.orientation),
            )
        max_body = max([floor, wall, *self._bodies.values()])
        self._id_of_body = np.full(max_body + 2, BACKGROUND_ID, dtype=np.int16)
        for index, body in self._bodies.items():
            self._id_of_body[body] = index
        self._view, self._projection = camera_matrices(spec.camera, size)
        light = spec.light
        self._light: dict[str, Any] = {
            "lightDirection": list(light.direction),
            "lightColor": list(light.color),
            "lightDistance": light.distance,
            "lightAmbientCoeff": light.ambient,
            "lightDiffuseCoeff": light.diffuse,
            "lightSpecularCoeff": light.specular,
        }

    def render(
        self, positions: np.ndarray, orientations: np.ndarray, *, joints: dict[int, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pose the bodies and render.

        Parameters
        ----------
        positions, orientations : np.ndarray
            ``(N, 3)`` and ``(N, 4)`` poses of every object of the spec (rows of absent objects are ignored); a
            person's row is its base (pelvis).
        joints : dict, optional, keyword-only
            Object index -> ``(36,)`` joint values of this frame, for a person in this renderer's world (one
            frame of :attr:`WorldStates.joints <void_eval.suite.physics.WorldStates>`).

        Returns
        -------
        rgb : np.ndarray
            ``(H, W, 3)`` uint8.
        ids : np.ndarray
            ``(H, W)`` int16 object index per pixel, ``-1`` for floor, backdrop and sky.
        """
        p = pybullet_module()

        client = self._client
        for index, body in self._bodies.items():
            if self.spec.objects[index].shape == "humanoid":
                if joints is None or index not in joints:
                    raise ValueError(f"{self.spec.objects[index].name}: a person needs its joint values to render")
                set_pose(client, body, positions[index], orientations[index], np.asarray(joints[index]))
                continue
            client.resetBasePositionAndOrientation(body, positions[index].tolist(), orientations[index].tolist())
        height, width = self.size
        _, _, rgba, _, segmentation = client.getCameraImage(
            width,
            height,
            self._view,
            self._projection,
            renderer=p.ER_TINY_RENDERER,
            shadow=int(self.shadows),
            **self._light,
        )
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3].copy()
        body_ids = np.asarray(segmentation, dtype=np.int64).reshape(height, width)
        ids = np.full((height, width), BACKGROUND_ID, dtype=np.int16)
        known = (body_ids >= 0) & (body_ids < len(self._id_of_body))
        ids[known] = self._id_of_body[body_ids[known]]
        return rgb, ids

    def close(self) -> None:
        """Disconnect the pybullet client."""
        if self._client is not None:
            self._client.disconnect()
            self._client = None

    def __enter__(self) -> SceneRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
