"""The Ray engine: one Ray task per cell, each with its CPU/GPU request; results gathered as the local engine's.

Ray is optional: it is imported only here, and a missing install raises
:class:`~void_eval.errors.MissingExtraError` with the install command. Every task writes into the same run folder,
so on a multi-node cluster ``run_dir`` and the clip folders must be on storage all nodes share. A task builds its
method itself (no model reuse across tasks); cells of a GPU method request one GPU each. A task whose worker dies
(``WorkerCrashedError``) or that fails outside the cell's own error handling (``RayTaskError``) becomes a failed
cell at stage ``worker``; the other cells still finish and are written.

Without an ``address`` a local single-node Ray instance is started (and stopped at the end); with
``address="auto"`` or ``"ray://..."`` an existing cluster is used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from void_eval.errors import MissingExtraError, OutputError
from void_eval.runner.cell import CellResult, RunOptions, execute_cell
from void_eval.runner.engine_local import worker_failure
from void_eval.runner.plan import Cell


def _ray_cell(cell: Cell, run_dir: str, options: RunOptions) -> CellResult:
    logging.getLogger("void_eval.runner").setLevel(logging.INFO)
    return execute_cell(cell, run_dir=run_dir, options=options)


def cell_resources(cell: Cell, options: RunOptions, *, cpus_per_cell: float = 1.0) -> dict[str, float]:
    """What one cell's task asks Ray for: ``num_cpus`` always, ``num_gpus=1`` when running on CUDA.

    Examples
    --------
    >>> from void_eval.runner.plan import MethodSpec
    >>> cell = Cell(MethodSpec("copy", "copy"), "a", Path("a"))
    >>> cell_resources(cell, RunOptions(device="cuda"))
    {'num_cpus': 1.0, 'num_gpus': 1}
    """
    gpus = 1 if options.device.startswith("cuda") else 0
    return {"num_cpus": cpus_per_cell, "num_gpus": gpus}


def execute_ray(
    cells: Sequence[Cell],
    *,
    run_dir: str | Path,
    options: RunOptions,
    address: str | None = None,
    num_cpus: int | None = None,
    cpus_per_cell: float = 1.0,
    on_result: Callable[[CellResult], None] | None = None,
) -> list[CellResult]:
    """Execute ``cells`` as Ray tasks and return their results in plan order.

    Parameters
    ----------
    cells : sequence of Cell
        The plan.
    run_dir : str or Path
        Run folder (shared storage on a cluster).
    options : RunOptions
        Shared settings.
    address : str, optional, keyword-only
        Existing cluster to join; None starts a local instance.
    num_cpus : int, optional, keyword-only
        CPUs of the local instance (default: all).
    cpus_per_cell : float, keyword-only
        CPUs each task requests.
    on_result : callable, optional, keyword-only
        Called with each result as tasks finish.
    """
    try:
        import ray
    except ImportError as err:
        raise MissingExtraError("ray", "ray", "the Ray engine (--engine ray)") from err
    if not cells:
        return []
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=num_cpus if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        remote = ray.remote(_ray_cell)
        run_dir = str(Path(run_dir).resolve())
        refs = [
            remote.options(**cell_resources(cell, options, cpus_per_cell=cpus_per_cell), max_retries=0).remote(
                cell, run_dir, options
            )
            for cell in cells
        ]
        order = {ref: index for index, ref in enumerate(refs)}
        results: list[CellResult | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                try:
                    result = ray.get(ref)
                except Exception as err:  # a crashed worker or lost task fails its cell; the run goes on
                    cause = getattr(err, "cause", err)  # a task's own exception, inside Ray's wrapper
                    if isinstance(cause, OutputError):  # a full disk stops the run, as in the local engine
                        raise cause from None
                    result = worker_failure(cells[order[ref]], err)
                results[order[ref]] = result
                if on_result:
                    on_result(result)
        return [result for result in results if result is not None]
    finally:
        if started_here:
            ray.shutdown()
