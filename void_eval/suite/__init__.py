"""Counterfactual physics suite: clips with ground truth for "the scene as if the object never existed".

Each clip is one pybullet scene simulated twice, with and without the removed object, rendered with TinyRenderer
(cast shadows, per-object segmentation), and written as a clip folder with ``input_video.mp4``,
``counterfactual.mp4``, ``quadmask_0.mp4``, segmentation and shadow masks and ``meta.json``. In the human
families (``human_kick``, ``human_push``, ``human_carry``) the removed object is a motion-captured person.

meta.json
---------
Fields only ever get added; none is renamed or removed.

``scenario``, ``seed``, ``suite_seed``, ``index``, ``attempt``
    Family; the clip's own seed (``build_scene(scenario, seed)`` rebuilds the scene); the suite's seed, the
    clip's index and the sampling attempt that passed the family's checks.
``generator``
    ``{name, version, pybullet, physics_rate, renderer}``.
``fps``, ``frames``, ``size``
    Frame rate, frame count and ``[height, width]``.
``camera``, ``light``, ``textures``, ``stage``
    Camera ``{eye, target, up, fov, near, far}``; TinyRenderer light ``{direction, color, distance, ambient,
    diffuse, specular}``; floor and backdrop texture recipes and the backdrop's distance; the set's size
    relative to the tabletop families (3 for people).
``quadmask``
    ``{file, threshold, dilation, difference, levels, fractions}``.
``segmentation``
    ``{factual, counterfactual, encoding, scale, background}``: grey = (object id + 1) x scale, 0 = floor and
    backdrop. A person's every link carries the person's id.
``shadow``
    ``{file, encoding, threshold, pixels, frames_with_shadow}`` (the removed object's own shadow).
``objects``
    One entry per object, ``id`` = index:

    * ``name``, ``shape`` (box, sphere, cylinder, humanoid), ``size``, ``mass``, ``color``;
    * ``role`` measured from the two simulations (removed, affected, static) and ``intended_role``;
    * ``diverges_from_frame``: first frame at which its pose differs between the worlds (None: never);
    * ``motion`` ``{factual, counterfactual}``: ``{max_displacement, height_change, max_tilt_degrees}`` or None;
    * ``tracks`` ``{factual, counterfactual}``: per frame ``{frame, pixels, centroid [x, y], bbox [x0, y0, x1,
      y1], position [x, y, z], orientation [x, y, z, w]}`` (None where invisible or absent). For the person,
      ``position``/``orientation`` are the pelvis and factual frames add ``joints``: 36 values in
      ``human.joint_order`` (quaternions x, y, z, w for spherical joints, radians for knees and elbows);
    * ``contact`` (human scenes, every object but the person): ``{touched, held, first_frame, last_frame,
      impulse, hold_impulse, peak_force, links, impulse_per_frame}``: the normal contact impulse (N s) the
      person's links gave the object, summed per frame over the physics steps since the previous frame, the
      largest force of one step (N), the links involved, and the span and constraint impulse of a hold.
``human``
    None, or ``{object, motion, source, clip_start, position, yaw, scale, height, links, joint_order, hold,
    touched}``: the removed object's id; the pybullet_data clip played and its time at frame 0; where and how
    it is placed; ``links`` ``[{index, name, part, color}]``; ``hold`` ``{object, link, start, end, frames}`` or
    None; the ids of every object the person touched.
``prompt``, ``notes``
    The counterfactual scene in one sentence; family-specific facts (``variant``, ``motion``, ...).

Examples
--------
>>> from void_eval.suite import make_suite
>>> paths = make_suite("suite_out", preset="demo", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAMILIES", "PRESETS", "make_suite"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from void_eval.suite import make

        return getattr(make, name)
    raise AttributeError(f"module 'void_eval.suite' has no attribute {name!r}")
