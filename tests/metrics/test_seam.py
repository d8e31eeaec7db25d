"""Seam score: a direct computation, a visible seam vs a seamless fill, chunking and merging."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.metrics._scenes import smooth_texture
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.seam import SeamAccumulator, seam_line, seam_score
from void_eval.quadmask import Quadmask


@pytest.fixture
def clip():
    wall = smooth_texture(64, 80, seed=2)
    video = np.repeat(wall[None], 4, axis=0)
    levels = np.full((4, 64, 80), 255, np.uint8)
    for t in range(4):
        levels[t, 20:40, 10 + 5 * t : 30 + 5 * t] = 0
    return video, Quadmask(levels)


def test_seam_line_is_the_one_pixel_ring() -> None:
    region = np.zeros((8, 8), bool)
    region[2:6, 2:6] = True
    ring = seam_line(region)
    inner_outer = np.zeros((8, 8), bool)
    inner_outer[1:7, 1:7] = True
    inner_outer[3:5, 3:5] = False
    np.testing.assert_array_equal(ring, inner_outer)


def test_matches_direct_computation(clip) -> None:
    video, mask = clip
    output = video.copy()
    output[mask.region("remove_any")] = 200
    seam_sum = seam_count = keep_sum = keep_count = 0.0
    keep = mask.region("keep") & ~mask.region("boundary")
    for t in range(4):
        # BT.601 luma rounded to 8 bits (OpenCV's fixed-point cvtColor may differ by one level on a few pixels)
        grey = np.round(output[t].astype(np.float64) @ np.array([0.299, 0.587, 0.114]))
        gx = cv2.Sobel(grey, cv2.CV_64F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_64F, 0, 1, ksize=3)
        gradient = np.hypot(gx, gy)
        line = seam_line(mask.region("remove_any")[t])
        seam_sum += gradient[line].sum()
        seam_count += line.sum()
        keep_sum += gradient[keep[t]].sum()
        keep_count += keep[t].sum()
    value = seam_score(output, mask)
    assert value.value == pytest.approx((seam_sum / seam_count) / (keep_sum / keep_count), rel=2e-3)


def test_visible_seam_scores_higher_than_seamless_fill(clip) -> None:
    video, mask = clip
    seamless = seam_score(video, mask).value
    patched = video.copy()
    patched[mask.region("remove_any")] = 0
    assert 0.5 < seamless < 1.6
    assert seam_score(patched, mask).value > 3 * seamless


def test_nan_without_remove_region(clip) -> None:
    video, _ = clip
    value = seam_score(video, Quadmask(np.full(video.shape[:3], 255, np.uint8)))
    assert np.isnan(value.value) and "no edge" in value.note


def test_chunked_and_merged_equal_one_shot(clip) -> None:
    video, mask = clip
    expected = seam_score(video, mask)
    first, second = SeamAccumulator(), SeamAccumulator()
    first.update(ScoreChunk(0, video[:1], video[:1], mask[:1]))
    first.update(ScoreChunk(1, video[1:2], video[1:2], mask[1:2]))
    second.update(ScoreChunk(2, video[2:], video[2:], mask[2:]))
    first.merge(second)
    assert first.compute()["boundary"].value == pytest.approx(expected.value, rel=1e-12)
