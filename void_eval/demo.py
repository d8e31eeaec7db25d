"""``make demo``: the built-in default job.

For now it checks the real upstream sample clips (``../shared/data/void_samples`` beside the checkout, or the
folder named by ``VOID_EVAL_SAMPLES``) and writes the report as JSON; later capabilities extend it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from void_eval.clip_check import check_clip
from void_eval.errors import InputError

SAMPLES_ENV = "VOID_EVAL_SAMPLES"


def sample_clips_root() -> Path:
    """Folder of the real upstream sample clips: ``$VOID_EVAL_SAMPLES`` or ``../shared/data/void_samples``."""
    if os.environ.get(SAMPLES_ENV):
        return Path(os.environ[SAMPLES_ENV])
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "void_samples"


def run_demo(out: Path) -> int:
    """Check the sample clips and write ``out/clip_check.json``; returns the exit code."""
    root = sample_clips_root()
    clips = sorted(path for path in root.iterdir() if path.is_dir()) if root.is_dir() else []
    if not clips:
        raise InputError(root, f"no sample clips found (set {SAMPLES_ENV} to a folder of clip folders)")
    out.mkdir(parents=True, exist_ok=True)
    reports = [check_clip(path) for path in clips]
    for report in reports:
        fractions = report.fractions or {}
        shares = ", ".join(f"{name} {value:.2%}" for name, value in fractions.items())
        status = "valid" if report.valid else "INVALID"
        typer.echo(
            f"{report.clip}: {status}, {report.frames} frames {report.width}x{report.height}, "
            f"mask {report.mask_file}: {shares}"
        )
        for line in report.warnings + report.errors:
            typer.echo(f"  - {line}")
    target = out / "clip_check.json"
    target.write_text(json.dumps([report.to_json() for report in reports], indent=2))
    typer.echo(f"wrote {target}")
    return 0 if all(report.valid for report in reports) else 1
