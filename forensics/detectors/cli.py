"""``void-eval detect``, ``void-eval detect-eval`` and ``void-eval check``.

Heavy imports happen inside the commands so that ``void-eval --help`` stays fast.

Exit codes: ``detect`` and ``detect-eval`` 0 on success, 1 on bad input; ``check``: one per verdict
(:data:`forensics.check.EXIT_CODES`: 0 ``declared-edit``/``no-evidence``, 1 ``tampered``, 3
``undeclared-edit-suspected``, 4 ``declared-edit-untrusted``, 5 ``provenance-unverified``), 2 when the file cannot
be judged (missing, a directory, unreadable, a bad ``--trust``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from void_eval.cli_options import ClipsOption, QuietOption, clip_sources, json_option, json_safe


def detect(
    videos: Annotated[list[Path], typer.Argument(help="Video files.", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for NAME_heatmap.mp4 and NAME_strip.png (NAME: see below)."),
    ] = None,
    as_json: Annotated[bool, json_option("one array (an object per file)")] = False,
    model_path: Annotated[Path | None, typer.Option("--model", help="Fusion model JSON (default: shipped).")] = None,
    quiet: QuietOption = False,
) -> int:
    """Score videos for filled-in (AI-deleted) regions: calibrated video and frame scores (the
    detector fires from the model card's threshold, 0.5 on that scale), heatmaps.

    NAME is the video's file stem; where two videos share a stem (two runs' output.mp4), it is prefixed with
    their parent folders until the names differ (telea_000_output), or numbered when the paths cannot tell.
    """
    from forensics.detectors.detect import detect_video
    from forensics.detectors.fusion import load_model

    names = output_names(videos)
    model = load_model(model_path)
    results = []
    for number, video in enumerate(videos, start=1):
        if not quiet:
            typer.echo(f"detect {number}/{len(videos)}: {video}", err=True)
        results.append(detect_video(video, model=model, out_dir=out, name=names[number - 1]))
    if as_json:
        payload = [
            {
                "file": str(result.file),
                "video_score": result.video_score,
                "frame_scores": result.frame_scores,
                "heatmap": str(result.heatmap) if result.heatmap else None,
                "strip": str(result.strip) if result.strip else None,
                "threshold": result.threshold,
            }
            for result in results
        ]
        typer.echo(json.dumps(json_safe(payload)))
        return 0
    _print_detections(results, model.version)
    return 0


def output_names(videos: list[Path]) -> list[str]:
    """A distinct file name per video: its stem, prefixed with parent folders where stems collide, else numbered.

    Examples
    --------
    >>> output_names([Path("a/telea/output.mp4"), Path("a/flow/output.mp4"), Path("b/clip.mp4")])
    ['telea_output', 'flow_output', 'clip']
    >>> output_names([Path("x.mp4"), Path("x.mp4")])
    ['x_1', 'x_2']
    """
    resolved = [Path(video).absolute() for video in videos]
    names = [video.stem for video in resolved]
    for stem in sorted({name for name in names if names.count(name) > 1}):
        group = [index for index, name in enumerate(names) if name == stem]
        paths = [resolved[index] for index in group]
        labels = [f"{stem}_{number}" for number in range(1, len(group) + 1)]  # when no folder tells them apart
        for depth in range(1, min(len(path.parts) for path in paths) - 1):
            prefixed = ["_".join([*path.parts[-1 - depth : -1], stem]) for path in paths]
            if len(set(prefixed)) == len(prefixed):
                labels = prefixed
                break
        for index, label in zip(group, labels, strict=True):
            names[index] = label
    if len(set(names)) < len(names):  # a prefixed name met another video's stem
        names = [f"{name}_{number}" for number, name in enumerate(names, start=1)]
    return names


def _print_detections(results, version: str) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"detect (model {version})")
    for column in ("file", "video score", "frames", "max frame", "frames flagged", "heatmap"):
        table.add_column(column)
    for result in results:
        scores = result.frame_scores
        table.add_row(
            str(result.file),
            f"{result.video_score:.3f}",
            str(len(scores)),
            f"{max(scores):.3f}",
            str(sum(score >= result.threshold for score in scores)),
            str(result.heatmap or "-"),
        )
    Console(width=160).print(table)


def detect_eval(
    clips: ClipsOption,
    methods: Annotated[str, typer.Option("--methods", help="Comma-separated method names.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", help="Output folder (CSV, plots, cache).", show_default=False)],
    seed: Annotated[int, typer.Option(help="Seed of the clip split and retrained models.")] = 0,
    test_share: Annotated[
        float, typer.Option(help="Share of clip groups held out (0-1); clips cut from one footage stay together.")
    ] = 0.34,
    degradations: Annotated[
        str, typer.Option(help="Comma-separated degradations: lossless, crf18, crf28, crf23-x0.75.")
    ] = "lossless,crf18,crf28,crf23-x0.75",
    logo: Annotated[bool, typer.Option("--logo/--no-logo", help="Leave-one-generator-out runs.")] = True,
    as_json: Annotated[bool, json_option("the summary rows (every count behind each AUC) and the files")] = False,
    quiet: QuietOption = False,
) -> int:
    """Evaluate detection on clips: pixel AUC/F1/IoU/MCC, video AUC, leave-one-generator-out; CSV + plots.

    Every AUC is printed with the counts behind it (held-out clips, processed vs untouched videos, frames); below
    5 held-out clips a warning says the AUCs are anecdotes.
    """
    import pandas as pd

    from forensics.detectors.dataset import DEFAULT_DEGRADATIONS
    from forensics.evaluate import run_detect_eval
    from void_eval.errors import InputError
    from void_eval.runner.plan import discover_clips

    known = {item.name: item for item in DEFAULT_DEGRADATIONS}
    chosen = tuple(name.strip() for name in degradations.split(",") if name.strip())
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise InputError("--degradations", f"unknown {unknown or 'empty'}; choose from {', '.join(known)}")
    names = tuple(name.strip() for name in methods.split(",") if name.strip())
    if not names:
        raise InputError("--methods", "give at least one method name")
    if not 0 < test_share < 1:
        raise InputError("--test-share", f"must be in (0, 1), got {test_share}")
    sources = clip_sources(clips)
    if not sources:
        raise typer.BadParameter("give at least one --clips folder", param_hint="--clips")
    written = run_detect_eval(
        discover_clips(sources),
        names,
        out,
        seed=seed,
        test_share=test_share,
        degradations=tuple(known[name] for name in chosen),
        logo=logo,
        progress=not quiet,
    )
    summary = pd.read_csv(written["summary"])
    logo_table = pd.read_csv(written["logo"]) if written["logo"].stat().st_size > 1 else pd.DataFrame()
    if as_json:
        document = {
            "summary": summary.to_dict(orient="records"),
            "leave_one_generator_out": logo_table.to_dict(orient="records"),
            "headline": json.loads(written["headline"].read_text()),
            "notes": small_sample_notes(summary),
            "files": {name: str(path) for name, path in written.items()},
        }
        typer.echo(json.dumps(json_safe(document), indent=2, allow_nan=False))
        return 0
    _print_detect_eval(summary, logo_table, written)
    return 0


_COUNTED = ["clips", "processed_videos", "untouched_videos"]


def small_sample_notes(summary) -> list[str]:
    """One line per model whose held-out clips are too few for its AUCs to mean much.

    Examples
    --------
    >>> import pandas as pd
    >>> small_sample_notes(pd.DataFrame({"model": ["seen"], "degradation": ["all"], "clips": [1]}))
    ['seen: only 1 held-out clip(s) behind its AUCs (fewer than 5): read them as anecdotes, not figures']
    """
    from forensics.evaluate import MIN_CLIPS_FOR_AUC

    notes = []
    rows = summary[summary["degradation"] == "all"]
    for model, group in rows.groupby("model", sort=False):
        clips = int(group["clips"].max()) if len(group) else 0
        if clips < MIN_CLIPS_FOR_AUC:
            notes.append(
                f"{model}: only {clips} held-out clip(s) behind its AUCs (fewer than {MIN_CLIPS_FOR_AUC}): "
                "read them as anecdotes, not figures"
            )
    return notes


def _print_detect_eval(summary, logo_table, written: dict[str, Path]) -> None:
    from forensics.detectors.intervals import headline_lines

    columns = ["model", "generator", "frames", "pixel_auc", "f1", "f1_best", "iou", "mcc", "video_auc", *_COUNTED]
    typer.echo("held-out clips, all degradations (frames: behind the pixel figures; clips and videos: video AUC)")
    typer.echo(summary[summary["degradation"] == "all"][columns].to_string(index=False, float_format="%.3f"))
    if not logo_table.empty:
        typer.echo("\nleave-one-generator-out:")
        shown = ["held_out_generator", "frames", "pixel_auc", "f1_best", "iou", "video_auc", *_COUNTED]
        typer.echo(logo_table[shown].to_string(index=False, float_format="%.3f"))
    typer.echo("")
    for line in headline_lines(json.loads(written["headline"].read_text())):
        typer.echo(line)
    for note in small_sample_notes(summary):
        typer.echo(f"warning: {note}")
    for name, path in written.items():
        typer.echo(f"{name}: {path}")


def check(
    file: Annotated[Path, typer.Argument(help="Video file.", show_default=False)],
    trust: Annotated[Path | None, typer.Option("--trust", help="PEM trust anchor(s) for the manifest.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Video score from which the detector fires (0-1; default: the model's calibrated one)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the heatmap video and strip.")] = None,
    as_json: Annotated[bool, json_option("the verdict")] = False,
) -> int:
    """Verdict from provenance first, then detection (see forensics.check for the table).

    Exit 0 declared-edit (trusted) or no-evidence, 1 tampered (a manifest is Invalid), 3 undeclared-edit-suspected,
    4 declared-edit-untrusted (a signer in the history is not trusted), 5 provenance-unverified (remote manifest,
    not fetched), 2 when FILE cannot be judged (missing, a directory, unreadable, a bad --trust).
    """
    from forensics.check import EXIT_CODES, check_file
    from void_eval.errors import InputError

    if threshold is not None and not 0 < threshold < 1:
        raise typer.BadParameter(f"must be in (0, 1), got {threshold}", param_hint="--threshold")
    try:
        result = check_file(file, trust=trust, threshold=threshold, out_dir=out)
    except InputError as err:  # nothing judged: kept apart from the verdicts' codes (1 is tampered)
        typer.echo(f"error: {err}", err=True)
        return 2
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(f"{result.file}: {result.verdict}")
        for line in result.evidence:
            typer.echo(f"  - {line}")
    return EXIT_CODES[result.verdict]


def register(app: typer.Typer) -> None:
    """Add ``detect``, ``detect-eval`` and ``check`` to the ``void-eval`` app."""
    app.command("detect")(detect)
    app.command("detect-eval")(detect_eval)
    app.command("check")(check)
