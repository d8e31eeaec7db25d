"""Physics metrics with known truth: cf_score, motion agreement, trajectory error, shadow residual."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.metrics._scenes import GREEN, physics_scene
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.cf_score import CfScoreAccumulator, cf_score
from void_eval.metrics.motion import MotionAgreementAccumulator, motion_agreement
from void_eval.metrics.shadow import ShadowResidualAccumulator, shadow_residual
from void_eval.metrics.trajectory import TrajectoryAccumulator, trajectory_error
from void_eval.quadmask import Quadmask


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


# -- motion agreement -----------------------------------------------------------------------------------------
def _cumulative(video):
    from void_eval.metrics.motion import blurred_grey

    grey = np.stack([blurred_grey(frame) for frame in video]).astype(np.float64)
    return np.cumsum(np.abs(np.diff(grey, axis=0)), axis=0)


def test_motion_agreement_follows_its_formula_and_endpoints(scene) -> None:
    args = (scene["counterfactual"], scene["factual"], scene["mask"])
    assert motion_agreement(scene["counterfactual"], *args).value == 1.0
    assert motion_agreement(scene["factual"], *args).value == 0.0
    half = scene["counterfactual"].copy()
    half[6:] = scene["factual"][6:]
    region = scene["mask"].region("affected_any").any(axis=0)
    out, cf, inp = (_cumulative(video)[:, region] for video in (half, scene["counterfactual"], scene["factual"]))
    e_c, e_i = np.abs(out - cf).sum(), np.abs(out - inp).sum()
    value = motion_agreement(half, *args)
    assert value.value == pytest.approx(e_i / (e_i + e_c), rel=1e-5)
    assert 0 < value.value < 1


def test_motion_agreement_orders_delays_and_ghosts(scene) -> None:
    args = (scene["counterfactual"], scene["factual"], scene["mask"])
    ghost = ((scene["factual"].astype(np.uint16) + scene["counterfactual"]) // 2).astype(np.uint8)
    late = np.concatenate([scene["factual"][:1], scene["factual"][:-1]])  # the input one frame late
    values = [motion_agreement(video, *args).value for video in (ghost, late)]
    assert 0.3 < values[0] < 0.7 and 0 < values[1] < values[0]


def test_motion_agreement_chunked_equals_one_shot_and_halves_refuse_to_merge(scene) -> None:
    output = scene["factual"].copy()
    output[::2] = scene["counterfactual"][::2]
    expected = motion_agreement(output, scene["counterfactual"], scene["factual"], scene["mask"])
    for size in (1, 5):
        accumulator = MotionAgreementAccumulator()
        for chunk in chunks(scene, output, size):
            accumulator.update(chunk)
        assert accumulator.compute()["affected"] == expected
    first, second = MotionAgreementAccumulator(), MotionAgreementAccumulator()
    first.update(next(chunks(scene, output, 6, 0, 6)))
    second.update(next(chunks(scene, output, 6, 6, 12)))
    with pytest.raises(ValueError, match="cumulative motion"):
        first.merge(second)


def test_motion_agreement_merge_of_two_clips_pools_sums(scene) -> None:
    a, b = MotionAgreementAccumulator(), MotionAgreementAccumulator()
    a.update(next(chunks(scene, scene["counterfactual"], 12)))
    b.update(next(chunks(scene, scene["factual"], 12)))
    b.start, b.end = 100, 112  # another clip's frame range
    a.merge(b)
    assert a.compute()["affected"].value == pytest.approx(0.5)  # E_C of one clip equals E_I of the other


# -- trajectory -----------------------------------------------------------------------------------------------
def _objects(scene):
    """The green block's ids in the counterfactual and its tracks in both worlds, as the suite's meta.json has them."""
    tracks = {}
    for world, video in (("factual", scene["factual"]), ("counterfactual", scene["counterfactual"])):
        green = (video == GREEN).all(axis=-1)
        tracks[world] = [{"centroid": [xs.mean(), ys.mean()]} for ys, xs in (np.nonzero(frame) for frame in green)]
    ids = np.where((scene["counterfactual"] == GREEN).all(axis=-1), 2, -1)
    return [{"id": 1, "role": "removed"}, {"id": 2, "role": "affected", "tracks": tracks}], ids


def test_trajectory_error_known_displacement(scene) -> None:
    objects, ids = _objects(scene)
    rows = trajectory_error(scene["factual"], scene["counterfactual"], objects, ids)
    expected = [math.dist(f["centroid"], c["centroid"]) for f, c in zip(*objects[1]["tracks"].values(), strict=True)]
    assert rows["traj_err"].value == pytest.approx(np.mean(expected), abs=0.5)
    assert rows["traj_lost"].value == 0.0
    assert trajectory_error(scene["counterfactual"], scene["counterfactual"], objects, ids)["traj_err"].value < 0.5


def test_trajectory_ghost_is_between_and_a_lost_object_is_counted_in_the_value(scene) -> None:
    objects, ids = _objects(scene)
    full = trajectory_error(scene["factual"], scene["counterfactual"], objects, ids)["traj_err"].value
    ghost = ((scene["factual"].astype(np.uint16) + scene["counterfactual"]) // 2).astype(np.uint8)
    assert 0.3 < trajectory_error(ghost, scene["counterfactual"], objects, ids)["traj_err"].value < full
    erased = scene["counterfactual"].copy()
    erased[(erased == GREEN).all(axis=-1)] = 128
    rows = trajectory_error(erased, scene["counterfactual"], objects, ids)
    assert rows["traj_lost"].value == 1.0 and rows["traj_err"].value >= full
    assert "12 lost" in rows["traj_err"].note
    none = trajectory_error(scene["factual"], scene["counterfactual"], objects[:1], ids)
    assert np.isnan(none["traj_err"].value) and "no affected object" in none["traj_err"].note
    flat = np.full_like(scene["counterfactual"], 128)  # every object looks like its surroundings: nothing to match
    blind = trajectory_error(scene["factual"], flat, objects, ids)
    assert np.isnan(blind["traj_err"].value) and "looks like its surroundings" in blind["traj_err"].note


def test_trajectory_chunked_equals_one_pass_on_a_clip(tmp_path, scene) -> None:
    from void_eval.video import write_video

    objects, ids = _objects(scene)
    path = tmp_path / "segmentation_counterfactual.mp4"
    write_video(path, np.repeat(((ids + 1) * 8).astype(np.uint8)[..., None], 3, axis=-1), 12, kind="lossless")
    expected = trajectory_error(scene["factual"], scene["counterfactual"], objects, ids)
    for size in (5, 12):
        accumulator = TrajectoryAccumulator(objects, path)
        for chunk in chunks(scene, scene["factual"], size):
            accumulator.update(chunk)
        got = accumulator.compute_metrics()
        assert got["traj_err"]["affected"].value == pytest.approx(expected["traj_err"].value, abs=1e-9)


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
    assert darker.value == pytest.approx(2.0) and "darker than the counterfactual" in darker.note
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
