"""Video-level scoring: the summaries against hand computations, the logistic model, and its out-of-fold fitting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forensics.detectors.scoring import (
    VIDEO_FEATURES,
    VideoScoreModel,
    frame_scores,
    top_share_mean,
    video_features,
    video_score,
)


def test_video_features_by_hand():
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0.0, 0.3, (8, 6, 7)).astype(np.float32)
    probabilities[2:6, 1:4, 2:5] = 0.95  # a region that persists for 4 frames
    features = video_features(probabilities)
    peaks = np.asarray(frame_scores(probabilities))
    medians = np.median(probabilities.reshape(8, -1), axis=1)
    assert features["peak"] == pytest.approx(np.sort(peaks)[::-1][:2].mean())
    assert features["level"] == pytest.approx(medians.mean())
    assert features["contrast"] == pytest.approx(top_share_mean(peaks - medians))
    assert features["spread"] == pytest.approx((probabilities >= 0.5).mean())
    # tube: running mean over the last (up to) 4 frames; at frame 5 it holds the whole region at 0.95.
    tubes = np.stack([probabilities[max(0, t - 3) : t + 1].mean(axis=0) for t in range(8)])
    assert features["tube_contrast"] == pytest.approx(top_share_mean(np.asarray(frame_scores(tubes)) - medians))
    assert frame_scores(tubes)[5] == pytest.approx(0.95, abs=1e-6)
    flicker = probabilities.copy()
    flicker[2:6] = rng.uniform(0.0, 0.3, (4, 6, 7))
    flicker[2:6:2, 1:4, 2:5] = 0.95  # the same peak on alternate frames only
    assert video_features(flicker)["tube_contrast"] < features["tube_contrast"] - 0.2
    assert all(math.isnan(value) for value in video_features(np.zeros((0, 3, 3))).values())
    with pytest.raises(ValueError, match="rows, cols"):
        video_features(np.zeros((3, 3)))


def test_video_score_model_logistic_and_json():
    model = VideoScoreModel(features=VIDEO_FEATURES, coefficients=(1.0, -2.0, 3.0, 0.5, 0.0), intercept=-0.5)
    values = {"peak": 0.8, "level": 0.1, "contrast": 0.6, "tube_contrast": 0.4, "spread": 0.2}
    logit = -0.5 + 0.8 - 0.2 + 1.8 + 0.2
    assert model.score(values) == pytest.approx(1 / (1 + math.exp(-logit)))
    again = VideoScoreModel.from_json(model.to_json())
    assert again.score(values) == model.score(values)
    assert math.isnan(model.score({**values, "peak": math.nan}))
    probabilities = np.full((4, 3, 3), 0.2, np.float32)
    assert video_score(probabilities) == pytest.approx(0.2)  # no model: the peak summary
    assert video_score(probabilities, model.to_json()) == model.score(video_features(probabilities))
    with pytest.raises(ValueError, match="bad video model"):
        VideoScoreModel(features=("peak", "brightness"), coefficients=(1.0, 1.0), intercept=0.0)


def test_video_model_is_fitted_out_of_fold_or_says_why(tiny_footage, tmp_path):
    from forensics.detectors.dataset import Degradation
    from forensics.detectors.train import TrainingConfig, build_examples, fit_video_model

    config = TrainingConfig(seed=0, methods=("telea",), max_iter=5, min_samples_leaf=5, video_folds=2)
    examples = build_examples(tiny_footage, config.generators, (Degradation("lossless"),), tmp_path, block=16)
    model, note = fit_video_model(examples, config)
    assert note == "" and model.fitted_on == {"videos": 6, "processed": 3, "folds": 2, "groups": 3, "out_of_fold": True}
    assert len(model.coefficients) == len(VIDEO_FEATURES)
    single = [example for example in examples if example.clip == examples[0].clip]
    missing, why = fit_video_model(single, config)
    assert missing is None and "needs >= 2 clip groups" in why
