"""Pass 2's noise along upstream's path: frame stretch, 480x720 canvas, linspace pick, bilinear 60x90 -> 48x84.

The expected values are written from upstream's code independently of ``void_eval.void.pass2_noise``:
``rp.resize_list`` (``round(i * (n - 1) / (m - 1))``), ``rp.resize_images_to_hold`` + centre crop,
``np.linspace(0, 71, 22).astype(int)`` and ``cv2.resize(..., INTER_LINEAR)`` per channel.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import stats

from void_eval.clip import Clip
from void_eval.metrics.flow import get_flow_provider
from void_eval.void.padding import pad_frames
from void_eval.void.pass2_noise import (
    canvas_frame,
    expected_resize_std,
    noise_frame_count,
    pick_indices,
    resize_noise_bilinear,
    stretch_indices,
    upstream_warped_noise,
)


class _ShiftFlow:
    """A flow provider that knows the truth: every pixel moves ``dx`` to the right per frame."""

    name = "known-shift"

    def __init__(self, dx: float) -> None:
        self.dx = dx

    def flow(self, first, second):
        flow = np.zeros((*first.shape[:2], 2), np.float32)
        flow[..., 0] = self.dx
        return flow


def test_index_maths_is_upstreams():
    assert stretch_indices(85, 72) == [round(i * 84 / 71) for i in range(72)]
    assert stretch_indices(85, 72)[-1] == 84 and len(set(stretch_indices(85, 72))) == 72
    assert pick_indices(72, 22) == [int(x) for x in np.linspace(0, 71, 22)]
    assert pick_indices(72, 22)[:4] == [0, 3, 6, 10] and pick_indices(72, 22)[-1] == 71
    assert [noise_frame_count(n) for n in (21, 85, 93, 197)] == [18, 72, 79, 167]


def test_canvas_is_a_hold_resize_then_a_centre_crop():
    """384x672 -> 480x840 (x1.25, bilinear), columns 60..779; a shrinking frame uses area."""
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (384, 672, 3), dtype=np.uint8)
    expected = cv2.resize(frame, (840, 480), interpolation=cv2.INTER_LINEAR)[:, 60:780]
    np.testing.assert_array_equal(canvas_frame(frame), expected)
    big = rng.integers(0, 256, (960, 1280, 3), dtype=np.uint8)  # x0.5625 (720 wide), 540x720, rows 30..509
    scale = max(480 / 960, 720 / 1280)
    size = (int(np.ceil(1280 * scale)), int(np.ceil(960 * scale)))
    held = cv2.resize(big, size, interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(canvas_frame(big), held[30:510, :720])


def test_bilinear_resize_is_per_channel_opencv_and_leaves_std_near_066():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((16, 60, 90)).astype(np.float32)
    expected = np.stack([cv2.resize(c, (84, 48), interpolation=cv2.INTER_LINEAR) for c in noise])
    np.testing.assert_array_equal(resize_noise_bilinear(noise, (48, 84)), expected)
    many = resize_noise_bilinear(rng.standard_normal((400, 60, 90)).astype(np.float32), (48, 84))
    assert abs(float(many.std()) - expected_resize_std()) < 0.005
    assert 0.65 < expected_resize_std() < 0.67


@pytest.fixture(scope="module")
def bigben_85(samples_root):
    """BigBen's first 30 frames at the working size 384x672, padded to 85 as VOID pads them."""
    frames = np.concatenate(list(Clip.load(samples_root / "BigBen").iter_frames(30)))[:30]
    frames = np.stack([cv2.resize(f, (672, 384), interpolation=cv2.INTER_AREA) for f in frames])
    return pad_frames(frames, 85)


def test_upstream_geometry_end_to_end_on_real_footage(bigben_85):
    """The exact upstream path (480x720 canvas, 72 frames, 22 picks, 48x84), one channel, warp grid x2."""
    warped = upstream_warped_noise(bigben_85, latent_size=(48, 84), channels=1, flow=get_flow_provider("dis"),
                                   warp_scale=2)  # fmt: skip
    record = warped.record
    assert warped.latents.shape == (22, 1, 48, 84) and warped.latents.dtype == np.float32
    assert record["noise_frames"] == 72 and record["picked"] == pick_indices(72, 22)
    assert record["canvas"] == [480, 720] and record["flow_size"] == [240, 360] and record["warp_grid"] == [480, 720]
    assert record["flow"] == "dis-medium" and record["beyond_upstream"] is False
    # no renormalisation after the resize: every frame's std sits near 0.66, not 1
    for frame in warped.latents:
        assert abs(float(frame.std()) - expected_resize_std()) < 0.04 and abs(float(frame.mean())) < 0.08
    assert abs(record["std"] - expected_resize_std()) < 0.02


def test_pooled_noise_is_standard_normal_and_float16_valued(bigben_85):
    """Before the resize (latent grid = pooled grid, no resize): N(0, 1) per frame, values float16-exact."""
    short = bigben_85[:21]
    warped = upstream_warped_noise(short, latent_size=(8, 12), channels=8, flow=get_flow_provider("dis"),
                                   warp_scale=2, canvas=(64, 96))  # fmt: skip
    assert warped.latents.shape == (6, 8, 8, 12) and warped.record["beyond_upstream"] is True
    np.testing.assert_array_equal(warped.latents, warped.latents.astype(np.float16).astype(np.float32))
    for frame in warped.latents:
        assert abs(float(frame.std()) - 1) < 0.12 and stats.kstest(frame.ravel(), "norm").pvalue > 1e-3


@pytest.mark.parametrize("length", [21, 45, 85])
def test_one_latent_frame_per_four_frames_up_to_85(length):
    frames = np.zeros((length, 32, 48, 3), np.uint8)
    warped = upstream_warped_noise(frames, latent_size=(4, 6), channels=3, flow=_ShiftFlow(0.0), warp_scale=2,
                                   canvas=(32, 48))  # fmt: skip
    assert warped.latents.shape == ((length - 1) // 4 + 1, 3, 4, 6)
    assert len(warped.record["picked"]) == (length - 1) // 4 + 1


def test_noise_moves_with_a_known_translation():
    """Content moving 8 px per frame on the 64x96 canvas (4 px at the 32x48 flow grid, 16 cells on the x4 warp
    grid = 1 pooled cell): consecutive picks are the same noise shifted by the frames between them."""
    frames = np.zeros((21, 64, 96, 3), np.uint8)  # 21 frames -> 18 noise frames, picks 0 3 6 10 13 17
    warped = upstream_warped_noise(frames, latent_size=(8, 12), channels=4, flow=_ShiftFlow(4.0), warp_scale=4,
                                   canvas=(64, 96))  # fmt: skip
    picks = warped.record["picked"]
    for j in range(len(picks) - 1):
        gap = picks[j + 1] - picks[j]
        before, after = warped.latents[j], warped.latents[j + 1]
        moved = np.corrcoef(after[..., gap:-1].ravel(), before[..., : -gap - 1].ravel())[0, 1]
        still = np.corrcoef(after.ravel(), before.ravel())[0, 1]
        assert moved > 0.99 and abs(still) < 0.3
    static = upstream_warped_noise(frames, latent_size=(8, 12), channels=4, flow=_ShiftFlow(0.0), warp_scale=4,
                                   canvas=(64, 96))  # fmt: skip
    # no motion: the noise stays, except where unrelated cells held equal float32 values (upstream's value
    # grouping splits such ties as one group: a few per step, each re-drawn)
    first, last = static.latents[0], static.latents[-1]
    assert np.mean(np.abs(first - last) < 2e-3) > 0.85
    assert np.corrcoef(first.ravel(), last.ravel())[0, 1] > 0.95


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="4k\\+1"):
        upstream_warped_noise(np.zeros((20, 16, 16, 3), np.uint8), latent_size=(2, 2), channels=1, flow=None)
    with pytest.raises(ValueError, match="even"):
        upstream_warped_noise(np.zeros((21, 16, 16, 3), np.uint8), latent_size=(2, 2), channels=1, flow=None,
                              warp_scale=3)  # fmt: skip
    with pytest.raises(ValueError, match="multiples of 8"):
        upstream_warped_noise(np.zeros((21, 16, 16, 3), np.uint8), latent_size=(2, 2), channels=1, flow=None,
                              canvas=(20, 30))  # fmt: skip
