"""Per-object tracks (2D centroid, bounding box, visible pixels, 3D pose) and roles measured from both worlds.

An object's role is measured, not declared: ``removed`` for the removed object, ``affected`` when its pose differs
between the worlds at some frame by more than :data:`MOVED_METRES` or :data:`TURNED_DEGREES`, else ``static``.

Examples
--------
>>> import numpy as np
>>> ids = np.full((1, 4, 5), -1, np.int16); ids[0, 1:3, 2:4] = 0
>>> track_2d(ids, 0)[0]
{'frame': 0, 'pixels': 4, 'centroid': [3.0, 2.0], 'bbox': [2, 1, 4, 3]}
"""

from __future__ import annotations

from typing import Any

import numpy as np

from void_eval.suite.physics import WorldStates

#: An object whose position differs between the worlds by more than this (metres) at any frame is affected.
MOVED_METRES = 0.005
#: ... or whose orientation differs by more than this many degrees.
TURNED_DEGREES = 2.0


def track_2d(ids: np.ndarray, index: int) -> list[dict[str, Any]]:
    """Per frame: visible pixel count, centroid ``[x, y]`` (pixel centres, x right, y down) and bounding box
    ``[x0, y0, x1, y1]`` (x1, y1 exclusive), both ``None`` when the object is not visible."""
    out = []
    for frame, frame_ids in enumerate(ids):
        ys, xs = np.nonzero(frame_ids == index)
        if len(xs) == 0:
            out.append({"frame": frame, "pixels": 0, "centroid": None, "bbox": None})
            continue
        out.append(
            {
                "frame": frame,
                "pixels": len(xs),
                "centroid": [round(float(xs.mean()) + 0.5, 3), round(float(ys.mean()) + 0.5, 3)],
                "bbox": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1],
            }
        )
    return out


def rotation_degrees(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Angle in degrees between quaternions ``(..., 4)`` (``x, y, z, w``)."""
    dot = np.abs((first * second).sum(axis=-1)).clip(0.0, 1.0)
    return np.degrees(2 * np.arccos(dot))


def measured_roles(factual: WorldStates, counterfactual: WorldStates, removed_index: int) -> list[str]:
    """Role of every object from the two simulations (see the module docstring)."""
    roles = []
    for index in range(factual.positions.shape[1]):
        if index == removed_index:
            roles.append("removed")
            continue
        moved = np.linalg.norm(factual.positions[:, index] - counterfactual.positions[:, index], axis=-1).max()
        turned = rotation_degrees(factual.orientations[:, index], counterfactual.orientations[:, index]).max()
        roles.append("affected" if moved > MOVED_METRES or turned > TURNED_DEGREES else "static")
    return roles


def divergence_frames(factual: WorldStates, counterfactual: WorldStates) -> np.ndarray:
    """``(N,)`` int: first frame at which each object's pose differs between the worlds by more than
    :data:`MOVED_METRES` or :data:`TURNED_DEGREES`; -1 where it never does (or the object is absent from one)."""
    moved = np.linalg.norm(factual.positions - counterfactual.positions, axis=-1) > MOVED_METRES
    turned = rotation_degrees(factual.orientations, counterfactual.orientations) > TURNED_DEGREES
    differs = moved | turned  # NaN (absent) compares False
    both = factual.present & counterfactual.present
    return np.where(differs.any(axis=0) & both, differs.argmax(axis=0), -1)


def object_tracks(ids: np.ndarray, states: WorldStates, index: int) -> list[dict[str, Any]]:
    """2D track plus 3D ``position`` ``[x, y, z]`` and ``orientation`` ``[x, y, z, w]`` (``None`` when the object
    does not exist in this world)."""
    entries = track_2d(ids, index)
    for frame, entry in enumerate(entries):
        if states.present[index]:
            entry["position"] = [round(float(v), 5) for v in states.positions[frame, index]]
            entry["orientation"] = [round(float(v), 5) for v in states.orientations[frame, index]]
        else:
            entry["position"] = None
            entry["orientation"] = None
    return entries


def motion_summary(states: WorldStates, index: int) -> dict[str, float] | None:
    """Largest displacement from the start (metres), height change start to end, and largest tilt (degrees)."""
    if not states.present[index]:
        return None
    positions = states.positions[:, index]
    tilt_axis = _up_axis_tilt(states.orientations[:, index])
    return {
        "max_displacement": round(float(np.linalg.norm(positions - positions[0], axis=-1).max()), 5),
        "height_change": round(float(positions[-1, 2] - positions[0, 2]), 5),
        "max_tilt_degrees": round(float(tilt_axis.max()), 3),
    }


def _up_axis_tilt(orientations: np.ndarray) -> np.ndarray:
    """Degrees between each pose's body z axis and the body z axis at frame 0."""
    x, y, z, w = (orientations[:, i] for i in range(4))
    body_z = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=-1)
    cosine = (body_z * body_z[0]).sum(axis=-1).clip(-1.0, 1.0)
    return np.degrees(np.arccos(cosine))
