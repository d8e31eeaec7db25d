"""One cell of a run: a method's output on one clip, then its scores — each cached under its key.

:func:`execute_cell` is what both engines call (the local engine in-process with a method built once per method
group, the Ray engine inside a task). It never raises for a problem with the clip or the method: the failure is
returned in :class:`CellResult` with its traceback (the run logs it) so one bad clip does not stop a run. What
happened is returned too (:meth:`CellResult.log_lines`), so the run log is written by the driver whatever
process or node executed the cell.
"""

from __future__ import annotations

import inspect
import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from void_eval.errors import OutputError
from void_eval.hashing import cache_key, file_sha256
from void_eval.runner.cache import (
    CellStore,
    output_key_parts,
    score_key_parts,
    write_atomic,
    write_json_atomic,
)
from void_eval.runner.plan import Cell, MethodSpec

log = logging.getLogger("void_eval.runner")

#: Columns of every score row, in order.
RESULT_COLUMNS = ("method", "clip", "scenario", "region", "metric", "reference", "value", "higher_is_better", "note")


@dataclass(frozen=True)
class RunOptions:
    """Settings shared by every cell of a run.

    Attributes
    ----------
    force : bool
        Recompute outputs and scores even when cached.
    device : str
        ``cpu`` or ``cuda``: passed to methods that take a ``device`` parameter and to the metrics.
    preset : str
        Metric preset for :func:`void_eval.metrics.score.score_clip`.
    score : bool
        Score outputs (``run`` without scoring sets False).
    chunk_size : int
        Frames per chunk when scoring.
    metrics : tuple of str or None
        Metric names to compute (None: :func:`~void_eval.metrics.score.score_clip`'s defaults).
    """

    force: bool = False
    device: str = "cpu"
    preset: str = "default"
    score: bool = True
    chunk_size: int = 16
    metrics: tuple[str, ...] | None = None


@dataclass
class CellResult:
    """What happened to one cell (picklable, so Ray tasks can return it)."""

    method: str
    clip: str
    status: Literal["done", "failed"]
    output_cached: bool = False
    scores_cached: bool = False
    run_s: float | None = None
    score_s: float | None = None
    error: str | None = None
    stage: str | None = None
    output_record: dict[str, Any] = field(default_factory=dict)
    scores_record: dict[str, Any] = field(default_factory=dict)
    traceback: str | None = None

    def log_lines(self) -> list[tuple[int, str]]:
        """``(logging level, message)`` lines describing this cell, for the run log."""
        where = f"{self.method} on {self.clip}"
        if self.status != "done":
            return [(logging.ERROR, f"{where} failed at {self.stage}: {self.error}\n{self.traceback or ''}".rstrip())]
        output = "cached output" if self.output_cached else f"ran in {self.run_s:.2f} s"
        lines = [(logging.INFO, f"{where}: {output} ({str(self.output_record.get('key', ''))[:12]})")]
        if self.scores_record:
            scores = "cached scores" if self.scores_cached else f"scored in {self.score_s:.2f} s"
            lines.append((logging.INFO, f"{where}: {scores} ({self.scores_record.get('rows')} rows)"))
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "clip": self.clip,
            "status": self.status,
            "output_cached": self.output_cached,
            "scores_cached": self.scores_cached,
            "run_s": self.run_s,
            "score_s": self.score_s,
            "error": self.error,
            "stage": self.stage,
            "output_key": self.output_record.get("key"),
            "output_sha256": self.output_record.get("output_sha256"),
            "frames": self.output_record.get("frames"),
            "scores_key": self.scores_record.get("key"),
            "method_run": self.output_record.get("last_run"),
            "input_sha256": self.output_record.get("parts", {}).get("input_sha256"),
            "mask_sha256": self.output_record.get("parts", {}).get("mask_sha256"),
            "counterfactual_sha256": self.output_record.get("parts", {}).get("counterfactual_sha256"),
            "prompt_sha256": self.output_record.get("parts", {}).get("prompt_sha256"),
            "score_meta": self.scores_record.get("meta"),
        }


def build_method(spec: MethodSpec, *, device: str = "cpu"):
    """Instantiate ``spec``; ``device`` is passed when the method's constructor takes one and the spec does not."""
    from void_eval.methods.registry import METHODS, get_method

    params = dict(spec.params)
    factory = METHODS.get(spec.name)
    try:
        accepts_device = "device" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        accepts_device = False
    if accepts_device and "device" not in params:
        params["device"] = device
    return get_method(spec.name, **params)


def _score(clip, output: Path, options: RunOptions):
    from void_eval.metrics.score import score_clip

    return score_clip(
        clip,
        output,
        preset=options.preset,
        device=options.device,
        chunk_size=options.chunk_size,
        metrics=list(options.metrics) if options.metrics is not None else None,
    )


def _tidy(frame, cell: Cell, scenario: str):
    import pandas as pd

    missing = {"region", "metric", "reference", "value", "higher_is_better"} - set(frame.columns)
    if missing:
        raise RuntimeError(f"score_clip returned no {sorted(missing)} column(s)")
    tidy = pd.DataFrame(
        {
            "method": cell.method.label,
            "clip": cell.clip_name,
            "scenario": scenario,
            "region": frame["region"].astype(str),
            "metric": frame["metric"].astype(str),
            "reference": frame["reference"].astype(str),
            "value": frame["value"].astype("float64"),
            "higher_is_better": frame["higher_is_better"].astype(bool),
            "note": frame["note"].astype(str) if "note" in frame.columns else "",
        },
        columns=list(RESULT_COLUMNS),
    )
    return tidy.reset_index(drop=True)


def execute_cell(cell: Cell, *, run_dir: str | Path, options: RunOptions, method=None) -> CellResult:
    """Run (or reuse) the output and the scores of one cell.

    Parameters
    ----------
    cell : Cell
        Method and clip.
    run_dir : str or Path
        The run folder (see :mod:`void_eval.runner.cache` for its layout).
    options : RunOptions
        Shared settings.
    method : Method, optional
        An instance of ``cell.method`` to reuse; built from the spec when None.

    Returns
    -------
    CellResult
        ``status="failed"`` with ``stage`` and ``error`` when anything went wrong.
    """
    from void_eval.clip import Clip

    store = CellStore(run_dir)
    label = cell.method.label
    result = CellResult(method=label, clip=cell.clip_name, status="failed")
    stage = "load"
    try:
        clip = Clip.load(cell.clip_path)
        stage = "method"
        if method is None:
            method = build_method(cell.method, device=options.device)
        parts = output_key_parts(label, method, clip)
        key = cache_key(parts)
        record = None if options.force else store.cached_output(label, cell.clip_name, key)
        if record is None:
            stage = "run"
            output = store.output_path(label, cell.clip_name)
            output.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            write_atomic(output, lambda temp: _run_method(method, clip, temp))
            wall = time.perf_counter() - started
            record = {
                "key": key,
                "parts": parts,
                "output_sha256": file_sha256(output),
                "wall_s": wall,
                "frames": clip.frames,
                "last_run": dict(getattr(method, "last_run", {}) or {}),
                "flow_source": getattr(method, "flow_source", None),
            }
            write_json_atomic(store.output_record_path(label, cell.clip_name), record)
        else:
            result.output_cached = True
        result.output_record = record
        result.run_s = float(record["wall_s"])
        if options.score:
            stage = "score"
            _score_cell(cell, clip, store, record, options, result)
        result.status = "done"
        result.stage = None
    except OutputError:  # a full disk or unwritable folder is the run's problem, not this cell's: stop the run
        raise
    except Exception as err:  # one bad clip or method must not stop the run: reported, logged, returned
        result.error = f"{type(err).__name__}: {err}"
        result.stage = stage
        result.traceback = traceback.format_exc()
    return result


def _run_method(method, clip, temp: Path) -> None:
    written = Path(method.run(clip, temp))
    if written.resolve() != temp.resolve():
        raise RuntimeError(f"method {method.name} wrote {written} instead of the path it was given ({temp})")


def _score_cell(cell: Cell, clip, store: CellStore, record: dict, options: RunOptions, result: CellResult) -> None:
    label = cell.method.label
    parts = score_key_parts(
        record["key"],
        record["output_sha256"],
        clip,
        preset=options.preset,
        device=options.device,
        metrics=options.metrics,
    )
    key = cache_key(parts)
    scores_record = None if options.force else store.cached_scores(label, cell.clip_name, key)
    if scores_record is None:
        started = time.perf_counter()
        frame = _score(clip, store.output_path(label, cell.clip_name), options)
        tidy = _tidy(frame, cell, clip.scenario)
        wall = time.perf_counter() - started
        write_atomic(store.scores_path(label, cell.clip_name), lambda temp: tidy.to_parquet(temp, index=False))
        meta = dict(getattr(frame, "attrs", {}).get("meta", {}) or {})
        from void_eval.metrics.registry import DEFAULT_METRICS, row_infos

        infos = row_infos(options.metrics or DEFAULT_METRICS)  # what the metrics' specs say of their rows
        scores_record = {
            "key": key,
            "parts": parts,
            "wall_s": wall,
            "rows": len(tidy),
            "meta": meta,
            "metric_info": infos,
        }
        write_json_atomic(store.scores_record_path(label, cell.clip_name), scores_record)
    else:
        result.scores_cached = True
    result.scores_record = scores_record
    result.score_s = float(scores_record["wall_s"])
