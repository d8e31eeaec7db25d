"""CLI commands of the runner: ``void-eval methods``, ``run``, ``bench`` and ``report``.

Exit codes of ``run`` and ``bench``: 0 every clip loaded and every cell finished; 3 the run finished but some clips
were skipped or some cells failed (results of the others are written; see ``run.json`` and ``run.log``);
1 bad input (no clips, unknown method, ...), a run folder another process is writing (every command that writes
one holds its lock, :mod:`void_eval.runlock`) or a file that could not be written (disk full, ...); 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from void_eval.cli_options import ClipsOption, QuietOption, clip_sources, json_option, json_safe

EXIT_PARTIAL = 3

MethodsOption = Annotated[
    list[str],
    typer.Option(
        "--methods",
        help="Comma-separated methods, each NAME or LABEL=NAME (repeatable); see `void-eval methods`.",
        show_default=False,
    ),
]
OutOption = Annotated[Path, typer.Option("--out", help="Run folder (created, or resumed when it exists).")]
ParamOption = Annotated[
    list[str] | None,
    typer.Option("--param", help="Method parameter LABEL.KEY=VALUE (repeatable), e.g. telea.radius=5."),
]
EngineOption = Annotated[str, typer.Option("--engine", help="Where cells run: local or ray.")]
DeviceOption = Annotated[str, typer.Option("--device", help="cpu or cuda (methods that take a device, metrics).")]
ForceOption = Annotated[bool, typer.Option("--force", help="Recompute outputs and scores even when cached.")]
PresetOption = Annotated[str, typer.Option("--preset", help="Metric preset: default or propainter.")]
MetricsOption = Annotated[
    str | None, typer.Option("--metrics", help="Comma-separated metrics to compute (default: all).")
]
RayAddressOption = Annotated[
    str | None,
    typer.Option("--ray-address", help="Ray head HOST:PORT to join (default: start a local Ray); see README."),
]
RunJsonOption = Annotated[
    bool, json_option("the run's summary (cells done, failed, skipped clips, files; bench: the leaderboard)")
]
JobsOption = Annotated[
    int, typer.Option("--jobs", min=1, help="Cells at once: worker processes (local) or Ray actors (ray).")
]


def _check_choice(value: str, choices: tuple[str, ...], option: str) -> str:
    if value not in choices:
        raise typer.BadParameter(f"must be one of {', '.join(choices)}, got {value!r}", param_hint=option)
    return value


def _execute(
    clips: list[str],
    methods: list[str],
    out: Path,
    params: list[str] | None,
    engine: str,
    device: str,
    force: bool,
    preset: str,
    metrics: str | None,
    score: bool,
    ray_address: str | None,
    quiet: bool,
    jobs: int = 1,
    command: str = "run",
    as_json: bool = False,
):
    """Validate the arguments, then run (and for ``bench`` report) holding the run folder's lock throughout.

    With ``as_json`` the one JSON document is the only thing on stdout; every other line goes to stderr.
    """
    from void_eval.errors import InputError
    from void_eval.runlock import run_folder_lock
    from void_eval.runner.cell import RunOptions
    from void_eval.runner.plan import parse_method_specs
    from void_eval.runner.run import run_benchmark

    _check_choice(engine, ("local", "ray"), "--engine")
    _check_choice(preset, ("default", "propainter"), "--preset")
    if ray_address and engine != "ray":
        raise typer.BadParameter("needs --engine ray", param_hint="--ray-address")
    if not (device == "cpu" or device.startswith("cuda")):
        raise typer.BadParameter(f"must be cpu or cuda[:N], got {device!r}", param_hint="--device")
    sources = clip_sources(clips)
    if not sources:
        raise typer.BadParameter("give at least one --clips folder", param_hint="--clips")
    try:
        specs = parse_method_specs(methods, params or [])
        _check_methods_exist(specs)
    except (ValueError, KeyError) as err:
        raise InputError("--methods", str(err.args[0]) if err.args else str(err)) from err
    metric_names = tuple(name.strip() for name in metrics.split(",") if name.strip()) if metrics else None
    _check_metrics_exist(metric_names or ())
    options = RunOptions(force=force, device=device, preset=preset, score=score, metrics=metric_names)
    with run_folder_lock(out, command=command, create=True):
        summary = run_benchmark(
            sources, specs, out, engine=engine, options=options, ray_address=ray_address, jobs=jobs, progress=not quiet
        )
        document = _echo_summary(summary, out, as_json)
        if command == "bench":
            from void_eval.report.build import build_report, leaderboard_json, print_leaderboard

            report = build_report(out)
            if as_json:
                document.update(report=str(report), leaderboard=leaderboard_json(out))
            else:
                print_leaderboard(out)
                _echo_small_samples(out)
                typer.echo(f"report: {report}")
    if as_json:
        _echo_json(document)
    return summary


def _echo_summary(summary, out: Path, as_json: bool) -> dict:
    """Print the run's summary lines (to stderr under ``--json``); return them as the JSON document's start."""
    for path, reason in summary.skipped_clips.items():
        typer.echo(f"skipped clip {path}: {reason}", err=True)
    for cell in summary.failed:
        typer.echo(f"failed: {cell.method} on {cell.clip} ({cell.stage}): {cell.error}", err=True)
    done = len(summary.cells) - len(summary.failed)
    cached = sum(cell.output_cached for cell in summary.cells)
    typer.echo(f"{done}/{len(summary.cells)} cells done ({cached} outputs reused from cache) in {out}", err=as_json)
    if summary.results_path:
        typer.echo(f"results: {summary.results_path}", err=as_json)
    return {
        "run_dir": str(out),
        "ok": bool(summary.ok),
        "cells": len(summary.cells),
        "done": done,
        "cached": int(cached),
        "failed": [
            {"method": c.method, "clip": c.clip, "stage": c.stage, "error": str(c.error)} for c in summary.failed
        ],
        "skipped_clips": {str(path): reason for path, reason in summary.skipped_clips.items()},
        "results": str(summary.results_path) if summary.results_path else None,
    }


def _echo_json(document: dict) -> None:
    import json

    typer.echo(json.dumps(json_safe(document), indent=2, allow_nan=False))


def _check_metrics_exist(names: tuple[str, ...]) -> None:
    """Every ``--metrics`` name is registered, checked before any method runs (one line on the first unknown)."""
    from void_eval.metrics.registry import get_spec

    for name in names:
        try:
            get_spec(name)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--metrics") from err


def _check_methods_exist(specs) -> None:
    from void_eval.methods.registry import METHODS

    for spec in specs:
        METHODS.get(spec.name)


def methods_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> int:
    """List the registered removal methods: version, levels they rewrite, device, description."""
    import json

    from rich.console import Console
    from rich.table import Table

    from void_eval.methods.registry import METHODS

    rows = []
    for name in METHODS.names():
        try:
            factory = METHODS.get(name)
            rewrites = [level.name.lower() for level in sorted(getattr(factory, "rewrites", frozenset()))]
            rows.append(
                {
                    "name": name,
                    "version": str(getattr(factory, "version", "?")),
                    "rewrites": rewrites,
                    "device": str(getattr(factory, "device", "?")),
                    "description": str(getattr(factory, "description", "") or (factory.__doc__ or "").strip()[:80]),
                    "available": True,
                }
            )
        except Exception as err:  # an entry whose module cannot import is listed as unavailable, with why
            rows.append({"name": name, "available": False, "description": f"unavailable: {err}"})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return 0
    table = Table(title="methods")
    for column in ("name", "version", "rewrites", "device", "description"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["name"],
            row.get("version", "-"),
            ",".join(row.get("rewrites", [])) or "-",
            row.get("device", "-"),
            row["description"],
        )
    Console(width=160).print(table)
    return 0


def run_command(
    clips: ClipsOption,
    methods: MethodsOption,
    out: OutOption,
    param: ParamOption = None,
    engine: EngineOption = "local",
    device: DeviceOption = "cpu",
    force: ForceOption = False,
    preset: PresetOption = "default",
    metrics: MetricsOption = None,
    score: Annotated[bool, typer.Option("--score/--no-score", help="Score the outputs (default) or only run.")] = True,
    ray_address: RayAddressOption = None,
    jobs: JobsOption = 1,
    quiet: QuietOption = False,
    as_json: RunJsonOption = False,
) -> int:
    """Run methods on clips (resumable, cached) and score the outputs into RUN_DIR/results.parquet.

    Exit 0 when every clip loaded and every cell finished, 3 when some were skipped or failed (the rest are
    written; see RUN_DIR/run.json and run.log), 1 on bad input.
    """
    summary = _execute(
        clips, methods, out, param, engine, device, force, preset, metrics, score, ray_address, quiet,
        jobs=jobs, command="run", as_json=as_json,
    )  # fmt: skip
    return 0 if summary.ok else EXIT_PARTIAL


def bench_command(
    clips: ClipsOption,
    methods: MethodsOption,
    out: OutOption,
    param: ParamOption = None,
    engine: EngineOption = "local",
    device: DeviceOption = "cpu",
    force: ForceOption = False,
    preset: PresetOption = "default",
    metrics: MetricsOption = None,
    ray_address: RayAddressOption = None,
    jobs: JobsOption = 1,
    quiet: QuietOption = False,
    as_json: RunJsonOption = False,
) -> int:
    """Run + score + report: the whole benchmark; prints the leaderboard and the report's path.

    Exit codes as `run`.
    """
    summary = _execute(
        clips, methods, out, param, engine, device, force, preset, metrics, True, ray_address, quiet,
        jobs=jobs, command="bench", as_json=as_json,
    )  # fmt: skip
    return 0 if summary.ok else EXIT_PARTIAL


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (holding results.parquet and run.json).")],
    out: Annotated[Path | None, typer.Option("--out", help="Report folder (default RUN_DIR/report).")] = None,
    as_json: Annotated[bool, json_option("the report's path and the leaderboard")] = False,
) -> int:
    """Write RUN_DIR/report/index.html (self-contained) and report.md from a finished run."""
    from void_eval.report.build import build_report, leaderboard_json, print_leaderboard
    from void_eval.runlock import run_folder_lock

    with run_folder_lock(run_dir, command="report"):
        report = build_report(run_dir, out=out)
        if as_json:
            _echo_json({"run_dir": str(run_dir), "report": str(report), "leaderboard": leaderboard_json(run_dir)})
            return 0
        print_leaderboard(run_dir)
    _echo_small_samples(run_dir)
    typer.echo(f"report: {report}")
    return 0


def _echo_small_samples(run_dir: Path) -> None:
    """Say which methods rest on too few clips for a bootstrap CI (their means are printed without one)."""
    from void_eval.runner.results import MIN_CLIPS_FOR_CI, read_results

    clips = read_results(run_dir).groupby("method")["clip"].nunique()
    few = clips[clips < MIN_CLIPS_FOR_CI]
    if len(few):
        counts = ", ".join(f"{method} {count}" for method, count in few.items())
        typer.echo(
            f"note: means over fewer than {MIN_CLIPS_FOR_CI} clips have no CI (too few clips to bootstrap); "
            f"clips per method: {counts}"
        )


def register(app: typer.Typer) -> None:
    """Mount ``methods``, ``run``, ``bench`` and ``report`` on the ``void-eval`` app."""
    app.command("methods")(methods_command)
    app.command("run")(run_command)
    app.command("bench")(bench_command)
    app.command("report")(report_command)
