"""Write one suite clip folder: videos, masks, segmentation, prompt and meta.json.

Folder layout (every video 12 fps by default, all the same size and length)::

    input_video.mp4                 factual world, h264 crf 12 (what a removal method gets)
    counterfactual.mp4              world without the object, lossless
    quadmask_0.mp4                  quadmask, lossless (0 remove, 63 overlap, 127 affected, 255 keep)
    shadow_mask.mp4                 255 where the removed object's shadow darkens the factual world, lossless
    segmentation_factual.mp4        object ids, lossless grey: value = (object id + 1) * 8, 0 = background
    segmentation_counterfactual.mp4
    prompt.json                     {"bg": "<the counterfactual scene in one sentence>"}
    meta.json                       see :func:`clip_meta`

Nothing in the folder depends on the time or place it was written, so equal arguments give byte-identical folders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from void_eval.atomic import write_json_atomic
from void_eval.segmentation import SEGMENTATION_SCALE, segmentation_frames
from void_eval.suite.human_meta import human_meta, object_contact
from void_eval.suite.quadmask_from_render import SceneMasks
from void_eval.suite.spec import SceneSpec
from void_eval.suite.tracks import divergence_frames, measured_roles, motion_summary, object_tracks
from void_eval.suite.world import WorldPair
from void_eval.video import VideoWriter

GENERATOR_NAME = "void_eval.suite"
GENERATOR_VERSION = "1.0"
INPUT_CRF = 12
FILES = {
    "input": "input_video.mp4",
    "counterfactual": "counterfactual.mp4",
    "quadmask": "quadmask_0.mp4",
    "shadow": "shadow_mask.mp4",
    "segmentation_factual": "segmentation_factual.mp4",
    "segmentation_counterfactual": "segmentation_counterfactual.mp4",
    "prompt": "prompt.json",
    "meta": "meta.json",
}


def _pybullet_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pybullet")
    except PackageNotFoundError:
        return "unknown"


def clip_meta(
    spec: SceneSpec,
    pair: WorldPair,
    masks: SceneMasks,
    *,
    seed: int,
    suite_seed: int,
    index: int,
    attempt: int,
    fps: float,
    threshold: int,
    dilation: int,
) -> dict[str, Any]:
    """The meta.json content (every field is described in :mod:`void_eval.suite`).

    Keys: ``scenario``, ``seed`` (the clip's own seed: ``build_scene(scenario, seed)`` rebuilds the scene),
    ``suite_seed``, ``index``, ``attempt``, ``generator``, ``fps``, ``frames``, ``size`` [h, w], ``camera``,
    ``light``, ``textures``, ``quadmask``, ``segmentation``, ``shadow``, ``objects`` (id, name, shape, size, mass,
    color, role, intended_role, diverges_from_frame, motion, tracks, and contact in human scenes), ``human``,
    ``stage``, ``prompt``, ``notes``.
    """
    frames, height, width = masks.removed.shape
    objects = _objects_meta(spec, pair)
    spec_json = spec.to_json()
    return {
        "scenario": spec.scenario,
        "seed": seed,
        "suite_seed": suite_seed,
        "index": index,
        "attempt": attempt,
        "generator": _generator_meta(),
        "fps": fps,
        "frames": frames,
        "size": [height, width],
        "camera": spec_json["camera"],
        "light": spec_json["light"],
        "textures": {
            "floor": spec_json["floor_texture"],
            "backdrop": spec_json["backdrop_texture"],
            "backdrop_distance": spec.backdrop_distance,
        },
        "quadmask": _quadmask_meta(masks, threshold=threshold, dilation=dilation),
        "segmentation": {
            "factual": FILES["segmentation_factual"],
            "counterfactual": FILES["segmentation_counterfactual"],
            "encoding": f"lossless grey video; value = (object id + 1) * {SEGMENTATION_SCALE}; 0 = background "
            "(floor, backdrop)",
            "scale": SEGMENTATION_SCALE,
            "background": 0,
        },
        "shadow": _shadow_meta(masks, threshold=threshold),
        "objects": objects,
        "human": human_meta(spec, pair.factual.contacts),
        "stage": spec.stage,
        "prompt": spec.prompt,
        "notes": spec.notes,
    }


def _generator_meta() -> dict[str, Any]:
    """meta.json's ``generator``: this generator's name and version, pybullet's version and settings."""
    from void_eval.suite.physics import PHYSICS_RATE

    return {
        "name": GENERATOR_NAME,
        "version": GENERATOR_VERSION,
        "pybullet": _pybullet_version(),
        "physics_rate": PHYSICS_RATE,
        "renderer": "pybullet ER_TINY_RENDERER, shadow=1",
    }


def _quadmask_meta(masks: SceneMasks, *, threshold: int, dilation: int) -> dict[str, Any]:
    """meta.json's ``quadmask``: its file, how it was derived, its levels and the fraction of pixels at each."""
    fractions = masks.quadmask.fractions()
    return {
        "file": FILES["quadmask"],
        "threshold": threshold,
        "dilation": dilation,
        "difference": "largest RGB channel absolute difference between the factual and counterfactual renders",
        "levels": {"remove": 0, "overlap": 63, "affected": 127, "keep": 255},
        "fractions": {name: round(value, 6) for name, value in fractions.items()},
    }


def _shadow_meta(masks: SceneMasks, *, threshold: int) -> dict[str, Any]:
    """meta.json's ``shadow``: the shadow mask's file, encoding, threshold and extent."""
    return {
        "file": FILES["shadow"],
        "encoding": "lossless grey video; 255 where the removed object's shadow darkens the factual render "
        "(outside the object), 0 elsewhere",
        "threshold": threshold,
        "pixels": int(masks.shadow.sum()),
        "frames_with_shadow": int(masks.shadow.any(axis=(1, 2)).sum()),
    }


def _objects_meta(spec: SceneSpec, pair: WorldPair) -> list[dict[str, Any]]:
    """meta.json's ``objects``: one entry per object of ``spec``, in id order (see :func:`_object_meta`)."""
    roles = measured_roles(pair.factual, pair.counterfactual, spec.removed_index)
    diverges = divergence_frames(pair.factual, pair.counterfactual)
    return [_object_meta(spec, pair, index, roles[index], int(diverges[index])) for index in range(len(spec.objects))]


def _object_meta(spec: SceneSpec, pair: WorldPair, index: int, role: str, diverges: int) -> dict[str, Any]:
    """One object's entry: its spec, measured ``role``, first diverging frame (``diverges``, -1 for none), motion
    summary and per-frame tracks in both worlds (with joint angles for a person), and in human scenes its contact."""
    obj = spec.objects[index]
    entry = {
        "id": index,
        "name": obj.name,
        "shape": obj.shape,
        "size": list(obj.size),
        "mass": obj.mass,
        "color": list(obj.color),
        "role": role,
        "intended_role": obj.intended_role,
        "diverges_from_frame": None if diverges < 0 else diverges,
        "motion": {
            "factual": motion_summary(pair.factual, index),
            "counterfactual": motion_summary(pair.counterfactual, index),
        },
        "tracks": {
            "factual": object_tracks(pair.factual_ids, pair.factual, index),
            "counterfactual": object_tracks(pair.counterfactual_ids, pair.counterfactual, index),
        },
    }
    if pair.factual.contacts is not None and index != spec.removed_index:
        entry["contact"] = object_contact(pair.factual.contacts, index)
    for world in ("factual", "counterfactual"):
        states = getattr(pair, world)
        if index in states.joints:
            for frame_entry, values in zip(entry["tracks"][world], states.joints[index], strict=True):
                frame_entry["joints"] = [round(float(v), 5) for v in values]
    return entry


def write_clip(folder: str | Path, pair: WorldPair, masks: SceneMasks, meta: dict[str, Any], *, fps: float) -> Path:
    """Write every file of a clip into ``folder`` (which must exist) and return it."""
    folder = Path(folder)
    with VideoWriter(folder / FILES["input"], fps, kind="h264", crf=INPUT_CRF, deterministic=True) as writer:
        writer.write(pair.factual_rgb)
    with VideoWriter(folder / FILES["counterfactual"], fps, kind="lossless") as writer:
        writer.write(pair.counterfactual_rgb)
    masks.quadmask.write(folder / FILES["quadmask"], fps)
    with VideoWriter(folder / FILES["shadow"], fps, kind="lossless") as writer:
        writer.write(np.where(masks.shadow, 255, 0).astype(np.uint8))
    for world, ids in (("factual", pair.factual_ids), ("counterfactual", pair.counterfactual_ids)):
        with VideoWriter(folder / FILES[f"segmentation_{world}"], fps, kind="lossless") as writer:
            writer.write(segmentation_frames(ids))
    write_json_atomic(folder / FILES["prompt"], {"bg": meta["prompt"]}, indent=1)
    write_json_atomic(folder / FILES["meta"], meta, indent=1)
    return folder
