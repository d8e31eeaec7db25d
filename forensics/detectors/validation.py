"""Fitting and validating the detector, shared by the training recipe (:mod:`.train`) and ``detect-eval``.

The recipe has three stages, each fitted only on what the stage before it could not have seen:

1. **Trees** (:func:`fit_trees`): a gradient-boosted ensemble on sampled block rows (:class:`RowSet`), classes
   balanced (:func:`balanced_rows`).
2. **Video score** (:func:`fit_video_stage`): one summary of the block probabilities
   (:func:`forensics.detectors.scoring.video_features`) as it is, or a logistic map from all of them fitted on
   *out-of-fold* probabilities: each video scored by trees that never saw its footage (:func:`cross_fit`, folds of
   whole clip groups).
3. **Calibration** (same function): raw video and frame thresholds that at most the stated share of the
   out-of-fold untouched videos (frames) reach (:func:`forensics.detectors.scoring.fit_calibration`).

:func:`fit_model` runs all three. :func:`cross_validate` is the honest estimate: the clip groups are dealt into
folds (:mod:`.folds`), each fold is scored by trees fitted without it, and by a video stage and calibration fitted
on the *other* folds' out-of-fold scores (nested), so no figure comes from footage any stage saw. With ``logo`` it
also refits without each generator in turn and scores that generator's videos (and the untouched ones) with the
models that never saw it: leave-one-generator-out.

Examples
--------
>>> config = TrainingConfig(video_score="peak")  # doctest: +SKIP
>>> validation = cross_validate(examples, collect_rows(examples, config), folds, config)  # doctest: +SKIP
>>> validation.videos[None].groupby("generator")["flagged"].mean()  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from forensics.detectors.dataset import UNTOUCHED, Example, sample_rows
from forensics.detectors.features import FEATURE_NAMES
from forensics.detectors.folds import fold_indices
from forensics.detectors.fusion import MODEL_VERSION, FusionModel
from forensics.detectors.scoring import (
    VIDEO_FEATURES,
    Calibration,
    VideoScoreModel,
    VideoScores,
    fit_calibration,
    frame_scores,
    score_probabilities,
    video_features,
)

if TYPE_CHECKING:
    from forensics.detectors.recipe import TrainingConfig

#: Out-of-fold block probabilities: example index -> ``(T, rows, cols)`` float32.
OutOfFold = dict[int, np.ndarray]


@dataclass
class RowSet:
    """Sampled training rows of a list of examples.

    Attributes
    ----------
    x : np.ndarray
        ``(N, F)`` float32 features.
    y : np.ndarray
        ``(N,)`` int8 labels (1 = filled).
    example : np.ndarray
        ``(N,)`` int32 index of the example each row comes from.
    """

    x: np.ndarray
    y: np.ndarray
    example: np.ndarray


def collect_rows(
    examples: list[Example],
    config: TrainingConfig,
    *,
    video_groups: Collection[str] = (),
    keep_features: bool = False,
    progress: bool = False,
) -> RowSet:
    """Rows of every example (:func:`~forensics.detectors.dataset.sample_rows`, seeded by ``config.seed``).

    Examples whose group is in ``video_groups`` (real video footage) get ``config.video_row_factor`` times the rows.
    With ``keep_features`` each example keeps its features for the cross-fitting (:meth:`Example.features`).
    """
    rng = np.random.default_rng([config.seed, 3])
    xs, ys, owners = [], [], []
    for index, example in enumerate(examples):
        features = example.features(keep=keep_features)
        factor = config.video_row_factor if example.group in video_groups else 1
        x, y = sample_rows(
            example,
            features,
            rng,
            positives=config.positives_per_video * factor,
            negatives=config.negatives_per_video * factor,
        )
        xs.append(x)
        ys.append(y)
        owners.append(np.full(len(y), index, np.int32))
        if progress and (index + 1) % 50 == 0:
            print(f"  rows {index + 1}/{len(examples)} videos", file=sys.stderr, flush=True)
    return RowSet(np.concatenate(xs), np.concatenate(ys), np.concatenate(owners))


def balanced_rows(rows: RowSet, keep: np.ndarray, seed: int) -> np.ndarray:
    """Indices of the rows of the kept examples with the classes balanced: the larger class is subsampled (seeded).

    Balancing by sampling rather than by weights keeps scikit-learn's binning on its fast unweighted path.
    """
    chosen = np.flatnonzero(keep[rows.example])
    labels = rows.y[chosen]
    positive, negative = chosen[labels == 1], chosen[labels == 0]
    if len(positive) == 0 or len(negative) == 0:
        raise ValueError(f"training rows need both classes, got {len(negative)} negatives, {len(positive)} positives")
    rng = np.random.default_rng([seed, 5])
    if len(positive) > len(negative):
        positive = rng.choice(positive, size=len(negative), replace=False)
    else:
        negative = rng.choice(negative, size=len(positive), replace=False)
    return np.sort(np.concatenate([positive, negative]))


def fit_trees(rows: RowSet, keep: np.ndarray, config: TrainingConfig) -> FusionModel:
    """The tree ensemble on the rows of the examples where ``keep`` (bool per example) is True, classes balanced."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    chosen = balanced_rows(rows, keep, config.seed)
    x, y = rows.x[chosen], rows.y[chosen]
    # A column with no defined value carries no information; scikit-learn's binning cannot take it, so it is set
    # to 0 and never gets a split.
    empty = ~np.isfinite(x).any(axis=0)
    x[:, empty] = 0.0
    estimator = HistGradientBoostingClassifier(
        max_iter=config.max_iter,
        max_leaf_nodes=config.max_leaf_nodes,
        learning_rate=config.learning_rate,
        min_samples_leaf=config.min_samples_leaf,
        l2_regularization=config.l2_regularization,
        early_stopping=False,
        random_state=config.seed,
    )
    estimator.fit(x, y)
    extra = {"block": config.block, "rows": {"positive": int(y.sum()), "negative": int((y == 0).sum())}}
    return FusionModel.from_sklearn(estimator, FEATURE_NAMES, version=MODEL_VERSION, extra=extra)


def left_out(entry: str | None) -> frozenset[str]:
    """The generators a left-out entry names: none for None, every generator of a kind for a kind's name
    (:data:`~forensics.detectors.generators.GENERATOR_KINDS`, e.g. ``copy``), else the generator itself."""
    from forensics.detectors.generators import GENERATOR_KINDS

    if entry is None:
        return frozenset()
    kind = frozenset(name for name, value in GENERATOR_KINDS.items() if value == entry)
    return kind or frozenset({entry})


def _kind(generator: str) -> str | None:
    from forensics.detectors.generators import GENERATOR_KINDS

    return GENERATOR_KINDS.get(generator)


def predict_blocks(model: FusionModel, features: np.ndarray) -> np.ndarray:
    """Block probabilities ``(T, rows, cols)`` float32 of ``(T, rows, cols, F)`` features."""
    flat = features.reshape(-1, features.shape[-1])
    return model.predict_proba(flat).reshape(features.shape[:-1]).astype(np.float32)


def cross_fit(
    examples: list[Example],
    rows: RowSet,
    folds: list[np.ndarray],
    config: TrainingConfig,
    *,
    leave_out: tuple[str | None, ...] = (None,),
    progress: bool = False,
) -> dict[str | None, OutOfFold]:
    """Out-of-fold block probabilities, for each entry of ``leave_out`` (None: every generator in training).

    For each fold, trees are fitted on the other folds (without the generators entry ``g`` names,
    :func:`left_out`) and score the fold's videos (for entry ``g``, only its untouched and left-out videos).
    """
    generators = np.array([example.generator for example in examples])
    out: dict[str | None, OutOfFold] = {entry: {} for entry in leave_out}
    for number, fold in enumerate(folds):
        outside = np.ones(len(examples), bool)
        outside[fold] = False
        models = {}
        for entry in leave_out:
            if progress:
                print(f"  fold {number + 1}/{len(folds)}: trees without {entry or 'the fold'}", file=sys.stderr)
            models[entry] = fit_trees(rows, outside & ~np.isin(generators, list(left_out(entry))), config)
        for index in fold:
            features = examples[index].features()
            for entry, model in models.items():
                if entry is None or examples[index].generator in left_out(entry) | {UNTOUCHED}:
                    out[entry][int(index)] = predict_blocks(model, features)
    return out


def fit_video_stage(
    examples: list[Example], oof: OutOfFold, indices: list[int], config: TrainingConfig, *, exclude: str | None = None
) -> tuple[VideoScoreModel | None, Calibration | None, str]:
    """Video model and calibration from the out-of-fold probabilities of ``indices`` (minus what ``exclude`` names).

    With ``config.video_score == "logistic"`` the video model is a logistic regression on the summaries of the
    untouched and processed videos; with the name of a summary it is that summary as it is (no fitting, so it needs
    no processed video). The calibration comes from the untouched videos. Returns ``(video model or None,
    calibration or None, note)``; the note says why a part could not be fitted.
    """
    chosen = [i for i in indices if i in oof and examples[i].generator not in left_out(exclude)]
    labels = [examples[i].processed for i in chosen]
    summaries = [video_features(oof[i]) for i in chosen]
    if config.video_score == "logistic":
        if len(set(labels)) < 2:
            return None, None, "video stage not fitted: its out-of-fold videos hold one class only"
        video_model = _fit_logistic(summaries, labels, config)
    else:
        video_model = VideoScoreModel.summary(config.video_score)
    untouched = [(i, summary) for i, summary, label in zip(chosen, summaries, labels, strict=True) if not label]
    if not untouched:
        return video_model, None, "calibration not fitted: no untouched out-of-fold video"
    video_raw = [video_model.score(summary) for _, summary in untouched]
    frame_raw = [value for i, _ in untouched for value in frame_scores(oof[i])]
    return video_model, fit_calibration(video_raw, frame_raw, config.false_alarm_rate), ""


def _fit_logistic(summaries: list[dict], labels: list[bool], config: TrainingConfig) -> VideoScoreModel:
    from sklearn.linear_model import LogisticRegression

    rows = np.asarray([[summary[name] for name in VIDEO_FEATURES] for summary in summaries])
    fitted = LogisticRegression(C=config.video_c, class_weight="balanced", max_iter=1000).fit(rows, labels)
    return VideoScoreModel(
        features=VIDEO_FEATURES,
        coefficients=tuple(float(value) for value in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
        fitted_on={"videos": len(labels), "processed": int(sum(labels)), "out_of_fold": True},
    )


def nested_scores(
    examples: list[Example],
    oof: OutOfFold,
    folds: list[np.ndarray],
    config: TrainingConfig,
    *,
    exclude: str | None,
    fit_on: OutOfFold | None = None,
) -> dict[int, VideoScores]:
    """Scores of each fold's out-of-fold probabilities under a video stage fitted on the other folds only.

    The video stage is fitted on ``fit_on`` (default ``oof``) without the videos of the generators ``exclude`` names.
    Leaving a generator out, ``oof`` holds only its videos and the untouched ones (one class once it is excluded), so
    the stage is fitted on the other folds' out-of-fold probabilities of every other generator (``fit_on``): no
    video of the left-out generator or of the fold's footage reaches any fitted stage.
    """
    scores: dict[int, VideoScores] = {}
    for number, fold in enumerate(folds):
        others = [int(i) for other, chosen in enumerate(folds) if other != number for i in chosen]
        source = oof if fit_on is None else fit_on
        video_model, calibration, note = fit_video_stage(examples, source, others, config, exclude=exclude)
        if note:
            raise ValueError(f"fold {number}: {note}")
        for index in fold:
            if int(index) in oof:
                scores[int(index)] = score_probabilities(oof[int(index)], video_model, calibration)
    return scores


def fit_model(
    examples: list[Example],
    rows: RowSet,
    config: TrainingConfig,
    *,
    exclude: str | None = None,
    oof: OutOfFold | None = None,
    progress: bool = False,
) -> FusionModel:
    """The whole recipe on ``examples`` (minus what ``exclude`` names, :func:`left_out`): trees, video stage.

    The video stage needs out-of-fold probabilities: ``oof`` when given (from :func:`cross_fit`, every generator in
    training; the videos of what ``exclude`` names are left out of the fit), else cross-fitted here over
    ``config.video_folds`` folds of clip groups. Where the video stage cannot be fitted, ``extra["video_model"]`` and
    ``extra["calibration"]`` are None and ``extra["video_note"]`` says why.
    """
    keep = np.array([example.generator not in left_out(exclude) for example in examples])
    if oof is None:
        groups = sorted({example.group for example in examples})
        order = np.random.default_rng([config.seed, 11]).permutation(len(groups))
        fold_of = {groups[index]: position % config.video_folds for position, index in enumerate(order)}
        folds = [np.flatnonzero([fold_of[e.group] == k for e in examples]) for k in range(config.video_folds)]
        folds = [fold for fold in folds if len(fold)]
        oof = {} if len(folds) < 2 else cross_fit(examples, rows, folds, config, leave_out=(exclude,))[exclude]
    model = fit_trees(rows, keep, config)
    video_model, calibration, note = fit_video_stage(examples, oof, list(range(len(examples))), config, exclude=exclude)
    model.extra["video_model"] = None if video_model is None else video_model.to_json()
    model.extra["calibration"] = None if calibration is None else calibration.to_json()
    if note:
        model.extra["video_note"] = note
    if progress:
        print(f"  model fitted{'' if exclude is None else ' without ' + exclude}", file=sys.stderr)
    return model


def model_scores(model: FusionModel, probabilities: np.ndarray) -> VideoScores:
    """Scores of block probabilities under a fitted model's video stage."""
    return score_probabilities(probabilities, model.extra.get("video_model"), model.extra.get("calibration"))


@dataclass
class CrossValidation:
    """What :func:`cross_validate` found.

    Attributes
    ----------
    folds : list of np.ndarray
        Example indices of each fold.
    oof : dict
        Out-of-fold block probabilities per left-out generator (None: all generators in training).
    frames, videos : dict of DataFrame
        Per left-out entry, the frame and video tables (:func:`forensics.detectors.figures.example_rows`) of the
        out-of-fold scores under nested video stages.
    """

    folds: list[np.ndarray]
    oof: dict[str | None, OutOfFold]
    frames: dict[str | None, Any]
    videos: dict[str | None, Any]


def score_tables(
    examples: list[Example], oof: OutOfFold, scores: dict[int, VideoScores], *, label: str
) -> tuple[Any, Any]:
    """Frame and video tables (pandas) of the examples in ``oof`` under ``scores``."""
    import pandas as pd

    from forensics.detectors.figures import example_rows

    frame_rows, video_rows = [], []
    for index in sorted(oof):
        frames, video = example_rows(examples[index], oof[index], scores[index], label=label)
        frame_rows.extend(frames)
        video_rows.append(video)
    return pd.DataFrame(frame_rows), pd.DataFrame(video_rows)


def cross_validate(
    examples: list[Example],
    rows: RowSet,
    folds: list[list[Path]],
    config: TrainingConfig,
    *,
    logo: bool = True,
    progress: bool = False,
) -> CrossValidation:
    """Grouped cross-validation of the recipe, with leave-one-generator-out when ``logo`` (see the module notes).

    Parameters
    ----------
    examples : list of Example
        Every clip's examples (all generators and degradations).
    rows : RowSet
        Their training rows (:func:`collect_rows`).
    folds : list of list of Path
        Clip folders per fold (:func:`~forensics.detectors.folds.assign_folds`); a clip group spanning two folds
        is a ``ValueError``.
    config : TrainingConfig
        The recipe refitted per fold.
    logo : bool, keyword-only
        Also refit without each generator (when there are at least two), and without each kind of generator that
        has several members (:data:`~forensics.detectors.generators.GENERATOR_KINDS`; leave-one-kind-out).
    progress : bool, keyword-only
        Report each fit on stderr.
    """
    indices = fold_indices(examples, folds)
    if sum(len(fold) > 0 for fold in indices) < 2:
        raise ValueError("cross-validation needs at least two folds holding examples")
    methods = sorted({example.generator for example in examples} - {UNTOUCHED})
    leave_out: tuple[str | None, ...] = (None,)
    if logo and len(methods) >= 2:
        kinds = sorted({kind for kind in map(_kind, methods) if kind and 1 < len(left_out(kind) & set(methods))})
        leave_out = (None, *methods, *(kind for kind in kinds if set(methods) - left_out(kind)))
    oof = cross_fit(examples, rows, indices, config, leave_out=leave_out, progress=progress)
    frames, videos = {}, {}
    for entry in leave_out:
        scores = nested_scores(examples, oof[entry], indices, config, exclude=entry, fit_on=oof[None])
        label = "cross-validation" if entry is None else f"without-{entry}"
        frames[entry], videos[entry] = score_tables(examples, oof[entry], scores, label=label)
    return CrossValidation(indices, oof, frames, videos)
