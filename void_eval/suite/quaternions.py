"""Vectorised unit-quaternion helpers in pybullet's ``(x, y, z, w)`` order.

Every function takes arrays of shape ``(..., 4)`` (and ``(..., 3)`` for vectors) and broadcasts over the leading
axes, so a whole motion-capture clip is converted in one call.

Examples
--------
>>> import numpy as np
>>> quarter = from_axis_angle(np.array([0.0, 0.0, 1.0]), np.pi / 2)   # 90 degrees about z
>>> np.round(rotate(quarter, np.array([1.0, 0.0, 0.0])), 6).tolist()
[0.0, 1.0, 0.0]
>>> np.round(slerp(np.array([0.0, 0.0, 0.0, 1.0]), quarter, 0.5), 4).tolist()
[0.0, 0.0, 0.3827, 0.9239]
"""

from __future__ import annotations

import numpy as np

IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def multiply(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Hamilton product ``first * second`` (apply ``second``, then ``first``)."""
    x1, y1, z1, w1 = np.moveaxis(np.asarray(first, dtype=np.float64), -1, 0)
    x2, y2, z2, w2 = np.moveaxis(np.asarray(second, dtype=np.float64), -1, 0)
    return np.stack(
        [
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        ],
        axis=-1,
    )


def conjugate(quaternion: np.ndarray) -> np.ndarray:
    """The inverse rotation of a unit quaternion."""
    out = np.array(quaternion, dtype=np.float64, copy=True)
    out[..., :3] *= -1
    return out


def normalize(quaternion: np.ndarray) -> np.ndarray:
    """Scale to unit length."""
    quaternion = np.asarray(quaternion, dtype=np.float64)
    return quaternion / np.linalg.norm(quaternion, axis=-1, keepdims=True)


def rotate(quaternion: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """Rotate 3-vectors by unit quaternions."""
    quaternion = np.asarray(quaternion, dtype=np.float64)
    axis, w = quaternion[..., :3], quaternion[..., 3:]
    vector = np.asarray(vector, dtype=np.float64)
    twice_cross = 2.0 * np.cross(axis, vector)
    return vector + w * twice_cross + np.cross(axis, twice_cross)


def from_axis_angle(axis: np.ndarray, angle: float | np.ndarray) -> np.ndarray:
    """Quaternion of a rotation by ``angle`` radians about the unit ``axis``."""
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([np.asarray(axis, dtype=np.float64) * np.sin(half), np.cos(half)], axis=-1)


def log(quaternion: np.ndarray) -> np.ndarray:
    """Rotation vector (axis times angle, radians, angle in [0, pi]) of unit quaternions."""
    quaternion = np.asarray(quaternion, dtype=np.float64)
    quaternion = np.where(quaternion[..., 3:] < 0, -quaternion, quaternion)  # the short way round
    vector, w = quaternion[..., :3], np.clip(quaternion[..., 3], -1.0, 1.0)
    sine = np.linalg.norm(vector, axis=-1)
    angle = 2.0 * np.arctan2(sine, w)
    scale = np.where(sine > 1e-12, angle / np.maximum(sine, 1e-12), 2.0)
    return vector * scale[..., None]


def slerp(first: np.ndarray, second: np.ndarray, fraction: float | np.ndarray) -> np.ndarray:
    """Spherical linear interpolation from ``first`` (fraction 0) to ``second`` (fraction 1), the short way."""
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    fraction = np.asarray(fraction, dtype=np.float64)[..., None]
    dot = (first * second).sum(axis=-1, keepdims=True)
    second = np.where(dot < 0, -second, second)
    dot = np.abs(dot).clip(0.0, 1.0)
    theta = np.arccos(dot)
    sine = np.sin(theta)
    close = sine < 1e-6
    safe = np.where(close, 1.0, sine)
    weight_first = np.where(close, 1.0 - fraction, np.sin((1.0 - fraction) * theta) / safe)
    weight_second = np.where(close, fraction, np.sin(fraction * theta) / safe)
    return normalize(weight_first * first + weight_second * second)


def angular_velocity(start: np.ndarray, end: np.ndarray, seconds: float, *, local: bool) -> np.ndarray:
    """Constant angular velocity (rad/s) turning ``start`` into ``end`` in ``seconds``.

    ``local=False`` gives it in the world (parent) frame, ``local=True`` in the body (child) frame, as pybullet's
    spherical joints expect their velocities.
    """
    difference = multiply(conjugate(start), end) if local else multiply(end, conjugate(start))
    return log(difference) / seconds
