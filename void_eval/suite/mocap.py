"""Motion-capture clips of pybullet's DeepMimic humanoid: load, sample at any time, place in the suite's world.

``pybullet_data`` ships the clips as ``data/motions/humanoid3d_<name>.txt``: JSON with ``"Loop"`` (``"wrap"`` or
``"none"``) and ``"Frames"``, one row of 44 numbers per key frame, in the humanoid's joint order::

    0       duration of this key frame (seconds)
    1-3     root position (x, y, z), metres, y up
    4-7     root orientation (w, x, y, z)
    8-11    chest (w, x, y, z)          12-15  neck (w, x, y, z)
    16-19   right hip (w, x, y, z)      20     right knee (radians)
    21-24   right ankle (w, x, y, z)    25-28  right shoulder (w, x, y, z)
    29      right elbow (radians)       30-33  left hip (w, x, y, z)
    34      left knee (radians)         35-38  left ankle (w, x, y, z)
    39-42   left shoulder (w, x, y, z)  43     left elbow (radians)

Spherical joints' quaternions are relative to the parent link. Sampling interpolates between key frames (linear
for positions and angles, slerp for quaternions); a looping clip repeats with its root carried forward by the
clip's net displacement each cycle (as DeepMimic plays it), a one-shot clip holds its first pose before 0 and its
last pose after the end. :func:`place` turns the y-up clip into the suite's z-up world, turned by ``yaw`` about
the vertical and moved so the clip's origin lands at ``(x, y)``.

Examples
--------
>>> motion = load_motion("walk")
>>> motion.loop, round(motion.duration, 3), motion.frames.shape
(True, 1.267, (39, 44))
>>> pose = sample(motion, np.array([0.0, 1.0]))
>>> pose.root_position.shape, pose.joints.shape
((2, 3), (2, 36))
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void_eval.suite import quaternions as quat

FRAME_VALUES = 44
#: The humanoid's moving joints in clip order: (name, pybullet joint index, degrees of freedom, first column).
#: Spherical joints (4 values: a quaternion) and revolute ones (1 value: an angle).
JOINTS: tuple[tuple[str, int, int, int], ...] = (
    ("chest", 1, 4, 8),
    ("neck", 2, 4, 12),
    ("right_hip", 3, 4, 16),
    ("right_knee", 4, 1, 20),
    ("right_ankle", 5, 4, 21),
    ("right_shoulder", 6, 4, 25),
    ("right_elbow", 7, 1, 29),
    ("left_hip", 9, 4, 30),
    ("left_knee", 10, 1, 34),
    ("left_ankle", 11, 4, 35),
    ("left_shoulder", 12, 4, 39),
    ("left_elbow", 13, 1, 43),
)
#: Length of a pose's joint vector: the joints' values in :data:`JOINTS` order, quaternions as (x, y, z, w).
JOINT_VALUES = sum(dofs for _, _, dofs, _ in JOINTS)
#: Length of a joint velocity vector: 3 (local angular velocity) per spherical joint, 1 per revolute joint.
VELOCITY_VALUES = sum(3 if dofs == 4 else 1 for _, _, dofs, _ in JOINTS)
#: The clip's y-up frame turned into the suite's z-up frame: +90 degrees about x (y -> z, z -> -y).
Y_UP_TO_Z_UP = quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), np.pi / 2)


def motions_folder() -> Path:
    """Folder of the clips inside the installed ``pybullet_data`` package."""
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / "data" / "motions"


def available_motions() -> tuple[str, ...]:
    """Names of the humanoid clips that ship with pybullet (``walk``, ``run``, ``kick``, ...)."""
    return tuple(sorted(path.stem.removeprefix("humanoid3d_") for path in motions_folder().glob("humanoid3d_*.txt")))


@dataclass(frozen=True)
class Motion:
    """One clip: key frame start times ``times`` (K,), rows ``frames`` (K, 44) and whether it loops."""

    name: str
    times: np.ndarray
    frames: np.ndarray
    loop: bool

    @property
    def duration(self) -> float:
        """Seconds from the first key frame to the last."""
        return float(self.times[-1])


@functools.cache
def load_motion(name: str) -> Motion:
    """Read ``humanoid3d_<name>.txt`` from pybullet_data.

    Raises
    ------
    ValueError
        For an unknown name or a file that is not a DeepMimic humanoid clip.
    """
    path = motions_folder() / f"humanoid3d_{name}.txt"
    if not path.is_file():
        raise ValueError(f"unknown motion {name!r}; pybullet_data has {', '.join(available_motions())}")
    data = json.loads(path.read_text())
    frames = np.asarray(data.get("Frames", []), dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != FRAME_VALUES or len(frames) < 2:
        raise ValueError(f"{path}: expected key frames of {FRAME_VALUES} values, got shape {frames.shape}")
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    return Motion(name=name, times=times, frames=frames, loop=data.get("Loop") == "wrap")


@dataclass(frozen=True)
class MocapPose:
    """Poses at T times: root position (T, 3), root orientation (T, 4) x, y, z, w, joints (T, 36)."""

    root_position: np.ndarray
    root_orientation: np.ndarray
    joints: np.ndarray


def _wxyz_to_xyzw(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values[..., 1:4], values[..., :1]], axis=-1)


def sample(motion: Motion, times: np.ndarray) -> MocapPose:
    """Interpolated poses of ``motion`` at ``times`` (seconds, any values; see the module docstring)."""
    times = np.asarray(times, dtype=np.float64)
    duration = motion.duration
    if motion.loop:
        cycles = np.floor(times / duration)
        local = times - cycles * duration
    else:
        cycles = np.zeros_like(times)
        local = times.clip(0.0, duration)
    index = np.clip(np.searchsorted(motion.times, local, side="right") - 1, 0, len(motion.times) - 2)
    span = motion.times[index + 1] - motion.times[index]
    fraction = ((local - motion.times[index]) / span).clip(0.0, 1.0)
    start, end = motion.frames[index], motion.frames[index + 1]
    offset = motion.frames[-1, 1:4] - motion.frames[0, 1:4]
    root = start[:, 1:4] + fraction[:, None] * (end[:, 1:4] - start[:, 1:4]) + cycles[:, None] * offset
    orientation = quat.slerp(_wxyz_to_xyzw(start[:, 4:8]), _wxyz_to_xyzw(end[:, 4:8]), fraction)
    joints = []
    for _, _, dofs, column in JOINTS:
        if dofs == 4:
            first = _wxyz_to_xyzw(start[:, column : column + 4])
            second = _wxyz_to_xyzw(end[:, column : column + 4])
            joints.append(quat.slerp(first, second, fraction))
        else:
            joints.append((start[:, column] + fraction * (end[:, column] - start[:, column]))[:, None])
    return MocapPose(root_position=root, root_orientation=orientation, joints=np.concatenate(joints, axis=1))


def place(
    pose: MocapPose, *, position: tuple[float, float], yaw: float, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """World base position (T, 3) and orientation (T, 4) of the humanoid for ``pose`` in the z-up suite world.

    The clip's origin goes to ``(x, y, 0)``, its forward axis (+x) turns by ``yaw`` radians about the vertical
    and its positions scale by ``scale`` (the body is scaled to match by the loader).
    """
    turn = quat.multiply(quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), yaw), Y_UP_TO_Z_UP)
    base = quat.rotate(turn, pose.root_position * scale) + np.array([position[0], position[1], 0.0])
    orientation = quat.multiply(np.broadcast_to(turn, pose.root_orientation.shape), pose.root_orientation)
    return base, quat.normalize(orientation)


def joint_velocities(before: np.ndarray, after: np.ndarray, seconds: float) -> np.ndarray:
    """Joint velocities (T, 28) turning joint vectors ``before`` into ``after`` (T, 36) in ``seconds``.

    Spherical joints get their angular velocity in the child frame, revolute joints their angle rate.
    """
    out = []
    position = 0
    for _, _, dofs, _ in JOINTS:
        if dofs == 4:
            first, second = before[:, position : position + 4], after[:, position : position + 4]
            out.append(quat.angular_velocity(first, second, seconds, local=True))
        else:
            out.append((after[:, position : position + 1] - before[:, position : position + 1]) / seconds)
        position += dofs
    return np.concatenate(out, axis=1)
