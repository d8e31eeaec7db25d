"""meta.json sections of the human families: the person (motion, placement, body, hold) and per-object contacts.

Examples
--------
>>> import numpy as np
>>> from void_eval.suite.actor import ContactLog
>>> impulse = np.zeros((4, 2)); impulse[2, 0] = 0.75
>>> log = ContactLog(impulse=impulse, peak_force=impulse * 240, held=np.zeros((4, 2), bool),
...                  hold_impulse=np.zeros((4, 2)), links=(("right_ankle",), ()))
>>> contact = object_contact(log, 0)
>>> contact["touched"], contact["first_frame"], contact["impulse"], contact["links"]
(True, 2, 0.75, ['right_ankle'])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from void_eval.suite.actor import ContactLog
from void_eval.suite.humanoid import LINK_PARTS, LINKS, link_color
from void_eval.suite.mocap import JOINTS
from void_eval.suite.spec import SceneSpec


def object_contact(log: ContactLog, index: int) -> dict[str, Any]:
    """What the person did to object ``index``: ``touched``, ``held``, ``first_frame``/``last_frame`` of contact or
    hold (None if never), total ``impulse`` and ``hold_impulse`` (N s), ``peak_force`` (N), the person's ``links``
    that touched it, and ``impulse_per_frame``."""
    active = (log.impulse[:, index] > 0) | log.held[:, index]
    frames = np.nonzero(active)[0]
    return {
        "touched": bool(log.touched()[index]),
        "held": bool(log.held[:, index].any()),
        "first_frame": int(frames[0]) if len(frames) else None,
        "last_frame": int(frames[-1]) if len(frames) else None,
        "impulse": round(float(log.impulse[:, index].sum()), 5),
        "hold_impulse": round(float(log.hold_impulse[:, index].sum()), 5),
        "peak_force": round(float(log.peak_force[:, index].max(initial=0.0)), 3),
        "links": list(log.links[index]),
        "impulse_per_frame": [round(float(v), 5) for v in log.impulse[:, index]],
    }


def human_meta(spec: SceneSpec, log: ContactLog | None) -> dict[str, Any] | None:
    """The ``human`` section of meta.json, None for scenes without a person."""
    human = spec.human
    if human is None:
        return None
    touched = [] if log is None else [int(i) for i in np.nonzero(log.touched())[0] if i != spec.removed_index]
    hold = None
    if human.hold is not None:
        held = next(i for i, obj in enumerate(spec.objects) if obj.name == human.hold.object)
        held_frames = [] if log is None else np.nonzero(log.held[:, held])[0].tolist()
        hold = {
            "object": held,
            "link": human.hold.link,
            "start": human.hold.start,
            "end": human.hold.end,
            "frames": [held_frames[0], held_frames[-1]] if held_frames else None,
        }
    return {
        "object": spec.removed_index,
        "motion": human.motion,
        "source": f"pybullet_data/data/motions/humanoid3d_{human.motion}.txt",
        "clip_start": human.start,
        "position": list(human.position),
        "yaw": human.yaw,
        "scale": human.scale,
        "height": human.height,
        "links": [
            {"index": index, "name": name, "part": LINK_PARTS[name], "color": list(link_color(human, name))}
            for index, name in enumerate(LINKS)
        ],
        "joint_order": [{"name": name, "link": link, "values": dofs} for name, link, dofs, _ in JOINTS],
        "hold": hold,
        "touched": touched,
    }
