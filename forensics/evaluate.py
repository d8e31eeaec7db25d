"""``void-eval detect-eval``: train on some clips, score the held-out ones, also without each generator.

Metrics (see :mod:`forensics.detectors.figures` and :mod:`forensics.detectors.localisation`): per frame pixel AUC,
F1 at 0.5, F1-best, IoU and MCC of the heatmap exactly as ``void-eval detect`` writes it, each also under TruFor's
ignore band (``band_*`` columns), ``max(F1, F1 of the inverted map)`` under its own name, and whether the frame is
flagged; per video AUC, balanced accuracy at the calibrated flag threshold, and the share of videos flagged.
Frame metrics are averaged over frames that have filled pixels (each frame counts once).

:func:`run_detect_eval` splits the clips into training and held-out clips by seed (clips cut from the same footage
stay on one side), fits the whole recipe on the training clips with all generators ("seen";
:func:`forensics.detectors.validation.fit_model`: trees, and a video stage and calibration on cross-fitted
out-of-fold scores), once more per generator without it ("leave-one-generator-out"), scores the held-out clips,
also with the shipped model (only clips whose footage it never saw), and writes ``frames.csv``, ``videos.csv``,
``summary.csv``, ``logo.csv``, a plot and ``headline.json``: video and pixel AUC (pooled over left-out generators
when they ran) and untouched videos flagged, each with its 95% cluster-bootstrap interval
(:func:`forensics.detectors.intervals.headline`). The grouped cross-validation behind the shipped model's card is
:func:`forensics.detectors.validation.cross_validate`.

Examples
--------
>>> written = run_detect_eval("clips", ("telea", "patch"), "eval-out")  # doctest: +SKIP
>>> pd.read_csv(written["summary"])[["model", "generator", "pixel_auc", "video_auc"]]  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forensics.detectors.dataset import DEFAULT_DEGRADATIONS, UNTOUCHED, Degradation, Example
from forensics.detectors.figures import summarise
from forensics.detectors.intervals import headline, headline_lines
from void_eval.atomic import atomic_path, write_text_atomic
from void_eval.errors import InputError

#: Fewest distinct clips behind an AUC worth reading as a figure; below it ``detect-eval`` prints a warning.
MIN_CLIPS_FOR_AUC = 5


def plot_summary(
    summary: pd.DataFrame, logo: pd.DataFrame, videos: pd.DataFrame, path: Path, *, caption: str = ""
) -> Path:
    """Bar chart of pixel AUC / F1-best per generator (seen vs leave-one-out) and video-score histograms, with
    ``caption`` (the headline figures and their intervals) beneath."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    below = 0.13 * (caption.count("\n") + 1) + 0.1 if caption else 0.0  # inches of caption under the panels
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4 + below))
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
    left.set_title("held-out clips, all degradations (dashed 0.85, dotted 0.75)")
    left.legend(fontsize=7, loc="upper center", ncol=2)
    bins = np.linspace(0, 1, 26)
    for processed, name in ((False, "untouched"), (True, "processed")):
        right.hist(videos.loc[videos["processed"] == processed, "video_score"], bins=bins, alpha=0.6, label=name)
    right.axvline(0.5, color="grey", lw=0.8, ls="--")
    right.set_xlabel("calibrated video score (flagged from 0.5)")
    right.set_ylabel("videos")
    right.set_title("video-level separation (seen-generator model)")
    right.legend()
    if caption:
        figure.text(0.01, 0.01, caption, family="monospace", fontsize=7, va="bottom")
    figure.tight_layout(rect=(0, below / (4 + below), 1, 1))
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=110, format="png")
    plt.close(figure)
    return path


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
    >>> arrays = dict(signals=None, flows=None, frame_values=None, block_truth=None, truth_bits=None)
    >>> arrays.update(truth_shape=(1, 1, 1), block=16)
    >>> renamed = Example("my-bigben-cut", "telea", "lossless", **arrays, group="BigBen")
    >>> other = Example("000_occlusion", "telea", "lossless", **arrays)
    >>> [example.clip for example in unseen_examples([renamed, other], card)]
    ['000_occlusion']
    """
    trained = card["trained_on"]["clips"]
    seen = {item["name"] for item in trained} | {item["group"] for item in trained if item.get("group")}
    return [example for example in examples if example.clip not in seen and example.group not in seen]


def _score(model, examples: list[Example], chosen: list[int], *, label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables of ``model`` on the chosen examples (its own video stage and calibration)."""
    from forensics.detectors.validation import model_scores, predict_blocks, score_tables

    probabilities = {index: predict_blocks(model, examples[index].features()) for index in chosen}
    scores = {index: model_scores(model, value) for index, value in probabilities.items()}
    return score_tables(examples, probabilities, scores, label=label)


def _check_methods(methods: tuple[str, ...]) -> None:
    from forensics.detectors.generators import get_generator

    if not methods:
        raise ValueError("give at least one method")
    for method in methods:
        try:
            get_generator(method)
        except KeyError as err:
            raise InputError("--methods", str(err).strip("'\"")) from err


def _shipped(
    shipped_model: str | Path | None, tests: list[Example], block: int
) -> tuple[tuple[pd.DataFrame, ...] | None, str]:
    """The shipped model's tables on the test examples whose footage it never saw, and why there are none (or "")."""
    from forensics.detectors.fusion import load_card, load_model

    path = _shipped_path(shipped_model)
    if not path.is_file():
        return None, f"no model file at {path}"
    model = load_model(path)
    if model.extra.get("block", block) != block:
        return None, f"{path.name} works on {model.extra.get('block')}-px blocks, this evaluation on {block}"
    unseen = unseen_examples(tests, load_card(path))  # only footage the shipped model never saw counts
    if not unseen:
        return None, f"{path.name} was trained on the footage of every held-out clip"
    return _score(model, unseen, list(range(len(unseen))), label="shipped"), ""


def _shipped_path(shipped_model: str | Path | None) -> Path:
    """The model file ``detect-eval`` scores beside its own fit; a path given explicitly must exist."""
    from forensics.detectors.fusion import DEFAULT_MODEL_PATH

    if shipped_model is None:
        return DEFAULT_MODEL_PATH
    if not Path(shipped_model).is_file():
        raise InputError(shipped_model, "no such model file (shipped_model)")
    return Path(shipped_model)


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
        Fill generators to test (registered removal methods, ``patch`` or ``blur``; at least one).
    out_dir : str or Path
        Output folder (created); ``cache/`` inside keeps generator outputs and signals for reruns.
    seed : int, keyword-only
        Seed of the clip split and the fitted models.
    test_share : float, keyword-only
        Share of clip groups held out (clips cut from the same footage stay on one side).
    degradations : tuple of Degradation, keyword-only
        Distribution steps applied to every video.
    logo : bool, keyword-only
        Also run leave-one-generator-out (one more fit per method).
    shipped_model : str or Path, optional, keyword-only
        Model file to score as well (default: the shipped model), on the held-out clips whose name and group
        (the footage they were cut from) are not in its card's training set (rows ``model == "shipped"``).
    progress : bool, keyword-only
        Say each stage on stderr as it starts.
    """
    from forensics.detectors.folds import split_clips
    from forensics.detectors.recipe import TrainingConfig
    from forensics.detectors.train import build_examples
    from forensics.detectors.validation import collect_rows, fit_model

    _check_methods(methods)
    _shipped_path(shipped_model)
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
    per_clip = len(config.generators) * len(degradations)
    stage(f"signals of {len(train_clips)} training and {len(test_clips)} held-out clips ({per_clip} videos each)")
    train = build_examples(train_clips, config.generators, degradations, cache, block=config.block, progress=progress)
    tests = build_examples(test_clips, config.generators, degradations, cache, block=config.block, progress=progress)
    stage("fitting the detector on every method (seen)")
    rows = collect_rows(train, config)
    everything = list(range(len(tests)))
    frames, videos = _score(fit_model(train, rows, config), tests, everything, label="seen")
    summary = summarise(frames, videos).assign(model="seen")
    tables = [(frames, videos)]
    entries: dict = {None: (frames, videos)}
    shipped, not_shipped = _shipped(shipped_model, tests, config.block)
    if not_shipped:
        stage(f"shipped model not scored: {not_shipped}")
    if shipped is not None:
        tables.append(shipped)
        summary = pd.concat([summary, summarise(*shipped).assign(model="shipped")])
    logo_table = pd.DataFrame()
    if logo and len(methods) >= 2:
        stage(f"leave-one-generator-out: {len(methods)} more fits")
        logo_tables, logo_table = _leave_one_out(train, rows, tests, methods, config)
        tables.extend(logo_tables)
        entries.update(zip(methods, logo_tables, strict=True))
    frames = pd.concat([table[0] for table in tables])
    videos = pd.concat([table[1] for table in tables])
    written = _write_tables(out_dir, {"frames": frames, "videos": videos, "summary": summary, "logo": logo_table})
    written["headline"], caption = _write_headline(out_dir, entries)
    seen = summary[summary["model"] == "seen"]
    written["plot"] = plot_summary(
        seen, logo_table, videos[videos["model"] == "seen"], out_dir / "detection_summary.png", caption=caption
    )
    run = {"clips_dir": _name(clips_dir), "train_clips": [path.name for path in train_clips]}
    run.update(
        test_clips=[path.name for path in test_clips], config=config.to_json(), shipped_model=shipped is not None
    )
    if not_shipped:
        run["shipped_model_note"] = not_shipped
    written["run"] = out_dir / "run.json"
    write_text_atomic(written["run"], json.dumps(run, indent=2))
    return written


def _name(clips: str | Path | list[Path]) -> str:
    """The clips argument as text (a folder, or the clip folders joined by commas)."""
    return str(clips) if isinstance(clips, str | Path) else ",".join(str(path) for path in clips)


def _leave_one_out(train, rows, tests: list[Example], methods: tuple[str, ...], config) -> tuple[list, pd.DataFrame]:
    """Tables of a model fitted without each method on that method's and the untouched test videos, and one
    summary row per left-out method."""
    from forensics.detectors.validation import fit_model

    tables, summary_rows = [], []
    for method in methods:
        chosen = [i for i, example in enumerate(tests) if example.generator in (method, UNTOUCHED)]
        table = _score(fit_model(train, rows, config, exclude=method), tests, chosen, label=f"without-{method}")
        tables.append(table)
        row = summarise(*table)
        row = row[(row["generator"] == method) & (row["degradation"] == "all")]
        summary_rows.append(row.assign(held_out_generator=method).drop(columns="generator"))
    return tables, pd.concat(summary_rows)


def _write_headline(out_dir: Path, entries: dict) -> tuple[Path, str]:
    """``headline.json`` of the seen and left-out models' tables (:func:`.detectors.intervals.headline`); returns
    its path and its text lines."""
    figures = headline({key: pair[0] for key, pair in entries.items()}, {key: pair[1] for key, pair in entries.items()})
    path = out_dir / "headline.json"
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(figures, indent=2, allow_nan=False))
    return path, "\n".join(headline_lines(figures))


def _write_tables(out_dir: Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    written = {}
    for name, table in tables.items():
        path = out_dir / f"{name}.csv"
        with atomic_path(path) as temp:
            table.to_csv(temp, index=False)
        written[name] = path
    return written
