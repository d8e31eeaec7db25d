"""Train the fusion model from a seed: clips -> removal methods -> degradations -> block features -> trees.

Run ``python -m forensics.detectors.train --work WORK_DIR`` to rebuild the shipped model
(``forensics/detectors/models/fusion_gbt_v4.json`` and its card). The recipe:

1. **Clips.** Real-footage clips with drifting elliptic holes (:mod:`forensics.detectors.footage`) and, when the
   suite generator is installed, suite clips (:func:`void_eval.suite.make_suite`), all from ``seed``.
2. **Generators.** Each clip's input as it is (``untouched``) and the outputs of the CPU methods
   ``telea``, ``navier-stokes``, ``flowprop``, ``median``.
3. **Degradations.** Lossless, h264 CRF 18, CRF 28, and 0.75x resize + CRF 23
   (:data:`~forensics.detectors.dataset.DEFAULT_DEGRADATIONS`).
4. **Rows.** Every block at least half rewritten is a positive; blocks with no rewritten pixel are sampled as
   negatives (:func:`~forensics.detectors.dataset.sample_blocks`); classes are weighted equally.
5. **Model.** ``HistGradientBoostingClassifier`` (no early stopping, fixed ``random_state``) on every clip,
   exported to JSON.
6. **Video score.** A logistic regression on video-level summaries of block probabilities
   (:mod:`forensics.detectors.scoring`), fitted on out-of-fold probabilities of the training videos
   (:func:`fit_video_model`: trees refitted without each fold of clip groups), stored in the model.
7. **Figures.** Grouped cross-validation (:func:`assign_folds`, :func:`forensics.evaluate.cross_validate`): the
   clips are dealt into ``cv_folds`` folds by *group* (:func:`~forensics.detectors.dataset.clip_group`: every
   real-footage clip cut from one source video lands in the same fold; each suite clip is its own group), the
   whole recipe (trees and video model) is refitted without each fold and scores that fold; the pooled scores give
   the card's figures, also leaving each generator out. The shipped model is the one fitted on every clip, so
   the figures estimate how a model trained this way does on footage and scenes it has never seen.

The card written beside the model lists the clips and their groups, the folds, generators, degradations, row
counts, parameters, software versions and the cross-validated figures (pixel and video level; see
:mod:`forensics.evaluate`).

Examples
--------
>>> config = TrainingConfig(seed=3, footage_clips=4, suite_clips=0)
>>> config.generators
('untouched', 'telea', 'navier-stokes', 'flowprop', 'median')
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from forensics.detectors.dataset import (
    DEFAULT_DEGRADATIONS,
    UNTOUCHED,
    Degradation,
    Example,
    build_example,
    clip_group,
    method_versions,
)
from forensics.detectors.features import FEATURE_NAMES
from forensics.detectors.fusion import DEFAULT_MODEL_PATH, FusionModel, save_model

if TYPE_CHECKING:
    from forensics.detectors.scoring import VideoScoreModel

MODEL_VERSION = "4.0.0"
TRAINING_METHODS: tuple[str, ...] = ("telea", "navier-stokes", "flowprop", "median")


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that determines a trained model.

    Attributes
    ----------
    seed : int
        Seeds clip generation, the split, row sampling and the trees.
    footage_clips, footage_frames : int
        Number and length of real-footage clips.
    footage_size : tuple of int
        ``(height, width)`` of footage clips.
    suite_clips : int
        Suite clips to use (0 = none); the suite's ``demo`` preset is generated with ``seed``.
    suite_frames : int or None
        Frames per suite clip (None = the preset's).
    methods : tuple of str
        Removal methods that generate positives.
    degradations : tuple of Degradation
        Distribution steps applied to every video.
    block : int
        Block size in pixels.
    cv_folds : int
        Folds of the grouped cross-validation behind the card's figures (>= 2).
    max_iter, max_leaf_nodes, learning_rate, min_samples_leaf, l2_regularization
        Tree ensemble parameters.
    extra_clips : tuple of str
        More clip folders to use (source ``extra``).
    video_folds : int
        Cross-fitting folds (by clip) for the video score model's out-of-fold probabilities (>= 2).
    video_c : float
        Inverse L2 strength of the video score model's logistic regression.
    """

    seed: int = 0
    footage_clips: int = 24
    footage_frames: int = 24
    footage_size: tuple[int, int] = (192, 256)
    suite_clips: int = 8
    suite_frames: int | None = 24
    methods: tuple[str, ...] = TRAINING_METHODS
    degradations: tuple[Degradation, ...] = DEFAULT_DEGRADATIONS
    block: int = 16
    cv_folds: int = 4
    max_iter: int = 200
    max_leaf_nodes: int = 63
    learning_rate: float = 0.1
    min_samples_leaf: int = 100
    l2_regularization: float = 3.0
    extra_clips: tuple[str, ...] = field(default=())
    video_folds: int = 2
    video_c: float = 1.0

    @property
    def generators(self) -> tuple[str, ...]:
        """``untouched`` plus the methods."""
        return (UNTOUCHED, *self.methods)

    def to_json(self) -> dict:
        """JSON-ready dict (degradations spelled out)."""
        document = asdict(self)
        document["degradations"] = [asdict(item) for item in self.degradations]
        return document


def collect_clips(config: TrainingConfig, work_dir: Path) -> dict[str, list[Path]]:
    """Generate (or reuse) the clips, grouped by source: ``{"footage": [...], "suite": [...], "extra": [...]}``."""
    from forensics.detectors.footage import make_footage_clips

    groups: dict[str, list[Path]] = {}
    if config.footage_clips:
        groups["footage"] = make_footage_clips(
            work_dir / "clips" / "footage",
            count=config.footage_clips,
            seed=config.seed,
            frames=config.footage_frames,
            size=config.footage_size,
        )
    if config.suite_clips:
        from void_eval.suite import make_suite

        suite_dir = work_dir / "clips" / "suite"
        index = suite_dir / "suite.json"
        stored = json.loads(index.read_text()) if index.is_file() else {}
        wanted = {"preset": "demo", "seed": config.seed, "frames": config.suite_frames}
        if stored and all(stored.get(key) == value for key, value in wanted.items()):
            paths = [suite_dir / name for name in stored["clips"]]
        else:
            paths = []
        if len(paths) != config.suite_clips or not all((path / "meta.json").is_file() for path in paths):
            paths = make_suite(
                suite_dir,
                preset="demo",
                clips=config.suite_clips,
                seed=config.seed,
                frames=config.suite_frames,
                progress=False,
                force=True,
            )
        groups["suite"] = sorted(Path(path) for path in paths)
    if config.extra_clips:
        groups["extra"] = [Path(path) for path in config.extra_clips]
    return groups


def _grouped(clips: list[Path]) -> dict[str, list[Path]]:
    """Clips by :func:`~forensics.detectors.dataset.clip_group`, in sorted order."""
    groups: dict[str, list[Path]] = {}
    for clip in sorted(clips):
        groups.setdefault(clip_group(clip), []).append(clip)
    return dict(sorted(groups.items()))


def split_clips(groups: dict[str, list[Path]], *, test_share: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Seeded per-source split into ``(train, test)`` clip lists that never splits a clip group.

    Within each source, whole groups (:func:`~forensics.detectors.dataset.clip_group`) are held out, about
    ``test_share`` of them, at least one of each side where a source has two groups.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be in (0, 1), got {test_share}")
    rng = np.random.default_rng([seed, 7])
    train, test = [], []
    for source in sorted(groups):
        by_group = list(_grouped(groups[source]).values())
        order = rng.permutation(len(by_group))
        n_test = min(len(by_group) - 1, max(1, round(len(by_group) * test_share))) if len(by_group) > 1 else 0
        test.extend(clip for i in sorted(order[:n_test]) for clip in by_group[i])
        train.extend(clip for i in sorted(order[n_test:]) for clip in by_group[i])
    return sorted(train), sorted(test)


def assign_folds(groups: dict[str, list[Path]], *, folds: int, seed: int) -> list[list[Path]]:
    """Deal the clips into ``folds`` cross-validation folds by clip group (seeded).

    Every clip of a group lands in one fold; within each source the groups are dealt in turn (continuing where
    the previous source stopped), so each fold gets a share of every source. Empty folds are dropped.

    Examples
    --------
    >>> from pathlib import Path
    >>> assign_folds({"suite": [Path("a"), Path("b"), Path("c")]}, folds=2, seed=0)
    [[PosixPath('b'), PosixPath('c')], [PosixPath('a')]]
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    rng = np.random.default_rng([seed, 7])
    dealt: list[list[Path]] = [[] for _ in range(folds)]
    turn = 0
    for source in sorted(groups):
        by_group = list(_grouped(groups[source]).values())
        for index in rng.permutation(len(by_group)):
            dealt[turn % folds].extend(by_group[index])
            turn += 1
    return [sorted(fold) for fold in dealt if fold]


def build_examples(
    clips: list[Path],
    generators: tuple[str, ...],
    degradations: tuple[Degradation, ...],
    work_dir: Path,
    *,
    block: int,
    progress: bool = False,
) -> list[Example]:
    """Features of every (clip, generator, degradation), cached under ``work_dir``."""
    examples = []
    total = len(clips) * len(generators) * len(degradations)
    started = time.perf_counter()
    for clip in clips:
        for generator in generators:
            for degradation in degradations:
                examples.append(build_example(clip, generator, degradation, work_dir, block=block))
                if progress and len(examples) % 20 == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  features {len(examples)}/{total} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
    return examples


def _fit_trees(examples: list[Example], config: TrainingConfig) -> FusionModel:
    """The tree ensemble alone, fitted on sampled block rows of ``examples``."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from forensics.detectors.dataset import sample_blocks

    x, y, weight = sample_blocks(examples, seed=config.seed)
    # A column with no defined value (e.g. the period-4 trace on clips shorter than its window) carries no
    # information; scikit-learn's binning cannot take it, so it is set to 0 and never gets a split.
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
    estimator.fit(x, y, sample_weight=weight)
    extra = {"block": config.block, "rows": {"positive": int(y.sum()), "negative": int((y == 0).sum())}}
    return FusionModel.from_sklearn(estimator, FEATURE_NAMES, version=MODEL_VERSION, extra=extra)


def fit_model(examples: list[Example], config: TrainingConfig, *, exclude: str | None = None) -> FusionModel:
    """Fit the tree ensemble on ``examples`` (minus generator ``exclude``) and its video score model.

    The video model (``extra["video_model"]``) comes from :func:`fit_video_model` on the same examples; where it
    cannot be fitted, ``extra["video_model"]`` is None and ``extra["video_model_note"]`` says why (the video score
    is then the ``peak`` summary, see :mod:`forensics.detectors.scoring`).
    """
    chosen = [example for example in examples if example.generator != exclude]
    model = _fit_trees(chosen, config)
    video_model, note = fit_video_model(chosen, config)
    model.extra["video_model"] = None if video_model is None else video_model.to_json()
    if note:
        model.extra["video_model_note"] = note
    return model


def fit_video_model(examples: list[Example], config: TrainingConfig) -> tuple[VideoScoreModel | None, str]:
    """Logistic video score model on out-of-fold block probabilities of the training videos.

    The training clip groups (:func:`~forensics.detectors.dataset.clip_group`) are dealt (seeded) into
    ``config.video_folds`` folds; trees fitted without a fold score that fold's videos, so the video model learns
    from probabilities like those of unseen footage (in-sample probabilities are overconfident). Returns
    ``(VideoScoreModel or None, note)``.
    """
    from sklearn.linear_model import LogisticRegression

    from forensics.detectors.scoring import VIDEO_FEATURES, VideoScoreModel, video_features

    groups = sorted({example.group for example in examples})
    if len(groups) < 2:
        return None, f"video model not fitted: cross-fitting needs >= 2 clip groups, got {len(groups)}"
    folds = min(config.video_folds, len(groups))
    order = np.random.default_rng([config.seed, 11]).permutation(len(groups))
    fold_of = {groups[index]: position % folds for position, index in enumerate(order)}
    rows, labels = [], []
    for fold in range(folds):
        inside = [example for example in examples if fold_of[example.group] != fold]
        outside = [example for example in examples if fold_of[example.group] == fold]
        if len({example.processed for example in inside}) < 2:
            return None, "video model not fitted: a cross-fitting fold lacks untouched or processed videos"
        trees = _fit_trees(inside, config)
        for example in outside:
            flat = example.features.reshape(-1, example.features.shape[-1])
            probabilities = trees.predict_proba(flat).reshape(example.features.shape[:-1])
            summary = video_features(probabilities)
            rows.append([summary[name] for name in VIDEO_FEATURES])
            labels.append(example.processed)
    if len(set(labels)) < 2:
        return None, "video model not fitted: out-of-fold videos hold one class only"
    fitted = LogisticRegression(C=config.video_c, class_weight="balanced", max_iter=1000).fit(
        np.asarray(rows), np.asarray(labels)
    )
    model = VideoScoreModel(
        features=VIDEO_FEATURES,
        coefficients=tuple(float(value) for value in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
        fitted_on={
            "videos": len(labels),
            "processed": int(sum(labels)),
            "folds": folds,
            "groups": len(groups),
            "out_of_fold": True,
        },
    )
    return model, ""


def _software() -> dict[str, str]:
    import cv2
    import sklearn

    from void_eval import __version__

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "opencv": cv2.__version__,
        "void-eval": __version__,
    }


def train(
    config: TrainingConfig,
    work_dir: str | Path,
    *,
    model_path: str | Path = DEFAULT_MODEL_PATH,
    evaluate: bool = True,
    logo: bool = True,
    progress: bool = False,
) -> tuple[Path, dict]:
    """Run the whole recipe and write the model and its card; returns ``(model_path, card)``.

    ``evaluate`` adds the grouped cross-validation figures to the card (refits the recipe once per fold), ``logo``
    also leaves each generator out in every fold (one more refit per fold and method).
    """
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    groups = collect_clips(config, work_dir)
    clips = sorted(clip for members in groups.values() for clip in members)
    if not clips:
        raise ValueError("no training clips")
    examples = build_examples(
        clips, config.generators, config.degradations, work_dir, block=config.block, progress=progress
    )
    model = fit_model(examples, config)
    card = {
        "model": "gradient-boosted trees on per-block forensic features (void-eval forensics.detectors)",
        "trained_on": {
            "clips": [
                {"name": path.name, "source": _source_of(path, groups), "group": clip_group(path)} for path in clips
            ],
            "generators": list(config.generators),
            "method_versions": method_versions(config.generators),
            "degradations": [asdict(item) for item in config.degradations],
            "ground_truth": "method.rewrites levels of the quadmask grown by the method's dilation",
            "rows": model.extra["rows"],
        },
        "config": config.to_json(),
        "feature_names": list(FEATURE_NAMES),
        "software": _software(),
        "reproduce": (
            f"python -m forensics.detectors.train --seed {config.seed} --footage-clips {config.footage_clips} "
            f"--suite-clips {config.suite_clips} --work WORK_DIR" + ("" if logo else " --no-logo")
        ),
        "trees": model.n_trees,
        "video_model": model.extra.get("video_model"),
        "video_model_note": model.extra.get("video_model_note", ""),
    }
    if evaluate:
        from forensics.evaluate import cross_validate

        folds = assign_folds(groups, folds=config.cv_folds, seed=config.seed)
        if len(folds) >= 2:
            sources = {path.name: _source_of(path, groups) for path in clips}
            card["cross_validation"] = cross_validate(
                examples, folds, config, sources=sources, logo=logo, progress=progress
            )
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    model_path = save_model(model, model_path, card=card)
    return model_path, card


def _source_of(path: Path, groups: dict[str, list[Path]]) -> str:
    return next((source for source, clips in groups.items() if path in clips), "unknown")


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m forensics.detectors.train [--seed N] [--work DIR] [--out MODEL.json]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("work/detector-training"))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--footage-clips", type=int, default=TrainingConfig.footage_clips)
    parser.add_argument("--suite-clips", type=int, default=TrainingConfig.suite_clips)
    parser.add_argument("--no-eval", action="store_true", help="skip the cross-validated figures")
    parser.add_argument("--no-logo", action="store_true", help="skip leave-one-generator-out in the folds")
    args = parser.parse_args(argv)
    config = TrainingConfig(seed=args.seed, footage_clips=args.footage_clips, suite_clips=args.suite_clips)
    path, card = train(
        config, args.work, model_path=args.out, evaluate=not args.no_eval, logo=not args.no_logo, progress=True
    )
    print(json.dumps({"model": str(path), "trees": card["trees"], "seconds": card["train_seconds"]}))
    figures = card.get("cross_validation", {})
    for key in ("summary", "by_source", "leave_one_generator_out"):
        for row in figures.get(key, []):
            print(json.dumps({"table": key, **row}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
