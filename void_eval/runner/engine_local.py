"""The local engine: cells in this process (one method instance per method group) or in worker processes.

With ``jobs=1`` cells run one after another here; the plan is method-major, so each method (and its model) is
built once. With ``jobs > 1`` cells are spread over that many spawned worker processes, each keeping one
instance per method it has seen. Results come back in plan order either way, and the files written are the same.

A worker process that dies (a segfault, ``os._exit``, the kernel's out-of-memory killer) breaks the whole process
pool. The run still finishes: each worker marks the cells it starts, the cells that were in flight when the pool
broke are run again one at a time in a fresh single-worker pool (so the one that kills its worker is known and
reported as failed at stage ``worker``; the others get their real results), and the cells that had not started go
to a fresh pool. Methods registered at run time in this process (``METHODS.add``) are registered in the workers
too, when their factory can be pickled.

Examples
--------
>>> execute_local([], run_dir="/tmp/none", options=RunOptions())
[]
"""

from __future__ import annotations

import itertools
import pickle
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from void_eval.errors import OutputError
from void_eval.runner.cell import CellResult, RunOptions, build_method, execute_cell
from void_eval.runner.plan import Cell, MethodSpec

_WORKER_METHODS: dict[MethodSpec, object] = {}


def _failed_group(spec: MethodSpec, cells: Sequence[Cell], err: Exception) -> list[CellResult]:
    error = f"{type(err).__name__}: {err}"
    return [
        CellResult(method=spec.label, clip=cell.clip_name, status="failed", error=error, stage="method")
        for cell in cells
    ]


def worker_failure(cell: Cell, err: BaseException) -> CellResult:
    """A failed :class:`CellResult` for a cell whose worker died or whose result could not be retrieved."""
    return CellResult(
        method=cell.method.label,
        clip=cell.clip_name,
        status="failed",
        error=f"{type(err).__name__}: {err}".strip(),
        stage="worker",
    )


def _method_factories(cells: Sequence[Cell]) -> dict[str, object]:
    """Picklable factories of the cells' methods, so workers know methods registered at run time here."""
    from void_eval.methods.registry import METHODS

    factories: dict[str, object] = {}
    for name in sorted({cell.method.name for cell in cells}):
        try:
            factory = METHODS.get(name)
            pickle.dumps(factory)
        except Exception:  # unknown or unpicklable: the worker reports the cell's failure when it builds it
            continue
        factories[name] = factory
    return factories


def _init_worker(factories: dict[str, object]) -> None:
    from void_eval.methods.registry import METHODS

    for name, factory in factories.items():
        if name not in METHODS:
            METHODS.add(name, factory)


def _worker_cell(cell: Cell, run_dir: str, options: RunOptions, marker: str | None = None) -> CellResult:
    """Run one cell in a worker process, reusing the worker's instance of the cell's method.

    ``marker`` is a file created before the cell starts, so the parent knows which cells were in flight when a
    worker died.
    """
    if marker is not None:
        Path(marker).touch()
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
    results: list[CellResult | None] = [None] * len(cells)

    def finish(index: int, result: CellResult) -> None:
        results[index] = result
        if on_result:
            on_result(result)

    run_dir = str(Path(run_dir).resolve())
    factories = _method_factories(cells)
    pending = list(range(len(cells)))
    with tempfile.TemporaryDirectory(prefix="void-eval-workers-") as markers:
        round_number = 0
        while pending:
            round_number += 1
            marker_dir = Path(markers) / str(round_number)
            marker_dir.mkdir()
            unfinished, broken = _pool_round(
                cells,
                pending,
                run_dir=run_dir,
                options=options,
                jobs=jobs,
                factories=factories,
                marker_dir=marker_dir,
                finish=finish,
            )
            in_flight = [index for index in unfinished if (marker_dir / f"{index}.started").exists()]
            if unfinished and not in_flight:  # the pool broke before any cell started: no worker can run
                for index in unfinished:
                    finish(index, worker_failure(cells[index], broken or RuntimeError("worker pool broke")))
                break
            for index in in_flight:  # one of these killed its worker: rerun each alone to find out which
                _isolated_cell(cells, index, run_dir=run_dir, options=options, factories=factories, finish=finish)
            pending = [index for index in unfinished if index not in in_flight]
    return [result for result in results if result is not None]


def _pool(workers: int, factories: dict[str, object]):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch/OpenCV thread pools
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(factories,))


def _pool_round(
    cells: Sequence[Cell],
    indices: Sequence[int],
    *,
    run_dir: str,
    options: RunOptions,
    jobs: int,
    factories: dict[str, object],
    marker_dir: Path,
    finish: Callable[[int, CellResult], None],
) -> tuple[list[int], BaseException | None]:
    """Run ``indices`` in one pool; returns the cells left without a result because the pool broke, and why."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    unfinished: list[int] = []
    broken: BaseException | None = None
    with _pool(min(jobs, len(indices)), factories) as pool:
        futures = {
            pool.submit(_worker_cell, cells[index], run_dir, options, str(marker_dir / f"{index}.started")): index
            for index in indices
        }
        for future in as_completed(futures):
            index = futures[future]
            try:
                result = future.result()
            except BrokenProcessPool as err:
                unfinished.append(index)
                broken = err
                continue
            except OutputError:  # the disk is full or the run folder unwritable: the run stops, as in-process
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            except Exception as err:  # e.g. a result that could not be sent back: this cell fails, the run goes on
                result = worker_failure(cells[index], err)
            finish(index, result)
    return sorted(unfinished), broken


def _isolated_cell(
    cells: Sequence[Cell],
    index: int,
    *,
    run_dir: str,
    options: RunOptions,
    factories: dict[str, object],
    finish: Callable[[int, CellResult], None],
) -> None:
    """Run one cell alone in a fresh single-worker pool; a dead worker fails just this cell."""
    from concurrent.futures.process import BrokenProcessPool

    with _pool(1, factories) as pool:
        future = pool.submit(_worker_cell, cells[index], run_dir, options)
        try:
            result = future.result()
        except BrokenProcessPool as err:
            result = worker_failure(cells[index], RuntimeError(f"the worker process running this cell died ({err})"))
        except OutputError:
            raise
        except Exception as err:
            result = worker_failure(cells[index], err)
    finish(index, result)
