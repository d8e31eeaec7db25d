"""Physics metrics with known truth: cf_score, motion IoU, trajectory error, shadow residual."""

from __future__ import annotations

import numpy as np
import pytest

from tests.metrics._scenes import GREEN, physics_scene
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.cf_score import CfScoreAccumulator, cf_score
from void_eval.metrics.motion_iou import MotionIouAccumulator, MotionMasker, motion_iou
from void_eval.metrics.shadow import ShadowResidualAccumulator, shadow_residual
from void_eval.metrics.trajectory import TrajectoryAccumulator, colour_centroid, trajectory_error
from void_eval.quadmask import Quadmask

OBJECTS = [{"id": 1, "role": "removed", "color": [220, 30, 30]}, {"id": 2, "role": "affected", "color": list(GREEN)}]


@pytest.fixture(scope="module")
def scene():
    arrays = physics_scene(frames=12)
    arrays["mask"] = Quadmask.from_counterfactual(arrays["factual"], arrays["counterfactual"], arrays["removed"])
    return arrays


def chunks(scene, output, size, start=0, stop=None):
    stop = len(output) if stop is None else stop
    for first in range(start, stop, size):
        last = min(first + size, stop)
        yield ScoreChunk(
            first,
            output[first:last],
            scene["factual"][first:last],
            scene["mask"][first:last],
            scene["counterfactual"][first:last],
        )


# -- cf_score -------------------------------------------------------------------------------------------------
def test_cf_score_counterfactual_is_one_input_is_zero(scene) -> None:
    args = (scene["factual"], scene["counterfactual"], scene["mask"])
    assert cf_score(scene["counterfactual"], *args).value == 1.0
    assert cf_score(scene["factual"], *args).value == 0.0


def test_cf_score_matches_direct_formula_on_a_blend(scene) -> None:
    blend = (0.3 * scene["factual"] + 0.7 * scene["counterfactual"]).round().astype(np.uint8)
    affected = scene["mask"].region("affected_any")
    scores = []

    def d(a, b, t):
        return ((a[t][affected[t]].astype(float) - b[t][affected[t]].astype(float)) ** 2).mean()

    for t in range(12):
        if affected[t].any() and d(scene["factual"], scene["counterfactual"], t) >= 9:
            to_input, to_cf = d(blend, scene["factual"], t), d(blend, scene["counterfactual"], t)
            scores.append(to_input / (to_input + to_cf))
    value = cf_score(blend, scene["factual"], scene["counterfactual"], scene["mask"])
    assert value.value == pytest.approx(np.mean(scores), abs=1e-12)
    assert value.count == len(scores)
    # 0.3 of the way from cf back to input: d(out,in) = 0.49 D, d(out,cf) = 0.09 D -> about 0.845
    assert value.value == pytest.approx(0.49 / 0.58, abs=0.02)


def test_cf_score_nan_when_nothing_differs(scene) -> None:
    value = cf_score(scene["factual"], scene["factual"], scene["factual"], scene["mask"])
    assert np.isnan(value.value) and "no frame qualifies" in value.note


def test_cf_score_chunked_and_merged(scene) -> None:
    output = scene["counterfactual"].copy()
    output[5:] = scene["factual"][5:]
    expected = cf_score(output, scene["factual"], scene["counterfactual"], scene["mask"])
    chunked = CfScoreAccumulator()
    for chunk in chunks(scene, output, 5):
        chunked.update(chunk)
    assert chunked.compute()["affected"] == expected
    first, second = CfScoreAccumulator(), CfScoreAccumulator()
    for chunk in chunks(scene, output, 4, 0, 6):
        first.update(chunk)
    for chunk in chunks(scene, output, 4, 6, 12):
        second.update(chunk)
    first.merge(second)
    assert first.compute()["affected"] == expected


# -- motion IoU -----------------------------------------------------------------------------------------------
def test_motion_masker_follows_physics_iq_recipe() -> None:
    import cv2

    frames = np.zeros((4, 40, 40, 3), np.uint8)
    for t in range(4):
        frames[t, 10:25, 5 + 5 * t : 20 + 5 * t] = 180
    masker = MotionMasker()
    assert masker(frames[0]) is None
    background = cv2.GaussianBlur(cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY), (5, 5), 0).astype(np.float64)
    for t in range(1, 4):
        grey = cv2.GaussianBlur(cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY), (5, 5), 0).astype(np.float64)
        background = 0.7 * background + 0.3 * grey
        raw = (np.abs(grey - np.clip(np.round(background), 0, 255)) > 10).astype(np.uint8)
        kernel = np.ones((5, 5), np.uint8)
        expected = cv2.morphologyEx(cv2.morphologyEx(raw, cv2.MORPH_OPEN, kernel), cv2.MORPH_CLOSE, kernel)
        got = masker(frames[t])
        assert (got != expected.astype(bool)).mean() < 0.002  # float32 vs float64 rounding at the threshold
        assert got.any()


def test_motion_iou_identical_is_one_and_frozen_object_is_low(scene) -> None:
    same = motion_iou(scene["counterfactual"], scene["counterfactual"], scene["mask"])
    assert all(value.value == 1.0 for value in same.values())
    left = motion_iou(scene["factual"], scene["counterfactual"], scene["mask"])
    assert left["motion_iou"].value == 0.0 and left["motion_iou_weighted"].value == 0.0
    assert left["motion_iou_st"].value < 0.5


def test_motion_iou_chunked_equals_one_shot_and_halves_refuse_to_merge(scene) -> None:
    output = scene["factual"]
    expected = MotionIouAccumulator()
    expected.update(next(chunks(scene, output, 12)))
    for size in (1, 5):
        accumulator = MotionIouAccumulator()
        for chunk in chunks(scene, output, size):
            accumulator.update(chunk)
        assert accumulator.compute_metrics() == expected.compute_metrics()
    first, second = MotionIouAccumulator(), MotionIouAccumulator()
    first.update(next(chunks(scene, output, 6, 0, 6)))
    second.update(next(chunks(scene, output, 6, 6, 12)))
    with pytest.raises(ValueError, match="running average"):
        first.merge(second)


def test_motion_iou_merge_of_two_clips_pools_sums(scene) -> None:
    a, b = MotionIouAccumulator(), MotionIouAccumulator()
    a.update(next(chunks(scene, scene["counterfactual"], 12)))
    b.update(next(chunks(scene, scene["factual"], 12)))
    st_a, st_b = a.compute_metrics()["motion_iou_st"]["affected"], b.compute_metrics()["motion_iou_st"]["affected"]
    b.start, b.end = 100, 112  # another clip's frame range
    a.merge(b)
    merged = a.compute_metrics()["motion_iou_st"]["affected"]
    assert merged.value == pytest.approx(
        (st_a.value * st_a.count + st_b.value * st_b.count) / (st_a.count + st_b.count)
    )


# -- trajectory -----------------------------------------------------------------------------------------------
def test_colour_centroid_survives_shading() -> None:
    frame = np.zeros((30, 30, 3), np.uint8)
    frame[5:15, 5:15] = GREEN
    frame[5:15, 15:25] = (np.array(GREEN) * 0.5).astype(np.uint8)  # a shaded face of the same object
    assert colour_centroid(frame, GREEN) == pytest.approx((14.5, 9.5, 200))
    assert colour_centroid(np.zeros_like(frame), GREEN) is None


def test_trajectory_error_known_displacement(scene) -> None:
    # the factual green block is pushed: its distance to the still counterfactual block is known per frame
    value = trajectory_error(scene["factual"], scene["counterfactual"], OBJECTS)
    expected = []
    for t in range(12):
        found = np.nonzero((scene["factual"][t] == GREEN).all(axis=-1))[1].mean()
        reference = np.nonzero((scene["counterfactual"][t] == GREEN).all(axis=-1))[1].mean()
        expected.append(abs(found - reference))
    assert value.value == pytest.approx(np.mean(expected), abs=1e-9)
    assert value.value > 3
    assert trajectory_error(scene["counterfactual"], scene["counterfactual"], OBJECTS).value == 0.0


def test_trajectory_lost_object_and_no_objects(scene) -> None:
    erased = scene["counterfactual"].copy()
    erased[(erased == GREEN).all(axis=-1)] = 128
    value = trajectory_error(erased, scene["counterfactual"], OBJECTS)
    assert np.isnan(value.value) and "12 object-frames lost" in value.note
    none = trajectory_error(scene["factual"], scene["counterfactual"], OBJECTS[:1])
    assert np.isnan(none.value) and "no affected object" in none.note


def test_trajectory_chunked_and_merged(scene) -> None:
    expected = trajectory_error(scene["factual"], scene["counterfactual"], OBJECTS)
    first, second = TrajectoryAccumulator(OBJECTS), TrajectoryAccumulator(OBJECTS)
    for chunk in chunks(scene, scene["factual"], 5, 0, 7):
        first.update(chunk)
    for chunk in chunks(scene, scene["factual"], 5, 7, 12):
        second.update(chunk)
    first.merge(second)
    assert first.compute()["affected"].value == pytest.approx(expected.value, abs=1e-12)


# -- shadow ---------------------------------------------------------------------------------------------------
def test_shadow_residual_endpoints_and_half(scene) -> None:
    args = (scene["factual"], scene["counterfactual"], scene["shadow"])
    assert shadow_residual(scene["counterfactual"], *args).value == 0.0
    assert shadow_residual(scene["factual"], *args).value == pytest.approx(1.0)
    half = ((scene["factual"].astype(float) + scene["counterfactual"]) / 2).astype(np.uint8)
    assert shadow_residual(half, *args).value == pytest.approx(0.5, abs=0.01)


def test_shadow_residual_is_a_magnitude_with_the_direction_in_the_note() -> None:
    counterfactual = np.full((2, 8, 8, 3), 150, np.uint8)
    factual = counterfactual.copy()
    factual[:, :4] = 100  # a shadow 50 luma levels deep on the top half
    shadow = np.zeros((2, 8, 8), bool)
    shadow[:, :4] = True

    def residual(level: int):
        output = counterfactual.copy()
        output[:, :4] = level
        return shadow_residual(output, factual, counterfactual, shadow)

    perfect, over, far_over, half_left, darker = (
        residual(150),
        residual(175),
        residual(250),
        residual(125),
        residual(50),
    )
    assert perfect.value == 0.0 and "as bright as the counterfactual" in perfect.note
    # an over-brightened output must not rank above a perfect one (lower is better)
    assert over.value == pytest.approx(0.5) and "over-brightened" in over.note
    assert far_over.value == pytest.approx(2.0) and "over-brightened" in far_over.note
    assert half_left.value == pytest.approx(0.5) and "under-brightened" in half_left.note
    assert "than the input" not in half_left.note
    assert darker.value == pytest.approx(2.0) and "darker than the counterfactual and than the input" in darker.note
    assert all(value.value >= 0 for value in (perfect, over, far_over, half_left, darker))
    from void_eval.metrics.registry import get_spec

    assert get_spec("shadow_residual").value_range == (0.0, float("inf"))


def test_shadow_residual_reads_the_mask_video_in_chunks(tmp_path, scene) -> None:
    from void_eval.video import write_video

    path = tmp_path / "shadow_mask.mp4"
    write_video(path, (scene["shadow"] * 255).astype(np.uint8), 12, kind="lossless")
    expected = shadow_residual(scene["factual"], scene["factual"], scene["counterfactual"], scene["shadow"])
    first, second = ShadowResidualAccumulator(path), ShadowResidualAccumulator(path)
    for chunk in chunks(scene, scene["factual"], 4, 0, 8):
        first.update(chunk)
    for chunk in chunks(scene, scene["factual"], 4, 8, 12):
        second.update(chunk)
    first.merge(second)
    assert first.compute()["affected"].value == pytest.approx(expected.value, abs=1e-12)
    missing = ShadowResidualAccumulator(None)
    missing.update(next(chunks(scene, scene["factual"], 12)))
    assert np.isnan(missing.compute()["affected"].value) and "no shadow mask" in missing.compute()["affected"].note
