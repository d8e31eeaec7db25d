"""Localisation and video metrics against scikit-learn, and TruFor's ignore band by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    jaccard_score,
    matthews_corrcoef,
    precision_recall_curve,
    roc_auc_score,
)

from forensics.detectors.localisation import balanced_accuracy, binary_auc, frame_metrics, trufor_regions


@pytest.mark.parametrize("kind", ["float", "uint8"])
@pytest.mark.parametrize("seed", [0, 1])
def test_frame_metrics_match_sklearn(kind, seed):
    rng = np.random.default_rng(seed)
    truth = rng.random((48, 64)) < 0.25
    scores = np.clip(truth * 0.35 + rng.random((48, 64)) * 0.65, 0, 1)
    if kind == "uint8":
        scores = np.rint(scores * 255).astype(np.uint8)
        probabilities = scores / 255.0
    else:
        probabilities = scores
    result = frame_metrics(scores, truth)
    y, predicted = truth.ravel(), probabilities.ravel() >= 0.5
    assert result.auc == pytest.approx(roc_auc_score(y, probabilities.ravel()), abs=1e-12)
    assert result.f1 == pytest.approx(f1_score(y, predicted), abs=1e-12)
    assert result.iou == pytest.approx(jaccard_score(y, predicted), abs=1e-12)
    assert result.mcc == pytest.approx(matthews_corrcoef(y, predicted), abs=1e-12)
    precision, recall, _ = precision_recall_curve(y, probabilities.ravel())
    best = np.max(np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0))
    assert result.f1_best == pytest.approx(best, abs=1e-12)
    inverted = f1_score(y, (1 - probabilities.ravel()) >= 0.5)
    assert result.f1_inverted_max == pytest.approx(max(result.f1, inverted), abs=1e-12)
    assert result.false_positive_rate == pytest.approx(predicted[~y].mean())


def test_inverted_map_is_reported_as_such():
    truth = np.zeros((10, 10), bool)
    truth[:5] = True
    scores = np.where(truth, 0.1, 0.9)  # a perfectly inverted detector
    result = frame_metrics(scores, truth)
    assert result.auc == 0.0 and result.f1 == 0.0 and result.f1_inverted_max == 1.0


def test_trufor_band_by_hand():
    truth = np.zeros((100, 100), bool)
    truth[30:70, 30:70] = True
    positives, negatives = trufor_regions(truth, erode=15, dilate=11)
    assert positives.sum() == 10 * 10 and positives[35:65, 35:65].sum() == positives.sum()
    assert not negatives[30:70, 30:70].any() and not negatives[25, 50] and negatives[18, 50] and negatives[0, 0]
    # A detector that is only wrong inside the band scores perfectly with the band, not without it.
    scores = truth.astype(np.float64)
    scores[28:30, 30:70] = 1.0
    scores[30:32, 30:70] = 0.0
    assert frame_metrics(scores, truth).f1 < 1.0
    banded = frame_metrics(scores, truth, ignore_band=True)
    assert banded.f1 == 1.0 and banded.auc == 1.0 and banded.positives == 100


def test_undefined_values_are_nan_with_a_reason():
    empty = frame_metrics(np.zeros((8, 8)), np.zeros((8, 8), bool))
    assert math.isnan(empty.auc) and math.isnan(empty.f1) and "no positive" in empty.note
    assert empty.false_positive_rate == 0.0
    with pytest.raises(ValueError, match="probabilities"):
        frame_metrics(np.full((4, 4), 1.5), np.zeros((4, 4), bool))
    with pytest.raises(TypeError):
        frame_metrics(np.zeros((4, 4)), np.zeros((4, 4), np.uint8))


def test_video_metrics_match_sklearn():
    rng = np.random.default_rng(3)
    labels = rng.random(40) < 0.5
    scores = np.clip(labels * 0.3 + rng.random(40) * 0.7, 0, 1)
    assert binary_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores))
    assert balanced_accuracy(scores, labels) == pytest.approx(balanced_accuracy_score(labels, scores >= 0.5))
    assert math.isnan(binary_auc(scores, np.ones(40, bool)))
