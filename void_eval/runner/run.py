"""A whole run: discover clips, plan, execute cells on an engine, gather tidy results and provenance.

:func:`run_benchmark` is what ``void-eval run`` and ``void-eval bench`` call. It is resumable: finished cells are
found by their cache keys and reused (``force=True`` recomputes), every file is written atomically, and a clip
that cannot be loaded or a method that fails on it is reported (``run.json``, the log, the returned summary) and
skipped. Besides the per-cell files it writes::

    RUN_DIR/results.parquet, results.csv     tidy score rows (see :mod:`void_eval.runner.results`)
    RUN_DIR/aggregates.csv                   per method: mean over clips, bootstrap 95% CI (from 5 clips)
    RUN_DIR/aggregates_by_scenario.csv       per method and scenario family
    RUN_DIR/run.json                         provenance: versions, git, config, seeds, device, flow, timings
    RUN_DIR/run.log                          what happened, with tracebacks of failures
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from void_eval.atomic import os_error_cause, remove_stale_temp_files, write_errors
from void_eval.errors import InputError, OutputError
from void_eval.runlock import run_folder_lock
from void_eval.runner.cache import write_atomic, write_json_atomic
from void_eval.runner.cell import CellResult, RunOptions
from void_eval.runner.plan import MethodSpec, discover_clips, make_plan
from void_eval.runner.results import (
    AGGREGATES_BY_SCENARIO_CSV,
    AGGREGATES_CSV,
    MIN_CLIPS_FOR_CI,
    RUN_JSON,
    aggregate,
    gather_results,
    provenance,
    write_results,
)

log = logging.getLogger("void_eval.runner")

Engine = Literal["local", "ray"]
LOG_NAME = "run.log"
BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 2000


@dataclass
class RunSummary:
    """What a run did.

    Attributes
    ----------
    run_dir : Path
        The run folder.
    cells : list of CellResult
        One per planned cell, in plan order.
    skipped_clips : dict
        Clip folder -> why it could not be loaded.
    results_path : Path or None
        ``results.parquet`` (None when not scoring).
    """

    run_dir: Path
    cells: list[CellResult] = field(default_factory=list)
    skipped_clips: dict[str, str] = field(default_factory=dict)
    results_path: Path | None = None

    @property
    def failed(self) -> list[CellResult]:
        return [cell for cell in self.cells if cell.status != "done"]

    @property
    def ok(self) -> bool:
        """True when every clip loaded and every cell finished."""
        return not self.failed and not self.skipped_clips


class _RunLog(logging.FileHandler):
    """The run log's handler: a failed write is kept for the run to report once, not printed as a traceback."""

    failure: OSError | None = None

    def handleError(self, record: logging.LogRecord) -> None:
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, OSError) and self.failure is None:
            self.failure = error
        elif not isinstance(error, OSError):
            super().handleError(record)


def _attach_log(run_dir: Path) -> _RunLog:
    with write_errors(run_dir / LOG_NAME):
        handler = _RunLog(run_dir / LOG_NAME, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _load_clips(paths: Sequence[Path], skipped: dict[str, str]) -> list[Path]:
    from void_eval.clip import Clip

    good = []
    for path in paths:
        try:
            Clip.load(path)
        except Exception as err:  # a bad clip is reported and skipped, never fatal to the run
            skipped[str(path)] = f"{type(err).__name__}: {err}"
            log.error("skipping clip %s: %s", path, skipped[str(path)])
            continue
        good.append(path)
    return good


def _progress(total: int, enabled: bool, description: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="cell", disable=not enabled)


def run_benchmark(
    clips: Path | Sequence[Path],
    methods: Sequence[MethodSpec],
    out: str | Path,
    *,
    engine: Engine = "local",
    options: RunOptions | None = None,
    ray_address: str | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> RunSummary:
    """Run ``methods`` on ``clips`` into ``out`` and (unless ``options.score`` is False) score the outputs.

    Parameters
    ----------
    clips : Path or sequence of Path
        Clip folders, or folders of clip folders (see :func:`~void_eval.runner.plan.discover_clips`).
    methods : sequence of MethodSpec
        Method configurations (see :func:`~void_eval.runner.plan.parse_method_specs`).
    out : str or Path
        Run folder; created if needed, reused (resumed) if it exists.
    engine : {"local", "ray"}, keyword-only
        Where cells execute. ``ray`` needs the ``ray`` extra.
    options : RunOptions, keyword-only
        Force, device, metric preset, scoring on/off.
    ray_address : str, keyword-only
        Ray cluster to join (None: a local Ray instance); see :mod:`~void_eval.runner.engine_ray`.
    jobs : int, keyword-only
        Cells run at once: worker processes of the local engine (1: in this process) or Ray actors.
    progress : bool, keyword-only
        Show a progress bar on stderr.

    Returns
    -------
    RunSummary

    Raises
    ------
    InputError
        When no clip folder is found or none can be loaded; ValueError for an unknown engine.
    """
    if engine not in ("local", "ray"):
        raise ValueError(f"engine must be 'local' or 'ray', got {engine!r}")
    if not methods:
        raise ValueError("no methods given")
    options = options or RunOptions()
    _check_order(methods, engine, jobs)
    run_dir = Path(out)
    with run_folder_lock(run_dir, command="run", create=True):
        removed = remove_stale_temp_files(run_dir)  # what a killed run left; no other writer can be here
        handler = _attach_log(run_dir)
        try:
            for path in removed:
                log.info("removed %s, a temporary file a killed run left behind", path)
            summary = _run_cells(clips, methods, run_dir, engine, options, ray_address, jobs, progress)
        finally:
            log.removeHandler(handler)
            handler.close()
        if handler.failure is not None:  # run.log could not be written (a full disk): said once, not per line
            raise OutputError(run_dir / LOG_NAME, os_error_cause(handler.failure)) from handler.failure
        return summary


def _check_order(methods: Sequence[MethodSpec], engine: Engine, jobs: int) -> None:
    """Refuse to spread a method whose outputs depend on the clips it ran before over several workers."""
    from void_eval.methods.registry import METHODS

    if engine == "local" and jobs <= 1:
        return
    for spec in methods:
        try:
            check = getattr(METHODS.get(spec.name), "order_dependent", None)
        except (KeyError, ImportError):
            continue  # unknown or broken names are reported where the method is built
        if callable(check) and check(spec.params):
            raise InputError(
                "--jobs" if engine == "local" else "--engine",
                f"{spec.label} ({spec.name}) continues one random stream across clips (seeding=upstream), so spread "
                f"over workers its outputs would depend on which worker ran which clip; run it with --jobs 1 on the "
                f"local engine, or set {spec.label}.seeding=per-clip",
            )


def _run_cells(clips, methods, run_dir, engine, options, ray_address, jobs, progress) -> RunSummary:
    """The body of :func:`run_benchmark`, under the run folder's lock with the run log attached."""
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.perf_counter()
    summary = RunSummary(run_dir=run_dir)
    clip_paths = discover_clips(clips)
    loadable = _load_clips(clip_paths, summary.skipped_clips)
    if not loadable:
        raise InputError(str(clips), "no clip could be loaded: " + "; ".join(summary.skipped_clips.values()))
    cells = make_plan(loadable, methods)
    log.info("plan: %d method(s) x %d clip(s) = %d cells, engine %s", len(methods), len(loadable), len(cells), engine)
    bar = _progress(len(cells), progress, "run+score" if options.score else "run")

    def on_result(result: CellResult) -> None:
        for level, message in result.log_lines():
            log.log(level, message)
        bar.set_postfix_str(f"{result.method}/{result.clip}", refresh=False)
        bar.update(1)

    try:
        if engine == "ray":
            from void_eval.runner.engine_ray import execute_ray

            ray_run = execute_ray(
                cells, run_dir=run_dir, options=options, address=ray_address, jobs=jobs, on_result=on_result
            )
            summary.cells, execution = ray_run.results, ray_run.usage
        else:
            from void_eval.runner.engine_local import execute_local

            summary.cells = execute_local(cells, run_dir=run_dir, options=options, jobs=jobs, on_result=on_result)
            workers = min(jobs, len(cells)) if jobs > 1 and len(cells) > 1 else 0
            execution = {"jobs": jobs, "worker_processes": workers}
    finally:
        bar.close()
    results = None
    if options.score:
        results = gather_results(run_dir, summary.cells)
        summary.results_path, _ = write_results(run_dir, results)
        by_method = aggregate(results, by=("method",), n_boot=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)
        by_scenario = aggregate(results, by=("method", "scenario"), n_boot=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED)
        write_atomic(run_dir / AGGREGATES_CSV, lambda temp: by_method.to_csv(temp, index=False))
        write_atomic(run_dir / AGGREGATES_BY_SCENARIO_CSV, lambda temp: by_scenario.to_csv(temp, index=False))
    config = {
        "clips": [str(path) for path in ([clips] if isinstance(clips, str | Path) else clips)],
        "clip_folders": [str(Path(path).resolve()) for path in loadable],
        "methods": [spec.to_json() for spec in methods],
        "engine": engine,
        "jobs": jobs,
        "execution": execution,
        "options": asdict(options),
    }
    _write_provenance(run_dir, summary, results, config, options, started_at, started)
    return summary


def _write_provenance(run_dir, summary, results, config, options, started_at, started) -> None:
    record = provenance(
        started_at=started_at,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_s=time.perf_counter() - started,
        config=config,
        device=options.device,
        seeds={
            "bootstrap": BOOTSTRAP_SEED,
            "bootstrap_resamples": BOOTSTRAP_RESAMPLES,
            "bootstrap_min_clips": MIN_CLIPS_FOR_CI,
            "methods": _method_seeds(summary.cells),
        },
        flow_sources=_flow_sources(summary.cells),
        metric_info=_metric_info(summary.cells),
        methods=_method_records(summary.cells),
        skipped_clips=summary.skipped_clips,
        cells=[cell.to_json() for cell in summary.cells],
        rows=0 if results is None else len(results),
    )
    write_json_atomic(run_dir / RUN_JSON, record)
    log.info(
        "finished: %d cells done, %d failed, %d clips skipped",
        len(summary.cells) - len(summary.failed),
        len(summary.failed),
        len(summary.skipped_clips),
    )


def _method_records(cells: Sequence[CellResult]) -> dict[str, Any]:
    records: dict[str, Any] = {}
    for cell in cells:
        parts = cell.output_record.get("parts")
        if parts and cell.method not in records:
            records[cell.method] = {
                key: parts.get(key)
                for key in ("method_name", "method_class", "version", "params", "weights_sha256", "seed", "device")
            }
    return records


def _method_seeds(cells: Sequence[CellResult]) -> dict[str, Any]:
    return {name: record["seed"] for name, record in _method_records(cells).items()}


def _flow_sources(cells: Sequence[CellResult]) -> dict[str, Any]:
    """Which optical flow each method and the temporal metrics used."""
    sources: dict[str, Any] = {}
    for cell in cells:
        method_flow = cell.output_record.get("flow_source")
        if method_flow:
            sources.setdefault("methods", {})[cell.method] = method_flow
        meta = cell.scores_record.get("meta") or {}
        for key, value in meta.items():
            if "flow" in str(key).lower():
                sources.setdefault("metrics", {}).setdefault(str(key), value)
    return sources


def _metric_info(cells: Sequence[CellResult]) -> dict[str, Any]:
    """Result-row metric name -> direction, range and reference, as the metrics' specs declare them."""
    merged: dict[str, Any] = {}
    for cell in cells:
        for name, info in (cell.scores_record.get("metric_info") or {}).items():
            if info is not None or name not in merged:
                merged[name] = merged.get(name) or info
    return dict(sorted(merged.items()))
