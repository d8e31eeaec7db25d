"""``make demo``: the built-in default job, end to end.

1. Check the real upstream sample clips (``../shared/data/void_samples`` beside the checkout, or the folder named by
   ``VOID_EVAL_SAMPLES``): a quick sanity check of the core on real data (skipped, with a note, when absent).
2. Generate the counterfactual physics suite (``demo`` preset: 8 clips, 48 frames, 192x336) into ``OUT/suite`` —
   reused when it is already there and complete.
3. Benchmark every CPU method on it (``OUT/run``: cached, resumable) with :data:`DEMO_METRICS`, two workers.
4. Write the report (``OUT/run/report/index.html`` and ``report.md``), print the leaderboard, the sanity bars
   and the report's path.

The demo scores a fast subset of the metrics to stay within about three minutes on two cores (SSIM and LPIPS
dominate the scoring time); ``void-eval bench`` computes every metric by default.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer

from void_eval.clip_check import check_clip

SAMPLES_ENV = "VOID_EVAL_SAMPLES"
#: Metrics of the demo's benchmark (every physical-plausibility metric, PSNR fidelity, temporal stability, seams).
DEMO_METRICS: tuple[str, ...] = (
    "psnr",
    "cf_score",
    "motion_agreement",
    "traj_err",
    "shadow_residual",
    "ewarp",
    "flicker",
    "seam",
)
DEMO_JOBS = 2


def sample_clips_root() -> Path:
    """Folder of the real upstream sample clips: ``$VOID_EVAL_SAMPLES`` or ``../shared/data/void_samples``."""
    if os.environ.get(SAMPLES_ENV):
        return Path(os.environ[SAMPLES_ENV])
    return Path(__file__).resolve().parents[2] / "shared" / "data" / "void_samples"


def check_samples(out: Path) -> bool:
    """Check the sample clips, print one line each and write ``out/clip_check.json``; False if any is invalid."""
    root = sample_clips_root()
    clips = sorted(path for path in root.iterdir() if path.is_dir()) if root.is_dir() else []
    if not clips:
        typer.echo(f"[1/4] sample clips: none at {root} (set {SAMPLES_ENV}); skipped")
        return True
    reports = [check_clip(path) for path in clips]
    typer.echo(f"[1/4] sample clips ({root}):")
    for report in reports:
        fractions = report.fractions or {}
        shares = ", ".join(f"{name} {value:.2%}" for name, value in fractions.items())
        status = "valid" if report.valid else "INVALID"
        typer.echo(
            f"  {report.clip}: {status}, {report.frames} frames {report.width}x{report.height}, "
            f"mask {report.mask_file}: {shares}"
        )
        for line in report.warnings + report.errors:
            typer.echo(f"    - {line}")
    (out / "clip_check.json").write_text(json.dumps([report.to_json() for report in reports], indent=2))
    return all(report.valid for report in reports)


def _suite(out: Path, progress: bool) -> Path:
    from void_eval.clip import Clip
    from void_eval.suite import make_suite

    folder = out / "suite"
    stamp = folder / ".demo-complete"
    if stamp.exists():
        try:
            clips = [Clip.load(path) for path in sorted(folder.iterdir()) if path.is_dir()]
        except Exception:  # an edited or damaged suite is regenerated below
            clips = []
        if len(clips) == int(stamp.read_text() or 0):
            typer.echo(f"[2/4] suite: reusing {len(clips)} clips in {folder}")
            return folder
    started = time.perf_counter()
    typer.echo(f"[2/4] suite: simulating and rendering the demo preset into {folder}")
    paths = make_suite(folder, preset="demo", force=True, progress=progress)
    stamp.write_text(str(len(paths)))
    typer.echo(f"[2/4] suite: {len(paths)} clips in {folder} ({time.perf_counter() - started:.1f} s)")
    return folder


def bar_checks(results, cells: list[dict]) -> list[tuple[str, bool]]:
    """The issue's sanity bars on a results table and run.json's cell records: (description, passed).

    The flowprop-vs-telea bar is checked on every clip where flowprop could see the background behind the
    object at some frame (it propagated more than half of the hole); where it never could (an object that never
    moves, as in ``support`` scenes) both methods fall back to the same Telea fill, so there flowprop must only
    not lose (within 0.05 dB). All suite cameras are static.
    """
    checks = []
    cf = results[(results["metric"] == "cf_score") & (results["region"] == "affected")]
    means = cf.groupby("method")["value"].mean().dropna()
    if {"oracle", "copy"} <= set(means.index) and len(means) > 2:
        checks.append(("oracle best on affected-region cf_score", bool(means.idxmax() == "oracle")))
        checks.append(("copy worst on affected-region cf_score", bool(means.idxmin() == "copy")))
    psnr = results[(results["metric"] == "psnr") & (results["region"] == "remove")]
    table = psnr.pivot_table(index="clip", columns="method", values="value", aggfunc="first")
    if {"flowprop", "telea"} <= set(table.columns):
        propagated = {
            cell["clip"]: (cell.get("method_run") or {}).get("propagated_fraction", 0.0)
            for cell in cells
            if cell["method"] == "flowprop" and cell.get("status") == "done"
        }
        seen = [clip for clip in table.index if propagated.get(clip, 0.0) > 0.5]
        unseen = [clip for clip in table.index if clip not in seen]
        margin = table["flowprop"] - table["telea"]
        wins = int((margin[seen] > 0).sum())
        checks.append(
            (
                f"flowprop beats telea on remove-region PSNR where the background shows ({wins}/{len(seen)} clips, "
                f"mean {margin[seen].mean():+.2f} dB)",
                bool(seen) and wins == len(seen),
            )
        )
        if unseen:
            checks.append(
                (
                    f"flowprop no worse than telea where the background never shows ({len(unseen)} clips, both Telea)",
                    bool((margin[unseen] > -0.05).all()),
                )
            )
    return checks


def run_demo(out: Path, *, progress: bool = True) -> int:
    """Run the demo into ``out``; returns the exit code (0 when everything worked and every bar holds).

    ``progress`` shows the suite's and the bench's progress bars (stderr). The caller prints the finishing line
    (signing comes after this).
    """
    from void_eval.methods.registry import CPU_METHODS
    from void_eval.report.build import build_report, print_leaderboard
    from void_eval.runner.cell import RunOptions
    from void_eval.runner.plan import parse_method_specs
    from void_eval.runner.results import read_results
    from void_eval.runner.run import run_benchmark

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    samples_ok = check_samples(out)
    suite = _suite(out, progress)
    run_dir = out / "run"
    bench_started = time.perf_counter()
    summary = run_benchmark(
        suite,
        parse_method_specs(list(CPU_METHODS)),
        run_dir,
        options=RunOptions(metrics=DEMO_METRICS),
        jobs=DEMO_JOBS,
        progress=progress,
    )
    cached = sum(cell.output_cached for cell in summary.cells)
    typer.echo(
        f"[3/4] bench: {len(summary.cells)} cells ({', '.join(CPU_METHODS)} x {len(summary.cells) // len(CPU_METHODS)}"
        f" clips; {cached} reused from cache) in {time.perf_counter() - bench_started:.1f} s"
    )
    for cell in summary.failed:
        typer.echo(f"  failed: {cell.method} on {cell.clip} ({cell.stage}): {cell.error}")
    report = build_report(run_dir)
    typer.echo("[4/4] report")
    print_leaderboard(run_dir)
    record = json.loads((run_dir / "run.json").read_text())
    checks = bar_checks(read_results(run_dir), record.get("cells", []))
    for description, passed in checks:
        typer.echo(f"  {'ok  ' if passed else 'FAIL'} {description}")
    typer.echo(f"report: {report}")
    return 0 if samples_ok and summary.ok and all(passed for _, passed in checks) else 1
