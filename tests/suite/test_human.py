"""The human-object families: motion capture, the kinematic person, measured contacts, what the two worlds show."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from void_eval.segmentation import decode_segmentation
from void_eval.suite.acceptance import scene_problems
from void_eval.suite.humanoid import LINKS, human_track, link_poses
from void_eval.suite.make import FAMILIES, PRESETS, make_suite
from void_eval.suite.mocap import JOINTS, load_motion, sample
from void_eval.suite.physics import simulate
from void_eval.suite.render import SceneRenderer, project_points
from void_eval.suite.scenarios import build_scene
from void_eval.suite.spec import HumanSpec
from void_eval.video import read_video

HUMAN = [family for family in FAMILIES if family.startswith("human_")]


def _meta(folder):
    return json.loads((folder / "meta.json").read_text())


def _positions(obj, world):
    return np.array([entry["position"] for entry in obj["tracks"][world]], dtype=float)


def _seed_with(family: str, variant: str) -> int:
    return next(seed for seed in range(200) if build_scene(family, seed).notes["variant"] == variant)


def test_mocap_sampling_hits_the_key_frames_and_loops_with_the_root_carried_on():
    walk = load_motion("walk")
    frames = walk.frames
    pose = sample(walk, walk.times[[0, 5, 17]])
    assert np.allclose(pose.root_position, frames[[0, 5, 17], 1:4])
    wxyz = frames[[0, 5, 17], 4:8]
    assert np.allclose(pose.root_orientation, np.concatenate([wxyz[:, 1:], wxyz[:, :1]], axis=1))
    knee = sum(dofs for _, _, dofs, _ in JOINTS[:3])  # right knee: after chest, neck and right hip quaternions
    assert np.allclose(pose.joints[:, knee], frames[[0, 5, 17], 20])
    later = sample(walk, np.array([walk.duration + walk.times[5]]))
    assert np.allclose(later.root_position[0], frames[5, 1:4] + frames[-1, 1:4] - frames[0, 1:4])
    kick = load_motion("kick")
    assert not kick.loop
    held = sample(kick, np.array([-1.0, 0.0, kick.duration, kick.duration + 1.0]))
    assert np.allclose(held.joints[0], held.joints[1]) and np.allclose(held.joints[2], held.joints[3])
    with pytest.raises(ValueError, match="unknown motion"):
        load_motion("moonwalk")


def test_a_placed_walker_stands_on_the_floor_and_walks_along_its_heading():
    yaw = math.radians(130)
    walker = HumanSpec(motion="walk", start=0.3, position=(0.7, -0.4), yaw=yaw, scale=1.1)
    times = np.arange(0.0, 2.5, 1 / 24)
    positions, _ = link_poses(walker, times)
    feet = positions[:, [LINKS.index("right_ankle"), LINKS.index("left_ankle")], 2]
    assert -0.01 < feet.min(axis=1).max() < 0.08  # a foot is always on (or just above) the floor
    head, pelvis = positions[:, LINKS.index("neck"), 2], positions[:, LINKS.index("root"), 2]
    assert (head > pelvis + 0.4).all() and (pelvis > feet.max(axis=1)).all()
    assert abs(head.max() + 0.1025 * walker.scale - walker.height) < 0.03  # crown at the stated height
    travel = positions[-1, 0, :2] - positions[0, 0, :2]
    heading = math.atan2(travel[1], travel[0])
    assert abs(math.remainder(heading - yaw, 2 * math.pi)) < math.radians(10)
    assert 0.8 < np.linalg.norm(travel) / times[-1] < 1.4  # walking speed, m/s


def test_the_clip_velocities_integrate_to_its_poses():
    kicker = HumanSpec(motion="kick", start=0.0, position=(0.0, 0.0), yaw=0.4)
    times = np.arange(0.3, 0.7, 1 / 240)
    track = human_track(kicker, times)
    travelled = np.trapezoid(track.base_linear_velocity, times, axis=0)
    assert np.allclose(travelled, track.base_position[-1] - track.base_position[0], atol=5e-3)
    knee = sum(dofs for _, _, dofs, _ in JOINTS[:3])
    knee_speed = sum(3 if dofs == 4 else 1 for _, _, dofs, _ in JOINTS[:3])
    turned = np.trapezoid(track.joint_velocity[:, knee_speed], times)
    assert abs(turned - (track.joints[-1, knee] - track.joints[0, knee])) < 0.01
    assert np.abs(track.joint_velocity[:, knee_speed]).max() > 2  # the kick is fast, rad/s


def test_every_human_clip_moves_an_object_through_contact(tiny_suite):
    for family in HUMAN:
        meta = _meta(tiny_suite[family])
        human = meta["human"]
        assert human["motion"] == {"human_kick": "kick"}.get(family, "walk")
        diverges = {}
        for obj in meta["objects"]:
            if obj["role"] == "removed":
                continue
            gap = np.linalg.norm(_positions(obj, "factual") - _positions(obj, "counterfactual"), axis=1)
            if (gap > 0.005).any():
                diverges[obj["id"]] = int(np.argmax(gap > 0.005))
        assert diverges, family  # some object's trajectory differs between the worlds
        first = min(diverges.values())
        causes = [i for i, frame in diverges.items() if frame == first]
        touched = [i for i in causes if meta["objects"][i]["contact"]["touched"]]
        assert touched, family  # ... and the first to differ is one the person touched
        contact = meta["objects"][touched[0]]["contact"]
        assert contact["first_frame"] <= first, family  # from the moment of contact on, not before
        assert contact["impulse"] > 0 or contact["held"], family
        assert set(touched) <= set(human["touched"])
        others = [obj for obj in meta["objects"] if obj["role"] != "removed" and obj["id"] not in diverges]
        for obj in others:  # untouched, unmoved objects have no contact and identical tracks
            assert np.array_equal(_positions(obj, "factual"), _positions(obj, "counterfactual"))


def test_the_person_never_appears_in_the_counterfactual(tiny_suite):
    for family in HUMAN:
        folder = tiny_suite[family]
        meta = _meta(folder)
        person = meta["human"]["object"]
        assert meta["objects"][person]["shape"] == "humanoid" and meta["objects"][person]["role"] == "removed"
        factual = decode_segmentation(read_video(folder / "segmentation_factual.mp4"))
        counterfactual = decode_segmentation(read_video(folder / "segmentation_counterfactual.mp4"))
        assert (factual == person).any(axis=(1, 2)).mean() >= 0.4  # in view in the factual world ...
        assert not (counterfactual == person).any()  # ... never in the counterfactual one
        for entry in meta["objects"][person]["tracks"]["counterfactual"]:
            assert entry["position"] is None and entry["pixels"] == 0 and "joints" not in entry
        assert all(len(entry["joints"]) == 36 for entry in meta["objects"][person]["tracks"]["factual"])


def test_the_segmentation_covers_every_part_of_the_person(tmp_path):
    spec = build_scene("human_push", 2)
    states = simulate(spec, include_removed=True, frames=24, fps=12.0)
    size = (144, 256)
    person = spec.removed_index
    hits = []
    with SceneRenderer(spec, include_removed=True, size=size, texture_dir=tmp_path) as renderer:
        for frame in range(0, 24, 4):
            _, ids = renderer.render(
                states.positions[frame], states.orientations[frame], joints={person: states.joints[person][frame]}
            )
            centres, _ = link_poses(spec.human, np.array([frame / 12.0]))
            pixels = project_points(centres[0], spec.camera, size)
            for x, y in pixels:
                if 0 <= x < size[1] and 0 <= y < size[0]:
                    hits.append(ids[int(y), int(x)] == person)
    assert len(hits) >= 4 * len(LINKS)
    assert np.mean(hits) > 0.9  # head, hands, feet, limbs: every link is the person in the segmentation


@pytest.mark.parametrize("variant", ["drop", "pick"])
def test_a_carried_bag_falls_or_stays_put_without_the_person(variant):
    spec = build_scene("human_carry", _seed_with("human_carry", variant))
    bag = next(i for i, obj in enumerate(spec.objects) if obj.name == spec.human.hold.object)
    factual = simulate(spec, include_removed=True, frames=30, fps=12.0)
    counterfactual = simulate(spec, include_removed=False, frames=30, fps=12.0)
    assert scene_problems(spec, factual, counterfactual, size=(192, 336)) == []
    held = factual.contacts.held[:, bag]
    assert held.any() and not held[-1]  # carried, then let go
    alone = counterfactual.positions[:, bag]
    rest_height = spec.objects[bag].half_height
    if variant == "drop":
        assert held[0]
        assert alone[1, 2] < alone[0, 2] - 0.005  # without the hand it falls at once ...
        assert abs(alone[-1, 2] - rest_height) < 0.02  # ... and lies on the floor
    else:
        assert not held[0]
        assert np.abs(alone - alone[0]).max() < 1e-3  # without the person it stays on its stand
        moved = np.linalg.norm(factual.positions[:, bag] - alone, axis=1)
        grab = int(np.argmax(held))
        assert moved[:grab].max() < 0.005 and moved.max() > 0.2  # taken away only once grabbed


def test_acceptance_refuses_a_person_inside_an_object_or_one_that_touches_nothing():
    spec = build_scene("human_kick", _seed_with("human_kick", "ball"))
    ball = spec.objects[0]
    foot = link_poses(spec.human, np.array([0.0]))[0][0, LINKS.index("right_ankle")]
    inside = dataclasses.replace(spec, objects=(dataclasses.replace(ball, position=tuple(foot)), *spec.objects[1:]))
    far = (ball.position[0] + 3.0, ball.position[1], ball.position[2])
    missed = dataclasses.replace(spec, objects=(dataclasses.replace(ball, position=far), *spec.objects[1:]))
    for scene, message in ((inside, "starts inside"), (missed, "no object moves differently")):
        factual = simulate(scene, include_removed=True, frames=24, fps=12.0)
        counterfactual = simulate(scene, include_removed=False, frames=24, fps=12.0)
        problems = scene_problems(scene, factual, counterfactual, size=(192, 336))
        assert any(message in problem for problem in problems), problems


def test_the_human_group_names_the_three_human_families(tmp_path):
    from void_eval.suite.make import _parse_scenarios

    assert _parse_scenarios("human") == tuple(HUMAN)
    assert _parse_scenarios("rigid,human_kick") == (*FAMILIES[:5], "human_kick")
    with pytest.raises(ValueError, match="or a group"):
        _parse_scenarios("humans")


def test_presets_include_people():
    for name in ("demo", "full"):
        preset = PRESETS[name]
        families = {FAMILIES[index % len(FAMILIES)] for index in range(preset.clips)}
        assert set(HUMAN) <= families, name
    assert PRESETS["full"].size == (384, 672) and PRESETS["full"].frames == 85


def test_human_clips_are_byte_identical_for_the_same_seed(tmp_path):
    options = {"preset": "tiny", "clips": 2, "frames": 18, "size": (48, 80), "scenarios": "human_carry,human_kick"}
    make_suite(tmp_path / "a", seed=2, progress=False, workers=1, **options)
    make_suite(tmp_path / "b", seed=2, progress=False, workers=2, **options)
    files = sorted(path.relative_to(tmp_path / "a") for path in (tmp_path / "a").rglob("*") if path.is_file())
    assert len(files) == 2 * 8 + 1
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("family", ["occlusion", "shadow", "support", "collision", "chain", "human_kick"])
def test_an_empty_stage_casts_no_shadow_on_itself(family, tmp_path):
    """TinyRenderer's shadow acne: with nothing above it, the floor and backdrop must not shadow themselves.

    Before the camera's near plane came close, 17-66% of an empty stage's pixels were darkened in stripes.
    """
    spec = build_scene(family, 1)
    empty = dataclasses.replace(spec, objects=(spec.objects[spec.removed_index],))  # the world without it: nothing
    renders = []
    for shadows in (True, False):
        with SceneRenderer(empty, include_removed=False, size=(192, 336), texture_dir=tmp_path, shadows=shadows) as r:
            renders.append(r.render(np.zeros((1, 3)), np.tile([0.0, 0.0, 0.0, 1.0], (1, 1)))[0])
    darkened = (renders[0].astype(int) - renders[1].astype(int) < 0).any(axis=-1)
    assert darkened.mean() < 0.01
