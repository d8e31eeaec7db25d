"""Evaluate detectors honestly: pixel localisation per frame, video-level separation, leave-one-generator-out.

Metrics (see :mod:`forensics.detectors.localisation` and ``docs/protocols.md``): per frame pixel AUC, F1 at 0.5,
F1-best, IoU and MCC, each also under TruFor's ignore band (``band_*`` columns: truth eroded 15 px -> positives,
dilated 11 px -> negatives), and ``max(F1, F1 of the inverted map)`` under its own name; per video AUC and
balanced accuracy (threshold 0.5) of the video scores, untouched videos against processed ones. Frame metrics are
averaged over frames that have filled pixels (each frame counts once); the ``frames`` column says how many.

The scores evaluated are the shipped output: block probabilities expanded to an 8-bit pixel heatmap exactly as
``void-eval detect`` writes it.

``void-eval detect-eval --clips DIR --methods a,b --out DIR`` (:func:`run_detect_eval`) splits the clips into
training and held-out clips by seed (clips cut from the same footage stay on one side), trains the fusion on the
training clips with all methods ("seen"), trains once more per method without it ("leave-one-generator-out"),
scores the held-out clips, also scores them with the shipped model (only clips whose footage it never saw), and
writes ``frames.csv``, ``videos.csv``, ``summary.csv``, ``logo.csv`` and two plots. :func:`cross_validate` is the
grouped cross-validation behind the shipped model's card.

Examples
--------
>>> from forensics.evaluate import summarise  # doctest: +SKIP
>>> frames, videos = evaluate_examples(load_model(), examples)  # doctest: +SKIP
>>> summarise(frames, videos)[["generator", "pixel_auc", "video_auc"]]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forensics.detectors.dataset import DEFAULT_DEGRADATIONS, UNTOUCHED, Degradation, Example
from forensics.detectors.fusion import FusionModel
from forensics.detectors.localisation import balanced_accuracy, binary_auc, frame_metrics
from forensics.detectors.scoring import heatmap_frame, video_score
from void_eval.atomic import atomic_path
from void_eval.errors import InputError

#: Fewest distinct clips behind an AUC worth reading as a figure; below it ``detect-eval`` prints a warning.
MIN_CLIPS_FOR_AUC = 5
PIXEL_METRICS: tuple[str, ...] = ("auc", "f1", "f1_best", "iou", "mcc", "f1_inverted_max")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "pixel_auc",
    "f1",
    "f1_best",
    "iou",
    "mcc",
    "f1_inverted_max",
    "band_pixel_auc",
    "band_f1",
    "band_f1_best",
    "band_iou",
    "band_mcc",
    "band_f1_inverted_max",
    "untouched_fpr",
)


def predict_example(model: FusionModel, example: Example) -> np.ndarray:
    """Block probabilities ``(T, rows, cols)`` of one example."""
    features = example.features
    flat = features.reshape(-1, features.shape[-1])
    return model.predict_proba(flat).reshape(features.shape[:-1]).astype(np.float32)


def evaluate_examples(
    model: FusionModel, examples: list[Example], *, label: str = "model"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-frame pixel metrics and per-video scores of ``model`` on ``examples``.

    Returns
    -------
    tuple of DataFrame
        ``frames``: one row per frame (clip, generator, degradation, frame, the metrics, ``band_*`` metrics,
        false-positive rate at 0.5); ``videos``: one row per video (clip, generator, degradation, processed,
        video_score).
    """
    frame_rows, video_rows = [], []
    for example in examples:
        probabilities = predict_example(model, example)
        height, width = example.truth.shape[1:]
        for index, block_map in enumerate(probabilities):
            heatmap = heatmap_frame(block_map, height, width, example.block)
            truth = example.truth[index]
            plain = frame_metrics(heatmap, truth)
            row = {
                "model": label,
                "clip": example.clip,
                "generator": example.generator,
                "degradation": example.degradation,
                "frame": index,
                "false_positive_rate": plain.false_positive_rate,
                "positives": plain.positives,
            }
            row.update({("pixel_auc" if key == "auc" else key): getattr(plain, key) for key in PIXEL_METRICS})
            if plain.positives:
                band = frame_metrics(heatmap, truth, ignore_band=True)
                row.update(
                    {f"band_{'pixel_auc' if key == 'auc' else key}": getattr(band, key) for key in PIXEL_METRICS}
                )
            else:
                row.update({f"band_{'pixel_auc' if key == 'auc' else key}": math.nan for key in PIXEL_METRICS})
            frame_rows.append(row)
        video_rows.append(
            {
                "model": label,
                "clip": example.clip,
                "generator": example.generator,
                "degradation": example.degradation,
                "processed": example.processed,
                "video_score": video_score(probabilities, model.extra.get("video_model")),
            }
        )
    return pd.DataFrame(frame_rows), pd.DataFrame(video_rows)


def _video_figures(videos: pd.DataFrame, generator: str | None) -> dict[str, float | int]:
    """Video AUC and balanced accuracy, with the counts behind them (videos per side, distinct clips)."""
    untouched = videos[~videos["processed"]]
    processed = videos[videos["processed"]] if generator is None else videos[videos["generator"] == generator]
    chosen = pd.concat([untouched, processed])
    counts = {
        "videos": len(chosen),
        "processed_videos": len(processed),
        "untouched_videos": len(untouched),
        "clips": int(chosen["clip"].nunique()) if len(chosen) else 0,
    }
    if chosen.empty:
        return {"video_auc": math.nan, "video_balanced_accuracy": math.nan, **counts}
    scores = chosen["video_score"].to_numpy()
    labels = chosen["processed"].to_numpy(bool)
    return {
        "video_auc": binary_auc(scores, labels),
        "video_balanced_accuracy": balanced_accuracy(scores, labels),
        **counts,
    }


def summarise(frames: pd.DataFrame, videos: pd.DataFrame) -> pd.DataFrame:
    """Means over frames with filled pixels and video-level figures, per generator and for all processed videos.

    Rows: one per (generator, degradation) plus ``degradation == "all"`` rows and a ``generator == "all"`` row.
    Video AUC/balanced accuracy compare the generator's videos with the untouched videos of the same
    degradation(s); ``processed_videos``, ``untouched_videos`` and ``clips`` (distinct clips among them) are the
    counts behind them, ``frames`` the count behind the pixel figures. Below :data:`MIN_CLIPS_FOR_AUC` clips an
    AUC is an anecdote (one clip's videos are one scene under several degradations): readers say so.
    """
    rows = []
    generators = sorted(set(frames["generator"]) - {UNTOUCHED})
    degradations = [*sorted(set(frames["degradation"])), "all"]
    for generator in [*generators, "all"]:
        for degradation in degradations:
            chosen_frames = frames if degradation == "all" else frames[frames["degradation"] == degradation]
            chosen_videos = videos if degradation == "all" else videos[videos["degradation"] == degradation]
            positive_frames = chosen_frames[
                (chosen_frames["positives"] > 0) & (chosen_frames["generator"] != UNTOUCHED)
            ]
            if generator != "all":
                positive_frames = positive_frames[positive_frames["generator"] == generator]
            untouched = chosen_frames[chosen_frames["generator"] == UNTOUCHED]
            row = {"generator": generator, "degradation": degradation, "frames": len(positive_frames)}
            for column in SUMMARY_COLUMNS[:-1]:
                values = positive_frames[column].dropna()
                row[column] = float(values.mean()) if len(values) else math.nan
            row["untouched_fpr"] = float(untouched["false_positive_rate"].mean()) if len(untouched) else math.nan
            row.update(_video_figures(chosen_videos, None if generator == "all" else generator))
            rows.append(row)
    return pd.DataFrame(rows)


def leave_one_generator_out(
    train_examples: list[Example], test_examples: list[Example], config
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train without each method in turn and score held-out clips of that method (plus untouched videos).

    Returns ``(table, frames, videos)``: ``table`` has one row per held-out generator with its pooled figures.
    """
    from forensics.detectors.train import fit_model

    methods = sorted(set(example.generator for example in train_examples) - {UNTOUCHED})
    rows, all_frames, all_videos = [], [], []
    for method in methods:
        if len(methods) < 2:
            break
        model = fit_model(train_examples, config, exclude=method)
        chosen = [example for example in test_examples if example.generator in (method, UNTOUCHED)]
        frames, videos = evaluate_examples(model, chosen, label=f"logo-without-{method}")
        all_frames.append(frames)
        all_videos.append(videos)
        summary = summarise(frames, videos)
        row = summary[(summary["generator"] == method) & (summary["degradation"] == "all")].iloc[0].to_dict()
        row["held_out_generator"] = row.pop("generator")
        rows.append(row)
    empty = pd.DataFrame()
    return (
        pd.DataFrame(rows),
        pd.concat(all_frames) if all_frames else empty,
        pd.concat(all_videos) if all_videos else empty,
    )


def cross_validate(
    examples: list[Example],
    folds: list[list[Path]],
    config,
    *,
    sources: dict[str, str] | None = None,
    logo: bool = True,
    progress: bool = False,
) -> dict:
    """Grouped cross-validation of the training recipe: refit without each fold, score that fold, pool the scores.

    Parameters
    ----------
    examples : list of Example
        Every clip's examples (all generators and degradations).
    folds : list of list of Path
        Clip folders per fold (:func:`forensics.detectors.train.assign_folds`); a fold may share no clip group
        with the other folds (checked: ``ValueError``).
    config : TrainingConfig
        The recipe refitted per fold (trees and video model, :func:`forensics.detectors.train.fit_model`).
    sources : dict, optional, keyword-only
        Clip name -> source (``footage``, ``suite``...) for the ``by_source`` rows.
    logo : bool, keyword-only
        Also refit without each generator in every fold and score that generator's videos (and the untouched ones)
        of the fold: leave-one-generator-out, pooled over folds.
    progress : bool, keyword-only
        Report each fold on stderr.

    Returns
    -------
    dict
        JSON-ready: ``folds`` (clip names), ``summary`` (:func:`summarise` of the pooled scores), ``by_source``
        (its ``degradation == "all"`` rows per source) and ``leave_one_generator_out`` (one row per generator).
        Pooled video AUCs compare scores of different fold models, as pooled cross-validation does.

    Examples
    --------
    >>> folds = assign_folds(groups, folds=4, seed=0)  # doctest: +SKIP
    >>> figures = cross_validate(examples, folds, TrainingConfig(), logo=False)  # doctest: +SKIP
    >>> [row["pixel_auc"] for row in figures["summary"] if row["degradation"] == "all"]  # doctest: +SKIP
    """
    from forensics.detectors.train import fit_model

    names = [[Path(path).name for path in fold] for fold in folds]
    methods = sorted({example.generator for example in examples} - {UNTOUCHED})
    frame_parts, video_parts, logo_frames, logo_videos = [], [], [], []
    for number, fold in enumerate(names):
        inside = set(fold)
        train_examples = [example for example in examples if example.clip not in inside]
        test_examples = [example for example in examples if example.clip in inside]
        shared = {example.group for example in train_examples} & {example.group for example in test_examples}
        if shared:
            raise ValueError(f"fold {number} shares clip groups with the other folds: {sorted(shared)}")
        if not train_examples or not test_examples:
            continue
        if progress:
            print(f"  cross-validation fold {number + 1}/{len(names)}: {len(fold)} clips", file=sys.stderr, flush=True)
        model = fit_model(train_examples, config)
        frames, videos = evaluate_examples(model, test_examples, label=f"fold-{number}")
        frame_parts.append(frames)
        video_parts.append(videos)
        if logo and len(methods) >= 2:
            _, frames, videos = leave_one_generator_out(train_examples, test_examples, config)
            logo_frames.append(frames)
            logo_videos.append(videos)
    if not frame_parts:
        raise ValueError("cross-validation needs at least one fold with clips on both sides")
    frames, videos = pd.concat(frame_parts), pd.concat(video_parts)
    by_source = []
    for source in sorted(set((sources or {}).values())):
        chosen = {name for name, value in sources.items() if value == source}
        summary = summarise(frames[frames["clip"].isin(chosen)], videos[videos["clip"].isin(chosen)])
        by_source.extend(summary[summary["degradation"] == "all"].assign(source=source).to_dict(orient="records"))
    logo_rows = []
    if logo_frames:
        pooled_frames, pooled_videos = pd.concat(logo_frames), pd.concat(logo_videos)
        for method in methods:
            label = f"logo-without-{method}"
            summary = summarise(
                pooled_frames[pooled_frames["model"] == label], pooled_videos[pooled_videos["model"] == label]
            )
            row = summary[(summary["generator"] == method) & (summary["degradation"] == "all")].iloc[0].to_dict()
            row["held_out_generator"] = row.pop("generator")
            logo_rows.append(row)
    return {
        "folds": names,
        "grouped_by": "clip group (meta.json source for real-footage clips, else the clip)",
        "summary": summarise(frames, videos).to_dict(orient="records"),
        "by_source": by_source,
        "leave_one_generator_out": logo_rows,
    }


def plot_summary(summary: pd.DataFrame, logo: pd.DataFrame, videos: pd.DataFrame, path: Path) -> Path:
    """Bar chart of pixel AUC / F1-best per generator (seen vs leave-one-out) and video-score histograms."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    seen = summary[(summary["degradation"] == "all") & (summary["generator"] != "all")]
    x = np.arange(len(seen))
    left.bar(x - 0.3, seen["pixel_auc"], 0.2, label="pixel AUC (seen)")
    left.bar(x - 0.1, seen["f1_best"], 0.2, label="F1-best (seen)")
    if not logo.empty:
        held = logo.set_index("held_out_generator").reindex(seen["generator"])
        left.bar(x + 0.1, held["pixel_auc"], 0.2, label="pixel AUC (left out)")
        left.bar(x + 0.3, held["f1_best"], 0.2, label="F1-best (left out)")
    left.axhline(0.85, color="grey", lw=0.8, ls="--")
    left.axhline(0.75, color="grey", lw=0.8, ls=":")
    left.set_xticks(x, seen["generator"], rotation=20)
    left.set_ylim(0, 1.25)
    left.set_yticks(np.linspace(0, 1, 6))
    clips = int(videos["clip"].nunique()) if len(videos) else 0
    few = f" - too few for AUCs (< {MIN_CLIPS_FOR_AUC})" if clips < MIN_CLIPS_FOR_AUC else ""
    left.set_title(f"{clips} held-out clip(s){few}, all degradations\n(dashed 0.85, dotted 0.75)", fontsize=10)
    left.legend(fontsize=7, loc="upper center", ncol=2)
    bins = np.linspace(0, 1, 26)
    for processed, name in ((False, "untouched"), (True, "processed")):
        right.hist(videos.loc[videos["processed"] == processed, "video_score"], bins=bins, alpha=0.6, label=name)
    right.set_xlabel("video score")
    right.set_ylabel("videos")
    counts = videos["processed"].value_counts()
    right.set_title(
        f"video-level separation (seen-generator model)\n{int(counts.get(True, 0))} processed vs "
        f"{int(counts.get(False, 0))} untouched videos from {clips} clip(s)",
        fontsize=10,
    )
    right.legend()
    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=110, format="png")
    plt.close(figure)
    return path


def _name(clips: str | Path | list[Path]) -> str:
    """How the clips were given, for messages and run.json: the folder, or the clip folders comma-separated."""
    return str(clips) if isinstance(clips, str | Path) else ",".join(str(path) for path in clips)


def find_clip_folders(root: str | Path) -> list[Path]:
    """Clip folders (holding ``input_video.mp4``) directly under ``root``, sorted; ``root`` itself if it is one."""
    root = Path(root)
    if not root.is_dir():
        raise InputError(root, "clips folder not found")
    if (root / "input_video.mp4").is_file():
        return [root]
    clips = sorted(path for path in root.iterdir() if (path / "input_video.mp4").is_file())
    if not clips:
        raise InputError(root, "holds no clip folders (no */input_video.mp4)")
    return clips


def unseen_examples(examples: list[Example], card: dict) -> list[Example]:
    """The examples a model never saw in training: neither their clip's name nor its group (the footage it was cut
    from, e.g. the shared BigBen sample) is the name or group of a clip in the model card's ``trained_on``.

    Examples
    --------
    >>> card = {"trained_on": {"clips": [{"name": "footage-00-BigBen", "group": "BigBen"}]}}
    >>> renamed = Example("my-bigben-cut", "telea", "lossless", np.zeros((1, 1, 1, 1)), None, None, 16, "BigBen")
    >>> other = Example("000_occlusion", "telea", "lossless", np.zeros((1, 1, 1, 1)), None, None, 16)
    >>> [example.clip for example in unseen_examples([renamed, other], card)]
    ['000_occlusion']
    """
    trained = card["trained_on"]["clips"]
    seen = {item["name"] for item in trained} | {item["group"] for item in trained if item.get("group")}
    return [example for example in examples if example.clip not in seen and example.group not in seen]


def run_detect_eval(
    clips_dir: str | Path | list[Path],
    methods: tuple[str, ...],
    out_dir: str | Path,
    *,
    seed: int = 0,
    test_share: float = 0.34,
    degradations: tuple[Degradation, ...] = DEFAULT_DEGRADATIONS,
    logo: bool = True,
    shipped_model: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Path]:
    """The full evaluation behind ``void-eval detect-eval``; returns the files written.

    Parameters
    ----------
    clips_dir : str or Path or list of Path
        Folder of clip folders (input video + quadmask), or the clip folders themselves.
    methods : tuple of str
        Registered removal methods to test (at least one).
    out_dir : str or Path
        Output folder (created); ``cache/`` inside keeps method outputs and features for reruns.
    seed : int, keyword-only
        Seed of the clip split and the retrained models.
    test_share : float, keyword-only
        Share of clip groups held out (clips cut from the same footage stay on one side).
    degradations : tuple of Degradation, keyword-only
        Distribution steps applied to every video.
    logo : bool, keyword-only
        Also run leave-one-generator-out (one extra training per method).
    shipped_model : str or Path, optional, keyword-only
        Model file to score as well (default: the shipped model), on the held-out clips whose name and group
        (the footage they were cut from) are not in its card's training set (rows ``model == "shipped"``; none when
        it saw all of them).
    progress : bool, keyword-only
        Say each stage on stderr as it starts.
    """
    from forensics.detectors.fusion import DEFAULT_MODEL_PATH, load_card, load_model
    from forensics.detectors.train import TrainingConfig, build_examples, fit_model, split_clips
    from void_eval.methods.registry import METHODS

    if not methods:
        raise ValueError("give at least one method")
    for method in methods:
        try:
            METHODS.get(method)
        except KeyError as err:
            raise InputError("--methods", str(err).strip("'\"")) from err
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = find_clip_folders(clips_dir) if isinstance(clips_dir, str | Path) else list(clips_dir)
    if len(clips) < 2:
        raise InputError(_name(clips_dir), f"needs at least 2 clips to hold some out, found {len(clips)}")

    def stage(text: str) -> None:
        if progress:
            print(f"detect-eval: {text}", file=sys.stderr, flush=True)

    config = replace(TrainingConfig(seed=seed), methods=tuple(methods), degradations=degradations)
    train_clips, test_clips = split_clips({"given": clips}, test_share=test_share, seed=seed)
    cache = out_dir / "cache"
    generators = config.generators
    per_clip = len(generators) * len(degradations)
    stage(f"features of {len(train_clips)} training and {len(test_clips)} held-out clips ({per_clip} videos each)")
    train_examples = build_examples(train_clips, generators, degradations, cache, block=config.block, progress=progress)
    test_examples = build_examples(test_clips, generators, degradations, cache, block=config.block, progress=progress)
    stage("training the fusion on every method (seen)")
    seen_model = fit_model(train_examples, config)
    frames, videos = evaluate_examples(seen_model, test_examples, label="seen")
    summary = summarise(frames, videos).assign(model="seen")
    shipped_path = Path(shipped_model) if shipped_model is not None else DEFAULT_MODEL_PATH
    shipped_summary = pd.DataFrame()
    if shipped_path.is_file():
        model = load_model(shipped_path)
        if model.extra.get("block", config.block) == config.block:
            # only clips whose content the shipped model never saw count: the others would flatter it
            unseen = unseen_examples(test_examples, load_card(shipped_path))
            if unseen:
                shipped_frames, shipped_videos = evaluate_examples(model, unseen, label="shipped")
                frames = pd.concat([frames, shipped_frames])
                videos = pd.concat([videos, shipped_videos])
                shipped_summary = summarise(shipped_frames, shipped_videos).assign(model="shipped")
    logo_table = pd.DataFrame()
    if logo:
        stage(f"leave-one-generator-out: {len(methods)} more trainings" if len(methods) > 1 else "no leave-one-out")
        logo_table, logo_frames, logo_videos = leave_one_generator_out(train_examples, test_examples, config)
        frames = pd.concat([frames, logo_frames])
        videos = pd.concat([videos, logo_videos])
    summary_all = pd.concat([summary, shipped_summary])
    written = {}
    for name, table in (("frames", frames), ("videos", videos), ("summary", summary_all), ("logo", logo_table)):
        path = out_dir / f"{name}.csv"
        with atomic_path(path) as temp:
            table.to_csv(temp, index=False)
        written[name] = path
    seen_videos = videos[videos["model"] == "seen"]
    written["plot"] = plot_summary(summary, logo_table, seen_videos, out_dir / "detection_summary.png")
    run = {
        "clips_dir": _name(clips_dir),
        "train_clips": [path.name for path in train_clips],
        "test_clips": [path.name for path in test_clips],
        "methods": list(methods),
        "degradations": [degradation.name for degradation in degradations],
        "seed": seed,
        "config": config.to_json(),
        "shipped_model": str(shipped_path) if not shipped_summary.empty else None,
    }
    run_path = out_dir / "run.json"
    run_path.write_text(json.dumps(run, indent=2))
    written["run"] = run_path
    return written
