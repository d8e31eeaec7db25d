"""The Ray engine: a bounded pool of Ray actors, each holding one method's instance, fed that method's cells.

``jobs`` actors run at most at once (``--jobs``), each asking Ray for ``cpus_per_cell`` CPUs (and one GPU when
the run's device is CUDA). An actor builds its method once, on its first cell, and keeps it for every further cell
it is given, so a model is loaded once per actor, not once per cell. When an actor's method has no cells left it is
ended and its slot goes to the method with the most cells waiting per actor. Results come back in plan order, as
from the local engine, and the files written are the same.

Without ``address`` a local Ray instance with ``jobs * cpus_per_cell`` CPUs is started here and stopped at the
end; with ``address`` (``host:port`` of a head node, ``"auto"`` or ``ray://...``) an existing cluster is joined.
Every actor writes into the run folder itself, so on a cluster of several machines the run folder and the clip
folders must be on storage every node mounts at the same absolute path (paths are made absolute here); an actor
that cannot see the run folder fails its cells with a message saying so. Each node needs the same void-eval (with
the methods' and metrics' dependencies) in the Python environment Ray starts its workers in.

An actor whose process dies (``ActorDiedError``: a segfault, the out-of-memory killer) fails the cell it was
running at stage ``worker``; a fresh actor takes over the method's remaining cells, and the run is written.
Ray is optional: it is imported only here, and a missing install raises
:class:`~void_eval.errors.MissingExtraError` with the install command.

Examples
--------
>>> execute_ray([], run_dir="/tmp/none", options=RunOptions()).results
[]
"""

from __future__ import annotations

import logging
import math
import socket
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from void_eval.errors import InputError, MissingExtraError, OutputError, VoidEvalError
from void_eval.runner.cell import CellResult, RunOptions, build_method, execute_cell
from void_eval.runner.engine_local import _method_factories, worker_failure
from void_eval.runner.plan import Cell, MethodSpec


@dataclass
class RayRun:
    """What :func:`execute_ray` returns: the cells' results (plan order) and what the engine really used.

    Attributes
    ----------
    results : list of CellResult
    usage : dict
        ``address``, ``started_local``, ``jobs`` (the bound on actors at once), ``peak_actors``,
        ``actors_started``, ``cpus_per_actor``, ``gpus_per_actor``, ``method_builds`` (label -> actors that built
        it), ``cluster`` (nodes, CPUs, GPUs seen when the run started). Written to ``run.json``.
    """

    results: list[CellResult]
    usage: dict[str, Any] = field(default_factory=dict)


class MethodActor:
    """One method, built on first use and kept: runs that method's cells one at a time (a Ray actor class)."""

    def __init__(self, spec: MethodSpec, options: RunOptions, factories: dict[str, object]) -> None:
        from void_eval.methods.registry import METHODS

        for name, factory in factories.items():
            if name not in METHODS:
                METHODS.add(name, factory)
        logging.getLogger("void_eval.runner").setLevel(logging.INFO)
        self.spec, self.options = spec, options
        self.method: object | None = None
        self.build_error: str | None = None

    def run(self, cell: Cell, run_dir: str) -> CellResult:
        """Execute ``cell`` with this actor's method instance (built now if this is its first cell)."""
        if not Path(run_dir).is_dir():
            return _failed(cell, "worker", f"run folder {run_dir} is not visible on this node ({_node()}): " + _SHARED)
        if self.method is None and self.build_error is None:
            try:
                self.method = build_method(self.spec, device=self.options.device)
            except Exception as err:  # reported on each of the method's cells, like the local engine
                self.build_error = f"{type(err).__name__}: {err}"
        if self.method is None:
            return _failed(cell, "method", str(self.build_error))
        return execute_cell(cell, run_dir=run_dir, options=self.options, method=self.method)


_SHARED = "on a cluster the run folder and clips must be on storage every node mounts at the same absolute path"


def _node() -> str:
    return socket.gethostname()


def _failed(cell: Cell, stage: str, error: str) -> CellResult:
    return CellResult(method=cell.method.label, clip=cell.clip_name, status="failed", error=error, stage=stage)


def cell_resources(options: RunOptions, *, cpus_per_cell: float = 1.0) -> dict[str, float]:
    """What one actor asks Ray for: ``num_cpus`` always, ``num_gpus=1`` when running on CUDA.

    Examples
    --------
    >>> cell_resources(RunOptions(device="cuda"))
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
    jobs: int = 1,
    cpus_per_cell: float = 1.0,
    on_result: Callable[[CellResult], None] | None = None,
) -> RayRun:
    """Execute ``cells`` on Ray actors (see the module docstring).

    Parameters
    ----------
    cells : sequence of Cell
        The plan.
    run_dir : str or Path
        Run folder (shared storage on a cluster).
    options : RunOptions
        Shared settings.
    address : str, optional, keyword-only
        Cluster to join; None starts a local instance with ``jobs * cpus_per_cell`` CPUs.
    jobs : int, keyword-only
        Actors (cells) running at once, >= 1.
    cpus_per_cell : float, keyword-only
        CPUs each actor requests.
    on_result : callable, optional, keyword-only
        Called with each result as cells finish.

    Raises
    ------
    MissingExtraError
        Ray is not installed.
    InputError
        The run asks for a GPU and the cluster has none.
    """
    try:
        import ray
    except ImportError as err:
        raise MissingExtraError("ray", "ray", "the Ray engine (--engine ray)") from err
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if not cells:
        return RayRun([], {"jobs": jobs, "actors_started": 0})
    started_here = not ray.is_initialized()
    if started_here:
        _connect(ray, address, num_cpus=math.ceil(jobs * cpus_per_cell))
    try:
        resources = cell_resources(options, cpus_per_cell=cpus_per_cell)
        usage = {
            "address": address or "local",
            "started_local": started_here and address is None,
            "jobs": jobs,
            "cpus_per_actor": resources["num_cpus"],
            "gpus_per_actor": resources["num_gpus"],
            "cluster": _cluster(ray),
        }
        if usage["gpus_per_actor"] and usage["cluster"]["gpus"] < 1:
            raise InputError(address or "local Ray instance", f"--device {options.device} but the cluster has no GPU")
        cells = [replace(cell, clip_path=Path(cell.clip_path).resolve()) for cell in cells]
        pool = _ActorPool(ray, cells, str(Path(run_dir).resolve()), options, jobs, cpus_per_cell, on_result)
        results = pool.run()
        usage.update(pool.usage())
        return RayRun(results, usage)
    finally:
        if started_here:
            ray.shutdown()


def _connect(ray, address: str | None, *, num_cpus: int) -> None:
    """Join the cluster at ``address`` (checked to answer first, so a wrong address fails at once, not after
    minutes of Ray's retries) or start a local instance with ``num_cpus`` CPUs."""
    if address is not None and "://" not in address and address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise InputError(address, "--ray-address must be HOST:PORT (the head's GCS port), auto or ray://...")
        try:
            socket.create_connection((host, int(port)), timeout=10).close()
        except OSError as err:
            raise InputError(address, f"no Ray head answers there ({err.strerror or err})") from err
    try:
        ray.init(
            address=address,
            num_cpus=num_cpus if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    except Exception as err:  # Ray's own start or connection failure, said in one line
        where = f"could not join the Ray cluster at {address}" if address else "could not start a local Ray"
        hint = "" if address else "; start one with `ray start --head` and pass --ray-address, or use --engine local"
        raise VoidEvalError(f"{where}: {err}{hint}") from err


def _cluster(ray) -> dict[str, Any]:
    resources = ray.cluster_resources()
    nodes = [node for node in ray.nodes() if node.get("Alive")]
    return {"nodes": len(nodes), "cpus": float(resources.get("CPU", 0)), "gpus": float(resources.get("GPU", 0))}


class _ActorPool:
    """At most ``jobs`` actors at once; each actor runs one cell at a time of its own method."""

    def __init__(self, ray, cells, run_dir, options, jobs, cpus_per_cell, on_result) -> None:
        self.ray, self.cells, self.run_dir, self.options, self.jobs = ray, cells, run_dir, options, jobs
        self.on_result = on_result
        self.actor_class = ray.remote(MethodActor).options(
            **cell_resources(options, cpus_per_cell=cpus_per_cell), max_restarts=0, max_task_retries=0
        )
        self.factories = _method_factories(cells)
        self.queues: dict[MethodSpec, deque[int]] = {}
        for index, cell in enumerate(cells):
            self.queues.setdefault(cell.method, deque()).append(index)
        self.actors: dict[int, tuple[MethodSpec, Any]] = {}
        self.in_flight: dict[Any, tuple[int, int]] = {}
        self.results: list[CellResult | None] = [None] * len(cells)
        self.builds: dict[str, int] = {}
        self.peak = 0
        self.next_slot = 0

    def run(self) -> list[CellResult]:
        try:
            self._fill()
            while self.in_flight:
                (ref,), _ = self.ray.wait(list(self.in_flight), num_returns=1)
                slot, index = self.in_flight.pop(ref)
                try:
                    result = self.ray.get(ref)
                except Exception as err:  # the actor died or the result was lost: this cell fails, the run goes on
                    cause = getattr(err, "cause", err)  # a task's own exception, inside Ray's wrapper
                    if isinstance(cause, OutputError):  # a full disk stops the run, as in the local engine
                        raise cause from None
                    result = worker_failure(self.cells[index], err)
                    self._retire(slot)
                self.results[index] = result
                if self.on_result:
                    self.on_result(result)
                if slot in self.actors:
                    self._feed(slot)
                self._fill()
        finally:
            for slot in list(self.actors):
                self._retire(slot)
        return [result for result in self.results if result is not None]

    def _feed(self, slot: int) -> None:
        """Give the actor in ``slot`` its method's next cell, or end it when its method has none left."""
        spec, actor = self.actors[slot]
        if self.queues.get(spec):
            index = self.queues[spec].popleft()
            self.in_flight[actor.run.remote(self.cells[index], self.run_dir)] = (slot, index)
        else:
            self._retire(slot)

    def _fill(self) -> None:
        """Start actors while fewer than ``jobs`` are alive, for the method with the most waiting cells per actor.

        A method gets another actor only when more of its cells wait than it has actors (loading a model again
        to run one last cell would not finish sooner).
        """
        while len(self.actors) < self.jobs:
            alive = [spec for spec, _ in self.actors.values()]
            waiting = [spec for spec, queue in self.queues.items() if len(queue) > alive.count(spec)]
            if not waiting:
                return
            spec = max(waiting, key=lambda s: len(self.queues[s]) / (1 + alive.count(s)))
            slot, self.next_slot = self.next_slot, self.next_slot + 1
            self.actors[slot] = (spec, self.actor_class.remote(spec, self.options, self.factories))
            self.builds[spec.label] = self.builds.get(spec.label, 0) + 1
            self.peak = max(self.peak, len(self.actors))
            self._feed(slot)

    def _retire(self, slot: int) -> None:
        _, actor = self.actors.pop(slot)
        self.ray.kill(actor)

    def usage(self) -> dict[str, Any]:
        return {"actors_started": sum(self.builds.values()), "peak_actors": self.peak, "method_builds": self.builds}
