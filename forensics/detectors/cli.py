"""``void-eval detect``, ``void-eval detect-eval`` and ``void-eval check``.

Heavy imports happen inside the commands so that ``void-eval --help`` stays fast.

Exit codes: ``detect`` and ``detect-eval`` 0 on success, 1 on bad input; ``check`` 0 for ``declared-edit`` and
``no-evidence``, 3 for ``undeclared-edit-suspected``, 4 for ``declared-edit-untrusted``, 5 for ``tampered``, 1 on bad
input (the table in :mod:`forensics.check`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def detect(
    videos: Annotated[list[Path], typer.Argument(help="Video files.", show_default=False)],
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for <stem>_heatmap.mp4 and <stem>_strip.png.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one object per file.")] = False,
    model_path: Annotated[Path | None, typer.Option("--model", help="Fusion model JSON (default: shipped).")] = None,
) -> int:
    """Score videos for filled-in (AI-deleted) regions: calibrated video and frame scores (flagged from the
    threshold, 0.5), heatmaps."""
    from forensics.detectors.detect import detect_video
    from forensics.detectors.fusion import load_model
    from void_eval.errors import InputError

    if out is not None:
        stems: dict[str, Path] = {}
        for video in videos:
            if video.stem in stems:
                raise InputError(video, f"has the same name stem as {stems[video.stem]}: their heatmaps would collide")
            stems[video.stem] = video
    model = load_model(model_path)
    results = []
    for video in videos:
        results.append(detect_video(video, model=model, out_dir=out))
    if as_json:
        payload = [
            {
                "file": str(result.file),
                "video_score": result.video_score,
                "frame_scores": result.frame_scores,
                "heatmap": str(result.heatmap) if result.heatmap else None,
                "threshold": result.threshold,
            }
            for result in results
        ]
        typer.echo(json.dumps(payload))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"detect (model {model.version})")
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
    return 0


def detect_eval(
    clips: Annotated[Path, typer.Option("--clips", help="Folder of clip folders.", show_default=False)],
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
) -> int:
    """Evaluate detection on clips: pixel AUC/F1/IoU/MCC, video AUC, leave-one-generator-out; CSV + plots."""
    import pandas as pd

    from forensics.detectors.dataset import DEFAULT_DEGRADATIONS
    from forensics.evaluate import run_detect_eval
    from void_eval.errors import InputError

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
    written = run_detect_eval(
        clips,
        names,
        out,
        seed=seed,
        test_share=test_share,
        degradations=tuple(known[name] for name in chosen),
        logo=logo,
        progress=True,
    )
    summary = pd.read_csv(written["summary"])
    columns = ["model", "generator", "degradation", "frames", "pixel_auc", "f1", "f1_best", "iou", "mcc", "video_auc"]
    typer.echo(summary[summary["degradation"] == "all"][columns].to_string(index=False, float_format="%.3f"))
    if written["logo"].stat().st_size > 1:
        logo_table = pd.read_csv(written["logo"])
        if not logo_table.empty:
            typer.echo("\nleave-one-generator-out:")
            shown = ["held_out_generator", "frames", "pixel_auc", "f1_best", "iou", "video_auc"]
            typer.echo(logo_table[shown].to_string(index=False, float_format="%.3f"))
    for name, path in written.items():
        typer.echo(f"{name}: {path}")
    return 0


def check(
    file: Annotated[Path, typer.Argument(help="Video file.", show_default=False)],
    trust: Annotated[Path | None, typer.Option("--trust", help="PEM trust anchor(s) for the manifest.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(help="Video score from which the detector fires (0-1; default: the model's calibrated one)."),
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for the heatmap video and strip.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> int:
    """Verdict from provenance first, then detection: tampered, declared-edit(-untrusted), undeclared-edit-suspected
    or no-evidence.

    Exit 0 for declared-edit and no-evidence, 3 undeclared-edit-suspected, 4 declared-edit-untrusted (the removal
    record is signed by a key that does not chain to --trust), 5 tampered (changed after signing), 1 bad input.
    """
    from forensics.check import EXIT_CODES, check_file
    from void_eval.errors import InputError

    if threshold is not None and not 0 < threshold < 1:
        raise InputError("--threshold", f"must be in (0, 1), got {threshold}")
    result = check_file(file, trust=trust, threshold=threshold, out_dir=out)
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
