"""Pass 2's warped noise: Gaussian per frame, follows the motion, lines up with any padded length."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from void_eval.clip import Clip
from void_eval.void.warped_noise import transport_noise, warped_noise


def _shift_flow(dx):
    return lambda a, b: np.tile(np.array([dx, 0.0], np.float32), (*a.shape[:2], 1))


def test_one_latent_frame_per_four_frames_for_long_clips_too():
    for length, latents in ((21, 6), (85, 22), (197, 50)):
        frames = np.zeros((length, 16, 16, 3), np.uint8)
        noise = warped_noise(frames, latent_size=(2, 2), channels=1, upscale=1, seed=0, flow=_shift_flow(0.0))
        assert noise.shape == (latents, 1, 2, 2)
    with pytest.raises(ValueError, match="4k\\+1"):
        warped_noise(np.zeros((20, 16, 16, 3), np.uint8), latent_size=(2, 2))


def test_every_frame_stays_standard_normal_under_real_motion(bigben_tiny):
    frames = np.concatenate(list(Clip.load(bigben_tiny).iter_frames(16)))[:9]
    noise = warped_noise(frames, latent_size=(16, 24), channels=8, upscale=4, seed=3)
    for frame in noise:
        values = frame.ravel()
        assert abs(values.mean()) < 0.08 and abs(values.std() - 1) < 0.06
        assert stats.kstest(values, "norm").pvalue > 1e-4


def test_constant_motion_moves_the_noise_and_zero_motion_keeps_it():
    frames = np.zeros((5, 32, 64, 3), np.uint8)
    moved = warped_noise(frames, latent_size=(4, 16), channels=2, upscale=2, seed=1, flow=_shift_flow(2.0))
    # 2 fine px per frame = 1 latent cell per frame: latent frame 1 (video frame 4) is frame 0 shifted by 4 cells
    np.testing.assert_allclose(moved[1][..., 4:], moved[0][..., :-4], rtol=1e-5, atol=1e-6)
    still = warped_noise(frames, latent_size=(4, 16), channels=2, upscale=2, seed=1, flow=_shift_flow(0.0))
    np.testing.assert_allclose(still[1], still[0], rtol=1e-5, atol=1e-6)


def test_collisions_are_normalised_and_holes_get_fresh_noise():
    rng = np.random.default_rng(0)
    noise = np.ones((1, 1, 4), np.float32)
    flow = np.zeros((1, 4, 2), np.float32)
    flow[0, 1, 0] = -1.0  # cells 0 and 1 both land on 0; cell 1 becomes a hole
    out = transport_noise(noise, flow, rng)
    assert out[0, 0, 0] == pytest.approx(2 / np.sqrt(2))
    assert out[0, 0, 2] == 1 and out[0, 0, 3] == 1 and out[0, 0, 1] != 1


def test_dis_flow_correlates_consecutive_noise_on_real_footage(bigben_tiny):
    frames = np.concatenate(list(Clip.load(bigben_tiny).iter_frames(16)))[:9]
    noise = warped_noise(frames, latent_size=(8, 12), channels=4, upscale=4, seed=5)
    warped_corr = np.corrcoef(noise[0].ravel(), noise[1].ravel())[0, 1]
    assert warped_corr > 0.5  # mostly static shot: the noise follows the scene
    gone = warped_noise(frames, latent_size=(8, 12), channels=4, upscale=4, seed=5, flow=_shift_flow(1e4))
    assert abs(np.corrcoef(gone[0].ravel(), gone[1].ravel())[0, 1]) < 0.15  # all holes: fresh noise
