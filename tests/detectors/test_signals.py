"""The weight-free signals against known truths: simulated noise, planted grids, copied noise, and pywt."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from forensics.detectors.blocks import (
    BlockGrid,
    block_reduce,
    expand_block_map,
    relative_to_frame,
    relative_to_neighbours,
)
from forensics.detectors.flicker import FlickerHistory, region_flicker
from forensics.detectors.noise import block_noise_sigma, haar_hh1, noise_inconsistency
from forensics.detectors.residual import highpass_residual, residual_block_stats
from forensics.detectors.spectral import block_grid_energy, frame_grid_period, temporal_periodicity
from forensics.detectors.temporal import dis_flow, temporal_block_stats, warp_previous


def test_haar_hh1_matches_pywt():
    image = np.random.default_rng(0).normal(100, 20, (32, 48)).astype(np.float32)
    expected = pywt.dwt2(image.astype(np.float64), "haar")[1][2]
    np.testing.assert_allclose(haar_hh1(image), expected, atol=1e-3)


@pytest.mark.parametrize("sigma", [1.0, 3.0, 8.0])
def test_block_noise_sigma_recovers_simulated_noise(sigma):
    rng = np.random.default_rng(1)
    smooth = np.add.outer(np.linspace(40, 200, 128), np.linspace(0, 30, 128)).astype(np.float32)
    estimate = block_noise_sigma(smooth + rng.normal(0, sigma, smooth.shape).astype(np.float32), block=32)
    assert estimate.shape == (4, 4)
    assert np.median(estimate) == pytest.approx(sigma, rel=0.12)


def test_noise_inconsistency_flags_a_smoothed_patch():
    rng = np.random.default_rng(2)
    image = 128 + rng.normal(0, 5, (96, 96)).astype(np.float32)
    image[32:64, 32:64] = 128.0  # a flat fill: no noise
    deviation = noise_inconsistency(block_noise_sigma(image, block=16))
    inside = deviation[2:4, 2:4]
    outside = np.delete(deviation.ravel(), [14, 15, 20, 21])
    assert inside.max() < -2.0 < outside.min() + 2.0
    assert abs(np.median(outside)) < 0.2


def test_residual_stats_gaussian_kurtosis_and_energy():
    rng = np.random.default_rng(3)
    image = 128 + rng.normal(0, 4, (128, 128)).astype(np.float32)
    stats = residual_block_stats(image, block=32)
    # SRM square kernel: response variance = 2.25 sigma^2 for white noise.
    assert np.exp(np.median(stats.log_energy)) == pytest.approx(2.25 * 16, rel=0.15)
    assert np.expm1(np.median(stats.kurtosis)) == pytest.approx(3.0, abs=0.5)
    assert highpass_residual(np.full((8, 8), 7.0, np.float32)).max() == pytest.approx(0.0, abs=1e-5)


def test_block_grid_energy_detects_period_8_pattern_only_where_planted():
    rng = np.random.default_rng(4)
    residual = rng.normal(0, 2, (64, 128)).astype(np.float32)
    pattern = np.tile(np.array([1.9, 0.1, 1, 1, 1.5, 1, 1, 0.5], np.float32), 8)  # residual energy modulated by a grid
    residual[:, 64:] *= pattern[None, :].repeat(64, 0)[:, :64]
    period, strength = frame_grid_period(residual)
    assert min(abs(period - 8.0), abs(period - 4.0)) < 0.25 and strength > 10  # the grid or its 2nd harmonic
    energy = block_grid_energy(residual, block=32, period=period)
    assert energy[:, 2:].min() > energy[:, :2].max() + 1.0
    assert abs(float(np.median(energy[:, :2]))) < 1.0  # about 0 for pure noise
    assert frame_grid_period(rng.normal(0, 2, (64, 128)).astype(np.float32))[1] < 8


@pytest.mark.parametrize("scale", [0.75, 1.25, 1.5])
def test_grid_period_is_found_after_a_resize(scale):
    # an 8-px decoder grid in a frame resized by `scale` repeats every 8 * scale px: the search finds it there
    import cv2

    rng = np.random.default_rng(9)
    height, width = 192, 256
    cell = np.array([2.0, -2.0, 0, 0, 1.0, 0, 0, -1.0], np.float32)
    grid = 2.0 * np.outer(np.tile(cell, height // 8), np.tile(cell, width // 8))  # a 2-D (decoder-like) grid
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(grid, (round(width * scale), round(height * scale)), interpolation=interpolation)
    frame = resized + rng.normal(0, 2, resized.shape).astype(np.float32)
    period, _ = frame_grid_period(highpass_residual(frame))
    assert period == pytest.approx(8 * scale, rel=0.04) or period == pytest.approx(4 * scale, rel=0.04)
    fixed = block_grid_energy(highpass_residual(frame), block=32, period=8.0)
    searched = block_grid_energy(highpass_residual(frame), block=32, period=period)
    assert np.median(searched) > 1.0  # the grid, whatever its period now
    assert np.median(searched) > np.median(fixed) + 0.4  # a fixed period-8 probe catches less of it


def test_temporal_periodicity_finds_any_period():
    t = np.arange(8)
    noise = 0.05 * np.random.default_rng(5).normal(size=(8, 3))
    random = np.random.default_rng(6).normal(size=(8, 500))
    for period in (4.0, 8.0, 2.0, 8 / 3):
        assert temporal_periodicity(np.cos(2 * np.pi * t / period)[:, None] + noise).min() > 0.9
    assert np.median(temporal_periodicity(random)) < 0.55
    with pytest.raises(ValueError, match=">= 4"):
        temporal_periodicity(random[:3])


def test_dis_flow_and_warp_recover_a_shift():
    rng = np.random.default_rng(7)
    base = cv2_blur(rng.uniform(0, 255, (96, 128)).astype(np.float32))
    shifted = np.roll(base, 3, axis=1)  # content moves right by 3 px
    flow = dis_flow(shifted, base, scale=1.0, preset="medium")
    assert np.median(flow[20:-20, 20:-20, 0]) == pytest.approx(-3.0, abs=0.3)
    warped = warp_previous(base, flow)
    assert np.abs(warped - shifted)[20:-20, 20:-20].mean() < 2.0


def cv2_blur(image):
    import cv2

    return cv2.GaussianBlur(image, (0, 0), 2.0)


def test_temporal_stats_separate_copied_from_fresh_noise():
    rng = np.random.default_rng(8)
    scene = cv2_blur(rng.uniform(0, 255, (64, 64)).astype(np.float32))
    previous = scene + rng.normal(0, 3, scene.shape).astype(np.float32)
    current = scene + rng.normal(0, 3, scene.shape).astype(np.float32)
    current[:32, :32] = previous[:32, :32]  # a fill that copied the previous frame's noise
    stats = temporal_block_stats(current, previous, block=16)
    copied, fresh = stats.log_energy_ratio[:2, :2], stats.log_energy_ratio[2:, 2:]
    assert copied.max() < -3 and fresh.min() > 0.3
    assert stats.correlation[:2, :2].min() > 0.95 > 0.3 > np.abs(stats.correlation[2:, 2:]).max()


def test_flicker_history_and_region_flicker():
    history = FlickerHistory(window=8)
    for step in range(8):
        changes = np.zeros((4, 4), np.float32)
        changes[0, 0] = 3.0 if step % 2 else -3.0
        result = history.update(changes)
    assert result.spread[0, 0] > 2.5 and result.spread[1:, 1:].max() == 0.0
    differences = np.zeros((2, 4, 4))
    differences[:, :2, :2] = 5.0
    region = np.zeros((2, 4, 4), bool)
    region[:, :2, :2] = True
    assert region_flicker(differences, region) == (5.0, 0.0)
    with pytest.raises(ValueError, match="shapes"):
        region_flicker(differences, region[:1])


def test_block_helpers():
    grid = BlockGrid(50, 70, 16)
    assert grid.shape == (3, 4) and grid.covered == (48, 64)
    with pytest.raises(ValueError):
        BlockGrid(10, 70, 16)
    image = np.arange(32 * 32, dtype=np.float32).reshape(32, 32)
    np.testing.assert_allclose(block_reduce(image, 16, "mean")[0, 0], image[:16, :16].mean())
    np.testing.assert_allclose(block_reduce(image, 16, "median")[1, 1], np.median(image[16:, 16:]))
    expanded = expand_block_map(np.array([[0.0, 1.0]], np.float32), 20, 40, 16)
    assert expanded.shape == (20, 40) and expanded[:, 36:].min() == 1.0 and expanded[:, :8].max() == 0.0
    values = np.array([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]], np.float32)
    assert relative_to_frame(values)[1, 1] == 4.0
    assert relative_to_neighbours(values, radius=1)[1, 1] == pytest.approx(4.0)


def test_motion_track_follows_a_moving_blob_and_thins_flicker():
    from forensics.detectors.tracking import MotionTrack, block_flow, carry_along_flow, flow_deviation

    # A blob of value 1 moving right by one 16-px block per frame: the flow from each frame back to the previous
    # one is -16 px in x, so the tracked average keeps the blob at 1 where it is now.
    track = MotionTrack(decay=0.75)
    flow = np.zeros((6, 8, 2), np.float32)
    flow[..., 0] = -16.0
    for step in range(5):
        values = np.zeros((6, 8, 1), np.float32)
        values[2:4, 1 + step] = 1.0
        out = track.update(values, None if step == 0 else flow, block=16)
    assert out[2:4, 5, 0].min() == pytest.approx(1.0, abs=1e-5) and out[2:4, :4, 0].max() < 0.3
    # Flicker (a block that is 1 on every other frame, camera still) averages towards 1/2.
    flicker = MotionTrack(decay=0.75)
    still = np.zeros((6, 8, 2), np.float32)
    for step in range(40):
        out = flicker.update(np.full((6, 8, 1), float(step % 2), np.float32), still, block=16)
    assert 0.35 < out[0, 0, 0] < 0.65
    # NaN values add no weight; a first frame of NaN stays NaN.
    fresh = MotionTrack(decay=0.5)
    assert np.isnan(fresh.update(np.full((2, 2, 1), np.nan, np.float32), None, block=16)).all()
    assert fresh.update(np.full((2, 2, 1), 3.0, np.float32), still[:2, :2], block=16)[0, 0, 0] == pytest.approx(3.0)
    # Block flow is the mean pixel flow; carrying a ramp by one block shifts it by one column.
    pixel_flow = np.zeros((32, 64, 2), np.float32)
    pixel_flow[:16, :16, 0] = 4.0
    assert block_flow(pixel_flow, 16)[0, 0, 0] == 4.0 and block_flow(pixel_flow, 16)[1, 1, 0] == 0.0
    ramp = np.tile(np.arange(8, dtype=np.float32), (6, 1))[..., None]
    assert carry_along_flow(ramp, flow * -1, 16)[0, 2, 0] == pytest.approx(3.0)
    deviation = flow_deviation(np.where(np.arange(8)[None, :, None] == 4, 6.0, 0.0).astype(np.float32) + still)
    assert deviation[3, 4] > 1.5 > 0.5 > deviation[3, 0]
    with pytest.raises(ValueError, match="decay"):
        MotionTrack(decay=1.0)


def test_carrying_channels_together_equals_one_at_a_time():
    import cv2

    from forensics.detectors.tracking import carry_along_flow

    rng = np.random.default_rng(10)
    values = rng.normal(size=(9, 11, 13)).astype(np.float32)
    flow = rng.normal(0, 20, (9, 11, 2)).astype(np.float32)
    map_x = (np.arange(11, dtype=np.float32)[None, :] + flow[..., 0] / 16).astype(np.float32)
    map_y = (np.arange(9, dtype=np.float32)[:, None] + flow[..., 1] / 16).astype(np.float32)
    one_by_one = np.stack(
        [
            cv2.remap(
                np.ascontiguousarray(values[..., k]), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            )
            for k in range(13)
        ],
        axis=-1,
    )
    np.testing.assert_array_equal(carry_along_flow(values, flow, 16), one_by_one)


def test_history_sets_a_block_against_what_its_scene_showed_before():
    from forensics.detectors.features import FEATURE_NAMES, HISTORY_SIGNALS, ContextFeatures
    from forensics.detectors.signals import FRAME_SIGNAL_NAMES, SIGNAL_NAMES, FrameSignals
    from forensics.detectors.tracking import MotionTrack

    # The track's `previous` is the average of the frames before the last one, carried along the motion.
    track = MotionTrack(decay=0.5)
    track.update(np.full((4, 6, 1), 2.0, np.float32), None, block=16)
    assert np.isnan(track.previous).all()
    moving = np.zeros((4, 6, 2), np.float32)
    moving[..., 0] = -16.0  # content moved one block to the right since the previous frame
    ramp = np.tile(np.arange(6, dtype=np.float32), (4, 1))[..., None]
    track.update(ramp, None, block=16)  # a cut: the track restarts from this frame
    track.update(np.zeros((4, 6, 1), np.float32), moving, block=16)
    assert track.previous[0, 3, 0] == pytest.approx(2.0) and track.previous[0, 0, 0] == pytest.approx(0.0)

    # A still scene whose noise drops in one block at frame 5 (a fill arriving there): that block's history feature
    # is the drop, every other block's is 0, and the first frame has no history.
    context, still = ContextFeatures(block=16), np.zeros((6, 8, 2), np.float32)
    noise, history = SIGNAL_NAMES.index("noise_log_sigma"), FEATURE_NAMES.index(f"{HISTORY_SIGNALS[0]}_history")
    for index in range(7):
        values = np.ones((6, 8, len(SIGNAL_NAMES)), np.float32)
        if index >= 5:
            values[2, 3, noise] -= 0.8
        frame = np.zeros(len(FRAME_SIGNAL_NAMES), np.float32)
        features = context.update(FrameSignals(index, values, still, frame, index == 0))
        column = features[..., history]
        if index == 0:
            assert np.isnan(column).all()
        elif index == 5:
            assert column[2, 3] == pytest.approx(-0.8) and np.abs(np.delete(column.ravel(), 2 * 8 + 3)).max() < 1e-6
    # A frame later the fill is part of the block's history and the contrast starts to fade.
    assert -0.8 < column[2, 3] < -0.3
