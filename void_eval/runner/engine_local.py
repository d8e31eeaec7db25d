"""The local engine: cells in this process (one method instance per method group) or in worker processes.

With ``jobs=1`` cells run one after another here; the plan is method-major, so each method (and its model) is
built once. With ``jobs > 1`` cells are spread over that many spawned worker processes, each keeping one
instance per method it has seen. Results come back in plan order either way, and the files written are the same.

Examples
--------
>>> execute_local([], run_dir="/tmp/none", options=RunOptions())
[]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path

from void_eval.runner.cell import CellResult, RunOptions, build_method, execute_cell
from void_eval.runner.plan import Cell, MethodSpec

_WORKER_METHODS: dict[MethodSpec, object] = {}


def _failed_group(spec: MethodSpec, cells: Sequence[Cell], err: Exception) -> list[CellResult]:
    error = f"{type(err).__name__}: {err}"
    return [
        CellResult(method=spec.label, clip=cell.clip_name, status="failed", error=error, stage="method")
        for cell in cells
    ]


def _worker_cell(cell: Cell, run_dir: str, options: RunOptions) -> CellResult:
    """Run one cell in a worker process, reusing the worker's instance of the cell's method."""
    if cell.method not in _WORKER_METHODS:
        try:
            _WORKER_METHODS[cell.method] = build_method(cell.method, device=options.device)
        except Exception as err:  # reported as this cell's failure, like the in-process path
            return _failed_group(cell.method, [cell], err)[0]
    return execute_cell(cell, run_dir=run_dir, options=options, method=_WORKER_METHODS[cell.method])


def execute_local(
    cells: Sequence[Cell],
    *,
    run_dir: str | Path,
    options: RunOptions,
    jobs: int = 1,
    on_result: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Execute ``cells``; see the module docstring.

    Parameters
    ----------
    cells : sequence of Cell
        The plan.
    run_dir : str or Path
        Run folder.
    options : RunOptions
        Shared settings.
    jobs : int, keyword-only
        Worker processes (>= 1; 1 runs in this process).
    on_result : callable, optional, keyword-only
        Called with each :class:`CellResult` as it finishes (progress bars, the run log).
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs > 1 and len(cells) > 1:
        return _execute_processes(cells, run_dir=run_dir, options=options, jobs=jobs, on_result=on_result)
    results: list[CellResult] = []
    for spec, group in itertools.groupby(cells, key=lambda cell: cell.method):
        group = list(group)
        try:
            method = build_method(spec, device=options.device)
        except Exception as err:  # a bad method spec fails its cells, reported; other methods still run
            for result in _failed_group(spec, group, err):
                results.append(result)
                if on_result:
                    on_result(result)
            continue
        for cell in group:
            result = execute_cell(cell, run_dir=run_dir, options=options, method=method)
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _execute_processes(
    cells: Sequence[Cell],
    *,
    run_dir: str | Path,
    options: RunOptions,
    jobs: int,
    on_result: Callable[[CellResult], None] | None,
) -> list[CellResult]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch/OpenCV thread pools
    results: list[CellResult | None] = [None] * len(cells)
    with ProcessPoolExecutor(max_workers=min(jobs, len(cells)), mp_context=context) as pool:
        futures = {
            pool.submit(_worker_cell, cell, str(Path(run_dir).resolve()), options): index
            for index, cell in enumerate(cells)
        }
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result:
                on_result(result)
    return [result for result in results if result is not None]
