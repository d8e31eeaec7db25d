"""pybullet's DeepMimic humanoid as a kinematic actor: load and colour it, pose it from a clip, forward kinematics.

The humanoid (``pybullet_data/humanoid/humanoid.urdf``, 15 links made of spheres, capsules and boxes, loaded at
DeepMimic's scale of 0.25 times :attr:`HumanSpec.scale`) is not simulated: before every physics step its base
and joints are reset to the clip's pose at that instant, with the clip's velocities, so it pushes objects like an
infinitely strong body moving exactly as captured, and objects answer with real contacts. The same poses drive
the renderer, one per frame.

Examples
--------
>>> from void_eval.suite.spec import HumanSpec
>>> walker = HumanSpec(motion="walk", start=0.0, position=(0.0, 0.0), yaw=0.0, scale=1.1)
>>> track = human_track(walker, np.array([0.0, 0.5]))
>>> track.base_position.shape, track.joints.shape, track.joint_velocity.shape
((2, 3), (2, 36), (2, 28))
>>> positions, _ = link_poses(walker, np.array([0.0, 1.0]))
>>> bool(positions[1, LINKS.index("right_ankle"), 0] > 0.9)  # a second later the walker is a metre further on
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from void_eval.suite import mocap
from void_eval.suite.spec import HumanSpec

#: DeepMimic's loading scale of the humanoid URDF (its units are four times a metre).
BASE_SCALE = 0.25
#: pybullet link index -> link name (joint ``i`` moves link ``i``).
LINKS: tuple[str, ...] = (
    "root",
    "chest",
    "neck",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
)
#: What each link shows: the pelvis and legs are trousers, feet shoes, upper arms sleeves, head and forearms skin.
LINK_PARTS: dict[str, str] = {
    "root": "trousers",
    "chest": "shirt",
    "neck": "skin",
    "right_hip": "trousers",
    "right_knee": "trousers",
    "right_ankle": "shoes",
    "right_shoulder": "sleeves",
    "right_elbow": "skin",
    "right_wrist": "skin",
    "left_hip": "trousers",
    "left_knee": "trousers",
    "left_ankle": "shoes",
    "left_shoulder": "sleeves",
    "left_elbow": "skin",
    "left_wrist": "skin",
}
DEFAULT_COLORS: dict[str, tuple[int, int, int]] = {
    "skin": (224, 172, 140),
    "shirt": (60, 90, 160),
    "sleeves": (60, 90, 160),
    "trousers": (70, 70, 80),
    "shoes": (40, 30, 30),
}
#: Time step of the central differences that give the clip's velocities (seconds).
VELOCITY_STEP = 1.0 / 960


def humanoid_urdf() -> Path:
    """Path of the humanoid URDF inside the installed ``pybullet_data`` package."""
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / "humanoid" / "humanoid.urdf"


def link_color(human: HumanSpec, link: str) -> tuple[int, int, int]:
    """The plain RGB colour of ``link``."""
    part = LINK_PARTS[link]
    return tuple(human.colors.get(part, DEFAULT_COLORS[part]))


def load_humanoid(client, human: HumanSpec, *, fixed_base: bool) -> int:
    """Load the humanoid into ``client``, coloured per link, with its joint motors off; returns the body id."""
    from void_eval.suite.bullet import pybullet_module, quiet_fds

    p = pybullet_module()

    with quiet_fds():  # the URDF's spherical joints have no axis, which pybullet's importer warns about
        body = client.loadURDF(
            str(humanoid_urdf()),
            globalScaling=BASE_SCALE * human.scale,
            useFixedBase=fixed_base,
            flags=p.URDF_MAINTAIN_LINK_ORDER,
        )
    for link, name in enumerate(LINKS):
        rgba = [channel / 255.0 for channel in link_color(human, name)] + [1.0]
        client.changeVisualShape(body, link, rgbaColor=rgba)
    for _, joint, dofs, _ in mocap.JOINTS:
        if dofs == 1:
            client.setJointMotorControl2(body, joint, p.VELOCITY_CONTROL, force=0)
        else:
            client.setJointMotorControlMultiDof(
                body,
                joint,
                p.POSITION_CONTROL,
                targetPosition=[0, 0, 0, 1],
                positionGain=0,
                velocityGain=0,
                force=[0, 0, 0],
            )
    return body


def split_joints(values: np.ndarray, *, velocities: bool = False) -> list[list[float]]:
    """One joint vector (36 positions, or 28 velocities) as pybullet's per-joint lists, in :data:`mocap.JOINTS`
    order."""
    out, position = [], 0
    for _, _, dofs, _ in mocap.JOINTS:
        width = (3 if dofs == 4 else 1) if velocities else dofs
        out.append([float(v) for v in values[position : position + width]])
        position += width
    return out


JOINT_INDICES: list[int] = [joint for _, joint, _, _ in mocap.JOINTS]


def set_pose(
    client,
    body: int,
    position: np.ndarray,
    orientation: np.ndarray,
    joints: np.ndarray,
    *,
    linear_velocity: np.ndarray | None = None,
    angular_velocity: np.ndarray | None = None,
    joint_velocity: np.ndarray | None = None,
) -> None:
    """Reset the humanoid's base pose and joint values (and velocities when given)."""
    client.resetBasePositionAndOrientation(body, position.tolist(), orientation.tolist())
    values = split_joints(joints)
    if joint_velocity is None:
        client.resetJointStatesMultiDof(body, JOINT_INDICES, values)
    else:
        speeds = split_joints(joint_velocity, velocities=True)
        client.resetJointStatesMultiDof(body, JOINT_INDICES, values, targetVelocities=speeds)
    if linear_velocity is not None and angular_velocity is not None:
        client.resetBaseVelocity(body, linear_velocity.tolist(), angular_velocity.tolist())


@dataclass(frozen=True)
class HumanTrack:
    """The person's kinematic state at T clip times.

    Attributes
    ----------
    base_position, base_orientation : np.ndarray
        ``(T, 3)`` metres and ``(T, 4)`` quaternions of the pelvis (the URDF's base) in the world.
    joints : np.ndarray
        ``(T, 36)`` joint values in :data:`void_eval.suite.mocap.JOINTS` order (quaternions x, y, z, w; angles).
    base_linear_velocity, base_angular_velocity : np.ndarray
        ``(T, 3)`` world-frame velocities.
    joint_velocity : np.ndarray
        ``(T, 28)``: child-frame angular velocity per spherical joint, angle rate per revolute joint.
    """

    base_position: np.ndarray
    base_orientation: np.ndarray
    joints: np.ndarray
    base_linear_velocity: np.ndarray
    base_angular_velocity: np.ndarray
    joint_velocity: np.ndarray


def _placed(human: HumanSpec, clip_times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pose = mocap.sample(mocap.load_motion(human.motion), human.start + clip_times)
    position, orientation = mocap.place(pose, position=human.position, yaw=human.yaw, scale=human.scale)
    return position, orientation, pose.joints


def human_track(human: HumanSpec, clip_times: np.ndarray) -> HumanTrack:
    """Poses and velocities (central differences over :data:`VELOCITY_STEP`) at ``clip_times`` seconds."""
    from void_eval.suite import quaternions as quat

    clip_times = np.asarray(clip_times, dtype=np.float64)
    position, orientation, joints = _placed(human, clip_times)
    before = _placed(human, clip_times - VELOCITY_STEP / 2)
    after = _placed(human, clip_times + VELOCITY_STEP / 2)
    return HumanTrack(
        base_position=position,
        base_orientation=orientation,
        joints=joints,
        base_linear_velocity=(after[0] - before[0]) / VELOCITY_STEP,
        base_angular_velocity=quat.angular_velocity(before[1], after[1], VELOCITY_STEP, local=False),
        joint_velocity=mocap.joint_velocities(before[2], after[2], VELOCITY_STEP),
    )


def link_poses(human: HumanSpec, clip_times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World centre positions ``(T, 15, 3)`` and orientations ``(T, 15, 4)`` of every link (forward kinematics).

    A link's centre is its centre of mass (the centre of its sphere, capsule or box), and its orientation that of
    its inertial frame: the frame pybullet's constraints attach to.
    """
    from void_eval.suite.bullet import new_client

    track = human_track(human, clip_times)
    client = new_client()
    try:
        body = load_humanoid(client, human, fixed_base=True)
        positions = np.empty((len(track.joints), len(LINKS), 3))
        orientations = np.empty((len(track.joints), len(LINKS), 4))
        for frame in range(len(track.joints)):
            set_pose(client, body, track.base_position[frame], track.base_orientation[frame], track.joints[frame])
            states = client.getLinkStates(body, list(range(len(LINKS))), computeForwardKinematics=1)
            positions[frame] = [state[0] for state in states]
            orientations[frame] = [state[1] for state in states]
        return positions, orientations
    finally:
        client.disconnect()
