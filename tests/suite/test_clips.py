"""Suite clips: files, meta.json contract, quadmask correctness per family, real physics from the tracks."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from void_eval.clip import Clip
from void_eval.clip_check import check_clip
from void_eval.quadmask import QuadLevel, read_quadmask
from void_eval.segmentation import decode_segmentation
from void_eval.suite.make import FAMILIES
from void_eval.suite.quadmask_from_render import channel_difference, derive_masks
from void_eval.suite.scenarios import build_scene
from void_eval.suite.world import simulate_pair
from void_eval.suite.writer import FILES
from void_eval.video import read_video

FILE_NAMES = set(FILES.values())


def _rerender(folder, tmp_path):
    """Rebuild a clip's renders from its meta.json (scenario + seed): the clip must be reproducible from it."""
    meta = json.loads((folder / "meta.json").read_text())
    spec = build_scene(meta["scenario"], meta["seed"])
    pair = simulate_pair(spec, frames=meta["frames"], fps=meta["fps"], size=tuple(meta["size"]), texture_dir=tmp_path)
    masks = derive_masks(
        pair.factual_rgb,
        pair.counterfactual_rgb,
        pair.behind_rgb,
        pair.factual_ids,
        removed_index=spec.removed_index,
        threshold=meta["quadmask"]["threshold"],
        dilation=meta["quadmask"]["dilation"],
    )
    return meta, spec, pair, masks


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_every_clip_loads_and_checks_valid(tiny_suite):
    for family, folder in tiny_suite.items():
        assert {path.name for path in folder.iterdir()} == FILE_NAMES
        clip = Clip.load(folder)
        assert clip.scenario == family
        assert (clip.frames, clip.height, clip.width, clip.fps) == (24, 72, 128, 12.0)
        assert clip.counterfactual_info.frames == 24 and clip.counterfactual_info.codec == "h264"
        assert clip.input_info.pix_fmt == "yuv420p"
        assert clip.prompt and clip.prompt.endswith(".")
        report = check_clip(folder)
        assert report.valid, report.errors
        assert not [w for w in report.warnings if "off the four levels" in w or "colour" in w]


def test_meta_json_contract(tiny_suite):
    for family, folder in tiny_suite.items():
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["scenario"] == family
        assert meta["size"] == [72, 128] and meta["fps"] == 12.0 and meta["frames"] == 24
        assert {"threshold", "dilation"} <= set(meta["quadmask"])
        assert meta["segmentation"]["factual"] == "segmentation_factual.mp4"
        assert meta["shadow"]["file"] == "shadow_mask.mp4"
        assert {"eye", "target", "fov"} <= set(meta["camera"]) and "direction" in meta["light"]
        roles = [obj["role"] for obj in meta["objects"]]
        assert roles.count("removed") == 1 and set(roles) <= {"removed", "affected", "static"}
        for obj in meta["objects"]:
            assert len(obj["color"]) == 3 and all(0 <= c <= 255 for c in obj["color"])
            for world in ("factual", "counterfactual"):
                track = obj["tracks"][world]
                assert [entry["frame"] for entry in track] == list(range(24))
                for entry in track:
                    assert (entry["centroid"] is None) == (entry["bbox"] is None) == (entry["pixels"] == 0)
                    if entry["bbox"] is not None:
                        x0, y0, x1, y1 = entry["bbox"]
                        assert 0 <= x0 < x1 <= 128 and 0 <= y0 < y1 <= 72
                        assert x0 <= entry["centroid"][0] <= x1 and y0 <= entry["centroid"][1] <= y1
            removed_cf = obj["tracks"]["counterfactual"]
            if obj["role"] == "removed":
                assert all(e["position"] is None and e["centroid"] is None for e in removed_cf)
            else:
                assert all(len(e["position"]) == 3 for e in removed_cf)


@pytest.mark.parametrize("family", FAMILIES)
def test_quadmask_matches_the_render_difference(tiny_suite, family, tmp_path):
    folder = tiny_suite[family]
    meta, spec, pair, masks = _rerender(folder, tmp_path)
    threshold, dilation = meta["quadmask"]["threshold"], meta["quadmask"]["dilation"]
    levels = read_quadmask(folder / "quadmask_0.mp4").levels
    # the clip is reproducible from meta.json and the files hold exactly what was rendered
    assert np.array_equal(levels, masks.quadmask.levels)
    assert np.array_equal(read_video(folder / "counterfactual.mp4"), pair.counterfactual_rgb)
    assert np.array_equal(decode_segmentation(read_video(folder / "segmentation_factual.mp4")), pair.factual_ids)
    assert np.array_equal(
        decode_segmentation(read_video(folder / "segmentation_counterfactual.mp4")), pair.counterfactual_ids
    )
    assert np.array_equal(read_video(folder / "shadow_mask.mp4")[..., 0] > 127, masks.shadow)

    difference = channel_difference(pair.factual_rgb, pair.counterfactual_rgb)
    masked = levels != QuadLevel.KEEP
    # outside remove | overlap | affected the two worlds differ by at most the threshold in the renders ...
    assert difference[~masked].max(initial=0) <= threshold
    # ... and, through the h264 input (yuv420p: chroma is subsampled, so compare luma), by no more than codec noise
    decoded = _luma(read_video(folder / "input_video.mp4"))
    assert np.percentile(np.abs(decoded - _luma(pair.factual_rgb)), 99) <= 6
    through_codec = np.abs(decoded - _luma(pair.counterfactual_rgb))[~masked]
    assert np.percentile(through_codec, 99) <= 6
    assert np.abs(decoded - _luma(pair.counterfactual_rgb))[masked].mean() > 2 * through_codec.mean()
    # REMOVE/OVERLAP are exactly the removed object's pixels
    removed = pair.factual_ids == spec.removed_index
    assert np.array_equal(levels <= QuadLevel.OVERLAP, removed)
    # the affected level covers every changed pixel outside the object, affected objects' pixels included
    changed_outside = (difference > threshold) & ~removed
    assert (levels[changed_outside] == QuadLevel.AFFECTED).all()
    affected_ids = [obj["id"] for obj in meta["objects"] if obj["role"] == "affected"]
    for ids in (pair.factual_ids, pair.counterfactual_ids):
        moved = np.isin(ids, affected_ids) & changed_outside
        assert (levels[moved] == QuadLevel.AFFECTED).all()
    # ... and the removed object's shadow (all of it where nothing else moves; elsewhere a counterfactual shadow
    # of a fallen object may happen to cover the same pixel, which then does not change)
    assert (levels[masks.shadow & (difference > threshold)] == QuadLevel.AFFECTED).all()
    if family in ("occlusion", "shadow"):
        assert (levels[masks.shadow] == QuadLevel.AFFECTED).all()
    # no 127 where nothing changed: only within `dilation` px of a change outside the object
    kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
    near_change = np.stack([cv2.dilate(f.astype(np.uint8), kernel) > 0 for f in changed_outside])
    assert not ((levels == QuadLevel.AFFECTED) & ~near_change).any()
    # 63 only where what is behind the object was changed by it
    overlap = levels == QuadLevel.OVERLAP
    assert (channel_difference(pair.behind_rgb, pair.counterfactual_rgb)[overlap] > threshold).all()


def test_families_show_their_effect_in_the_masks(tiny_suite):
    fractions = {family: read_quadmask(folder / "quadmask_0.mp4").fractions() for family, folder in tiny_suite.items()}
    for family, share in fractions.items():
        assert share["remove"] > 0.002, family
        assert share["affected"] > 0.0005, family  # at least a shadow
    for family in ("support", "collision", "chain"):
        assert fractions[family]["affected"] > fractions["occlusion"]["affected"], family


def test_occlusion_affects_nothing_but_its_shadow(tiny_suite):
    folder = tiny_suite["occlusion"]
    meta = json.loads((folder / "meta.json").read_text())
    assert [obj["role"] for obj in meta["objects"]].count("affected") == 0
    levels = read_quadmask(folder / "quadmask_0.mp4").levels
    shadow = read_video(folder / "shadow_mask.mp4")[..., 0] > 127
    dilation = meta["quadmask"]["dilation"]
    kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
    near_shadow = np.stack([cv2.dilate(f.astype(np.uint8), kernel) > 0 for f in shadow])
    assert shadow.any()
    assert not ((levels == QuadLevel.AFFECTED) & ~near_shadow).any()
    assert not (levels == QuadLevel.OVERLAP).any()
    for obj in meta["objects"]:
        if obj["role"] == "removed":
            continue
        factual = [e["position"] for e in obj["tracks"]["factual"]]
        counterfactual = [e["position"] for e in obj["tracks"]["counterfactual"]]
        assert factual == counterfactual


def _positions(obj, world):
    return np.array([entry["position"] for entry in obj["tracks"][world]], dtype=float)


def test_support_the_supported_object_falls_without_its_support(tiny_suite):
    meta = json.loads((tiny_suite["support"] / "meta.json").read_text())
    supported = [obj for obj in meta["objects"] if obj["role"] == "affected"]
    assert supported
    drops = []
    for obj in supported:
        factual, counterfactual = _positions(obj, "factual"), _positions(obj, "counterfactual")
        assert abs(factual[-1, 2] - factual[0, 2]) < 0.01  # held up in the factual world
        drops.append(counterfactual[0, 2] - counterfactual[-1, 2])
    assert max(drops) > 0.03  # falls under gravity without the support
    for obj in meta["objects"]:
        if obj["role"] == "static":
            assert np.allclose(_positions(obj, "factual"), _positions(obj, "counterfactual"))


@pytest.mark.parametrize("family", ["collision", "chain"])
def test_struck_objects_move_only_in_the_factual_world(tiny_suite, family):
    meta = json.loads((tiny_suite[family] / "meta.json").read_text())
    struck = [obj for obj in meta["objects"] if obj["intended_role"] == "affected"]
    assert struck and all(obj["role"] == "affected" for obj in struck if obj["motion"]["factual"]["max_displacement"])
    factual_moves = [
        np.linalg.norm(_positions(o, "factual") - _positions(o, "factual")[0], axis=1).max() for o in struck
    ]
    still = [
        np.linalg.norm(_positions(o, "counterfactual") - _positions(o, "counterfactual")[0], axis=1).max()
        for o in struck
    ]
    assert max(factual_moves) > 0.03
    assert max(still) < 0.005
    # the 2D tracks show it too: the first struck object's centroid moves in the factual video only
    first = struck[0]
    centroids = [e["centroid"] for e in first["tracks"]["counterfactual"] if e["centroid"] is not None]
    assert np.ptp(np.array(centroids), axis=0).max() < 1.5


def test_shadow_scene_casts_its_shadow_on_the_floor_and_on_another_object(tiny_suite):
    folder = tiny_suite["shadow"]
    meta = json.loads((folder / "meta.json").read_text())
    assert [obj["role"] for obj in meta["objects"]].count("affected") == 0
    shadow = read_video(folder / "shadow_mask.mp4")[..., 0] > 127
    ids = decode_segmentation(read_video(folder / "segmentation_factual.mp4"))
    removed = next(obj["id"] for obj in meta["objects"] if obj["role"] == "removed")
    on_objects = shadow & (ids >= 0) & (ids != removed)
    on_floor = shadow & (ids < 0)
    assert on_objects.sum() >= 10 and on_floor.sum() >= 50
    assert meta["shadow"]["pixels"] == int(shadow.sum())
