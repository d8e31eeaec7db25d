"""Pixel- and video-level detection metrics, exact and fast on 8-bit heatmaps.

Per frame (the field's protocol, see ``docs/protocols.md``): AUC, F1 at threshold 0.5, F1-best (oracle threshold
per frame), IoU and MCC at 0.5, optionally with TruFor's ignore band (ground truth eroded 15 px -> positives,
dilated 11 px -> complement = negatives, the band between is not scored), and ``max(F1, F1 of the inverted map)``
reported under its own name. Per video: AUC and balanced accuracy of the video scores.

All pixel metrics come from one pass of counting: scores are grouped by distinct value (an ``uint8`` heatmap has
at most 256), positives and negatives are counted per value, and every threshold's confusion matrix follows from
cumulative sums. AUC is the Mann-Whitney statistic with ties counted half, identical to
``sklearn.metrics.roc_auc_score``.

Examples
--------
>>> import numpy as np
>>> truth = np.zeros((4, 4), bool); truth[:2] = True
>>> scores = np.where(truth, 0.9, 0.1); scores[0, 0] = 0.2
>>> result = frame_metrics(scores, truth)
>>> round(result.auc, 3), round(result.f1, 3), result.f1_best
(1.0, 0.933, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import cv2
import numpy as np

#: TruFor's ignore band: positives = truth eroded by this many px, negatives = outside truth dilated by the other.
TRUFOR_ERODE_PX = 15
TRUFOR_DILATE_PX = 11


@dataclass(frozen=True)
class FrameMetrics:
    """Localisation metrics of one frame (NaN where undefined; ``note`` says why).

    Attributes
    ----------
    auc : float
        Pixel ROC AUC (NaN when the scored pixels hold only one class).
    f1, iou, mcc : float
        At probability threshold 0.5 (``score >= 0.5``).
    f1_best : float
        Highest F1 over all thresholds (oracle, per frame).
    f1_inverted_max : float
        ``max(F1, F1 of 1 - score)`` at 0.5, as TruFor reports it.
    false_positive_rate : float
        Share of scored negative pixels with ``score >= 0.5``.
    positives, negatives : int
        Scored pixels of each class.
    note : str
        Reason for NaN values.
    """

    auc: float
    f1: float
    f1_best: float
    iou: float
    mcc: float
    f1_inverted_max: float
    false_positive_rate: float
    positives: int
    negatives: int
    note: str = ""

    def to_dict(self) -> dict:
        """Plain dict (for table rows)."""
        return asdict(self)


def trufor_regions(truth: np.ndarray, *, erode: int = TRUFOR_ERODE_PX, dilate: int = TRUFOR_DILATE_PX):
    """``(positives, negatives)`` bool masks of TruFor's protocol for an ``(H, W)`` ground truth (elliptic kernels)."""
    if erode < 0 or dilate < 0:
        raise ValueError(f"erode and dilate must be >= 0, got {erode}, {dilate}")
    mask = truth.astype(np.uint8)
    positives = truth.copy()
    if erode:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1))
        positives = cv2.erode(mask, kernel, borderType=cv2.BORDER_REPLICATE) > 0
    grown = truth
    if dilate:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1, 2 * dilate + 1))
        grown = cv2.dilate(mask, kernel) > 0
    return positives, ~grown


def _value_counts(scores: np.ndarray, truth: np.ndarray):
    """Distinct score values (ascending, as probabilities) with positive and negative counts per value."""
    if scores.dtype == np.uint8:
        positive = np.bincount(scores[truth], minlength=256).astype(np.int64)
        total = np.bincount(scores.ravel(), minlength=256).astype(np.int64)
        keep = total > 0
        return np.arange(256)[keep] / 255.0, positive[keep], (total - positive)[keep]
    values, inverse = np.unique(scores.astype(np.float64), return_inverse=True)
    inverse = inverse.ravel()
    positive = np.bincount(inverse, weights=truth.ravel(), minlength=len(values)).astype(np.int64)
    total = np.bincount(inverse, minlength=len(values)).astype(np.int64)
    return values, positive, total - positive


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)


def frame_metrics(
    scores: np.ndarray,
    truth: np.ndarray,
    *,
    ignore_band: bool = False,
    erode: int = TRUFOR_ERODE_PX,
    dilate: int = TRUFOR_DILATE_PX,
    valid: np.ndarray | None = None,
) -> FrameMetrics:
    """Localisation metrics of one frame.

    Parameters
    ----------
    scores : np.ndarray
        ``(H, W)`` probabilities in [0, 1] (float) or an 8-bit heatmap (``uint8``, probability x 255).
    truth : np.ndarray
        ``(H, W)`` bool: pixels that were filled in.
    ignore_band : bool, keyword-only
        Apply TruFor's band (see :func:`trufor_regions`).
    erode, dilate : int, keyword-only
        Band widths in px.
    valid : np.ndarray, optional, keyword-only
        ``(H, W)`` bool of pixels to score at all (e.g. excluding borders); combined with the band.

    Returns
    -------
    FrameMetrics
    """
    if scores.shape != truth.shape:
        raise ValueError(f"scores {scores.shape} and truth {truth.shape} differ in shape")
    if truth.dtype != bool:
        raise TypeError(f"truth must be bool, got {truth.dtype}")
    if scores.dtype != np.uint8:
        finite = np.isfinite(scores)
        if not finite.all() or scores.min(initial=0) < 0 or scores.max(initial=0) > 1:
            raise ValueError("scores must be finite probabilities in [0, 1] (or a uint8 heatmap)")
    scored = np.ones(truth.shape, bool) if valid is None else valid.astype(bool)
    labels = truth
    if ignore_band:
        positives, negatives = trufor_regions(truth, erode=erode, dilate=dilate)
        scored = scored & (positives | negatives)
        labels = positives
    values, positive, negative = _value_counts(scores[scored], labels[scored])
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    # Predicted positive at threshold values[i]: every value >= values[i] (cumulative from the top).
    tp = np.cumsum(positive[::-1])[::-1]
    fp = np.cumsum(negative[::-1])[::-1]
    fn = n_pos - tp
    at_half = values >= 0.5 - 1e-12
    tp5 = int(positive[at_half].sum())
    fp5 = int(negative[at_half].sum())
    fn5, tn5 = n_pos - tp5, n_neg - fp5
    inverted = values <= 0.5 + 1e-12  # 1 - score >= 0.5
    tn_inv_pos = int(positive[inverted].sum())
    fp_inv = int(negative[inverted].sum())
    f1_inverted = float(_f1(np.array(tn_inv_pos), np.array(fp_inv), np.array(n_pos - tn_inv_pos)))
    f1 = float(_f1(np.array(tp5), np.array(fp5), np.array(fn5)))
    notes = []
    if n_pos == 0 or n_neg == 0:
        auc = math.nan
        notes.append(f"AUC undefined: {n_pos} positive and {n_neg} negative pixels scored")
    else:
        below = np.cumsum(negative) - negative
        auc = float((positive * (below + 0.5 * negative)).sum() / (n_pos * n_neg))
    if n_pos == 0:
        f1_best = f1 = iou = f1_inverted = math.nan
        notes.append("F1/IoU undefined: no positive pixels")
    else:
        f1_best = float(max(_f1(tp, fp, fn).max(initial=0.0), 0.0))
        union = tp5 + fp5 + fn5
        iou = tp5 / union if union else math.nan
    denominator = math.sqrt(float(tp5 + fp5) * (tp5 + fn5) * (tn5 + fp5) * (tn5 + fn5))
    mcc = (tp5 * tn5 - fp5 * fn5) / denominator if denominator > 0 else 0.0
    fpr = fp5 / n_neg if n_neg else math.nan
    return FrameMetrics(
        auc=auc,
        f1=f1,
        f1_best=f1_best,
        iou=iou,
        mcc=float(mcc),
        f1_inverted_max=max(f1, f1_inverted) if n_pos else math.nan,
        false_positive_rate=fpr,
        positives=n_pos,
        negatives=n_neg,
        note="; ".join(notes),
    )


def binary_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """ROC AUC of 1-D ``scores`` for bool ``labels`` (ties half); NaN when one class is absent."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels, bool)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise ValueError(f"scores {scores.shape} and labels {labels.shape} must be equal 1-D shapes")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite")
    _values, positive, negative = _value_counts(scores, labels)
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    below = np.cumsum(negative) - negative
    return float((positive * (below + 0.5 * negative)).sum() / (n_pos * n_neg))


def balanced_accuracy(scores: np.ndarray, labels: np.ndarray, *, threshold: float = 0.5) -> float:
    """``(TPR + TNR) / 2`` of ``scores >= threshold``; NaN when one class is absent."""
    scores = np.asarray(scores, np.float64)
    labels = np.asarray(labels, bool)
    if not labels.any() or labels.all():
        return math.nan
    predicted = scores >= threshold
    return float((predicted[labels].mean() + (~predicted[~labels]).mean()) / 2)
