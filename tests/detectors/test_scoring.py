"""Frame and video scores by hand, the video model, and the calibration's false-alarm guarantee."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forensics.detectors.scoring import (
    FLAG_AT,
    Calibration,
    VideoScoreModel,
    fit_calibration,
    frame_scores,
    raw_video_score,
    score_probabilities,
    threshold_for_rate,
    top_share_mean,
    tubes,
    video_features,
)


def test_frame_scores_are_tube_means_not_a_plain_maximum():
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.0, 0.3, (8, 6, 7)).astype(np.float32)
    probabilities[2:6, 1:4, 2:5] = 0.95  # a region that persists for 4 frames
    expected = np.stack([probabilities[max(0, t - 2) : t + 2].mean(axis=0) for t in range(8)])
    np.testing.assert_allclose(tubes(probabilities), expected, atol=1e-6)
    scores = frame_scores(probabilities)
    assert scores[4] == pytest.approx(0.95, abs=1e-5)  # its window, frames 2..5, is all inside the region
    lone = np.zeros((8, 6, 7), np.float32)
    lone[4, 3, 3] = 1.0  # one block, one frame: a flicker, not a region
    assert max(frame_scores(lone)) < 0.1


def test_video_features_by_hand():
    rng = np.random.default_rng(1)
    probabilities = rng.uniform(0.0, 0.3, (8, 6, 7)).astype(np.float32)
    probabilities[2:6, 1:4, 2:5] = 0.95
    features = video_features(probabilities)
    peaks = np.asarray(frame_scores(probabilities))
    medians = np.median(probabilities.reshape(8, -1), axis=1)
    assert features["peak"] == pytest.approx(np.sort(peaks)[::-1][:2].mean())
    assert features["level"] == pytest.approx(medians.mean())
    assert features["contrast"] == pytest.approx(top_share_mean(peaks - medians))
    assert features["spread"] == pytest.approx((probabilities >= 0.5).mean())
    # 2% of the 336 blocks, rounded up: the 7 highest, all inside the 0.95 region
    assert features["top_blocks"] == pytest.approx(0.95)
    probabilities[2:6, 1:4, 2:5] = np.linspace(0.5, 0.99, 36, dtype=np.float32).reshape(4, 3, 3)
    assert video_features(probabilities)["top_blocks"] == pytest.approx(np.sort(probabilities, axis=None)[-7:].mean())
    twice = np.concatenate([probabilities, probabilities])  # a longer video of the same evidence scores the same
    assert video_features(twice)["top_blocks"] == pytest.approx(video_features(probabilities)["top_blocks"])
    assert all(math.isnan(value) for value in video_features(np.zeros((0, 3, 3))).values())
    with pytest.raises(ValueError, match="rows, cols"):
        video_features(np.zeros((3, 3)))


def test_video_score_model_logistic_identity_and_json():
    model = VideoScoreModel(
        features=("peak", "level", "contrast", "spread"), coefficients=(1, -2, 3, 0.5), intercept=-1
    )
    values = {"peak": 0.8, "level": 0.1, "contrast": 0.6, "spread": 0.2}
    logit = -1 + 0.8 - 0.2 + 1.8 + 0.1
    assert model.score(values) == pytest.approx(1 / (1 + math.exp(-logit)))
    assert VideoScoreModel.from_json(model.to_json()).score(values) == model.score(values)
    assert math.isnan(model.score({**values, "peak": math.nan}))
    fixed = VideoScoreModel.summary("contrast")
    assert fixed.score(values) == 0.6 and fixed.score({**values, "contrast": -0.2}) == 0.0
    probabilities = np.full((4, 3, 3), 0.2, np.float32)
    assert raw_video_score(probabilities) == pytest.approx(0.2)  # no model: the peak summary
    assert raw_video_score(probabilities, model.to_json()) == model.score(video_features(probabilities))
    with pytest.raises(ValueError, match="bad video model"):
        VideoScoreModel(features=("peak", "brightness"), coefficients=(1.0, 1.0), intercept=0.0)


@pytest.mark.parametrize("rate", [0.01, 0.03, 0.05, 0.2])
def test_threshold_flags_at_most_the_stated_share(rate):
    rng = np.random.default_rng(2)
    untouched = rng.beta(2, 5, 997)
    threshold = threshold_for_rate(untouched, rate)
    flagged = (untouched >= threshold).mean()
    assert flagged <= rate and flagged > rate - 2 / len(untouched)  # as many as allowed, never more
    ties = np.r_[np.full(50, 0.4), rng.uniform(0, 0.3, 50)]
    assert (ties >= threshold_for_rate(ties, 0.3)).mean() <= 0.3  # a tie at the cut is left below it


def test_calibrated_scale_puts_both_thresholds_at_flag_at():
    rng = np.random.default_rng(3)
    videos, frames = rng.beta(2, 5, 200).tolist(), rng.beta(2, 3, 4000).tolist()
    calibration = fit_calibration(videos, frames, 0.05)
    assert calibration.videos == 200 and calibration.frames == 4000
    assert np.mean([calibration.scale(v, "video") >= FLAG_AT for v in videos]) <= 0.05
    assert np.mean([calibration.scale(f, "frame") >= FLAG_AT for f in frames]) <= 0.05
    raw = np.linspace(0, 1, 101)
    scaled = [calibration.scale(value, "video") for value in raw]
    assert scaled[0] == 0.0 and scaled[-1] == pytest.approx(1.0) and np.all(np.diff(scaled) > 0)  # monotone
    assert Calibration.from_json(calibration.to_json()) == calibration
    with pytest.raises(ValueError, match="untouched"):
        fit_calibration([], frames, 0.05)


def test_score_probabilities_applies_the_calibration():
    probabilities = np.zeros((6, 5, 5), np.float32)
    probabilities[:, 1:4, 1:4] = 0.7
    calibration = Calibration(false_alarm_rate=0.05, video_threshold=0.6, frame_threshold=0.8, videos=10, frames=60)
    scores = score_probabilities(probabilities, VideoScoreModel.summary("peak"), calibration.to_json())
    assert scores.raw_video == pytest.approx(0.7) and scores.video > FLAG_AT  # 0.7 >= video threshold 0.6
    assert all(raw == pytest.approx(0.7) for raw in scores.raw_frames)
    assert all(value < FLAG_AT for value in scores.frames)  # 0.7 < frame threshold 0.8
    plain = score_probabilities(probabilities, None, None)
    assert plain.video == plain.raw_video and plain.frames == plain.raw_frames
