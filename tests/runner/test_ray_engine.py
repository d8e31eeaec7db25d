"""The Ray engine on a real one-node Ray cluster started by this module (``ray start --head``), joined by address.

What is checked: the same results as the local engine; ``--jobs`` bounds the cells running at once (the cluster
has more CPUs than jobs); each method is built once per actor, not per cell; run.json records what was used; a
dead actor fails only its cell; a GPU run on a cluster without GPUs is refused.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.runner._ray_cluster import ENV, ray_head
from tests.runner.conftest import FAST_METRICS
from tests.runner.test_worker_crash import CrashOnC1Method
from void_eval.methods.copy import CopyMethod
from void_eval.runner.cell import RunOptions
from void_eval.runner.plan import parse_method_specs
from void_eval.runner.results import read_results
from void_eval.runner.run import run_benchmark

pytest.importorskip("ray")


class LoggingCopy(CopyMethod):
    """Copies the input; appends ``build PID`` when built and ``run PID START END`` per clip to the file ``log``."""

    name = "test-logging-copy"
    description = "test only: logs its builds and runs"

    def __init__(self, *, log: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.log = log
        with open(log, "a") as handle:
            handle.write(f"build {os.getpid()}\n")

    def _params(self):
        return {"log": self.log}

    def run(self, clip, output_path):
        started = time.time()
        time.sleep(0.3)  # long enough for overlapping cells to be seen overlapping
        written = super().run(clip, output_path)
        with open(self.log, "a") as handle:
            handle.write(f"run {os.getpid()} {started} {time.time()}\n")
        return written


@pytest.fixture(scope="module")
def ray_address():
    with pytest.MonkeyPatch.context() as patch:
        for key, value in ENV.items():
            patch.setenv(key, value)
        with ray_head(num_cpus=2) as address:
            yield address


@pytest.fixture
def test_methods(monkeypatch):
    from void_eval.methods.registry import METHODS

    monkeypatch.setattr(METHODS, "_loaded", dict(METHODS._loaded))  # the registrations end with the test
    METHODS.add(LoggingCopy.name, LoggingCopy)
    METHODS.add(CrashOnC1Method.name, CrashOnC1Method)


def _log(path: Path) -> tuple[list[str], list[tuple[str, float, float]]]:
    lines = [line.split() for line in path.read_text().splitlines()]
    builds = [fields[1] for fields in lines if fields[0] == "build"]
    runs = [(fields[1], float(fields[2]), float(fields[3])) for fields in lines if fields[0] == "run"]
    return builds, runs


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_local_processes_and_ray_engines_agree(ray_address, clips_root, tmp_path_factory):
    clips = clips_root(2, frames=8)
    specs = parse_method_specs("copy,flowprop")
    options = RunOptions(metrics=FAST_METRICS)
    local_dir = tmp_path_factory.mktemp("local")
    local = run_benchmark(clips, specs, local_dir, options=options, progress=False)
    processes_dir = tmp_path_factory.mktemp("processes")
    processes = run_benchmark(clips, specs, processes_dir, options=options, jobs=2, progress=False)
    ray_dir = tmp_path_factory.mktemp("ray")
    ray_run = run_benchmark(
        clips, specs, ray_dir, engine="ray", options=options, ray_address=ray_address, jobs=2, progress=False
    )
    assert local.ok and processes.ok and ray_run.ok
    reference = read_results(local_dir)
    pd.testing.assert_frame_equal(read_results(processes_dir), reference)
    pd.testing.assert_frame_equal(read_results(ray_dir), reference)
    keys = {(c.method, c.clip): c.output_record["key"] for c in local.cells}
    assert {(c.method, c.clip): c.output_record["key"] for c in ray_run.cells} == keys
    assert "ran in" in (ray_dir / "run.log").read_text()
    execution = json.loads((ray_dir / "run.json").read_text())["config"]["execution"]
    assert execution["method_builds"] == {"copy": 1, "flowprop": 1}
    assert execution["cluster"]["cpus"] == 2 and execution["address"] == ray_address


@pytest.mark.parametrize("jobs", [1, 2])
def test_jobs_bound_the_actors_and_each_method_is_built_once_per_actor(
    jobs, ray_address, test_methods, clips_root, tmp_path_factory
):
    from typer.testing import CliRunner

    from void_eval.cli import app

    clips = clips_root(3, frames=4)
    out = tmp_path_factory.mktemp("jobs")
    logs = {label: out.parent / f"{out.name}-{label}.log" for label in ("a", "b")}
    arguments = ["run", "--clips", str(clips), "--methods", "a=test-logging-copy,b=test-logging-copy", "--out"]
    arguments += [str(out), "--no-score", "--quiet", "--engine", "ray", "--ray-address", ray_address]
    arguments += ["--jobs", str(jobs)]
    for label, log in logs.items():
        arguments += ["--param", f"{label}.log={log}"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    execution = json.loads((out / "run.json").read_text())["config"]["execution"]
    everything = []
    for label, log in logs.items():
        builds, runs = _log(log)
        assert len(runs) == 3
        assert len(set(builds)) == len(builds), f"{label}: a worker process built its method twice"
        assert {pid for pid, _, _ in runs} <= set(builds)
        assert execution["method_builds"][label] == len(builds)
        if jobs == 1:  # one actor at a time: each method is built once and runs its 3 cells
            assert len(builds) == 1
        everything += [(start, end) for _, start, end in runs]
    assert _most_at_once(everything) <= jobs  # the 2-CPU cluster would run 2 at once if --jobs were ignored
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["jobs"] == jobs and execution["jobs"] == jobs
    assert execution["peak_actors"] == jobs
    assert execution["cpus_per_actor"] == 1.0 and execution["gpus_per_actor"] == 0


def test_dead_actor_fails_only_its_cell(ray_address, test_methods, clips_root, tmp_path_factory):
    clips = clips_root(3, frames=4)
    run_dir = tmp_path_factory.mktemp("crash")
    summary = run_benchmark(
        clips,
        parse_method_specs("test-crash"),
        run_dir,
        engine="ray",
        ray_address=ray_address,
        options=RunOptions(metrics=FAST_METRICS),
        progress=False,
    )
    assert [(c.clip, c.status, c.stage) for c in summary.cells] == [
        ("c0", "done", None),
        ("c1", "failed", "worker"),
        ("c2", "done", None),
    ]
    assert "ActorDiedError" in summary.cells[1].error or "died" in summary.cells[1].error
    assert set(read_results(run_dir)["clip"]) == {"c0", "c2"}
    execution = json.loads((run_dir / "run.json").read_text())["config"]["execution"]
    assert execution["method_builds"] == {"test-crash": 2}  # a fresh actor took over after the crash


def test_gpu_run_on_a_cluster_without_gpus_is_refused(ray_address, clips_root, tmp_path_factory):
    from void_eval.errors import InputError
    from void_eval.runner.engine_ray import execute_ray
    from void_eval.runner.plan import make_plan

    plan = make_plan([clips_root(1) / "c0"], parse_method_specs("copy"))
    with pytest.raises(InputError, match="no GPU"):
        execute_ray(plan, run_dir=tmp_path_factory.mktemp("g"), options=RunOptions(device="cuda"), address=ray_address)


def test_a_wrong_ray_address_fails_at_once(clips_root, tmp_path_factory):
    import socket

    from void_eval.errors import InputError
    from void_eval.runner.engine_ray import execute_ray
    from void_eval.runner.plan import make_plan

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    plan = make_plan([clips_root(1) / "c0"], parse_method_specs("copy"))
    started = time.monotonic()
    with pytest.raises(InputError, match="no Ray head answers there"):
        execute_ray(plan, run_dir=tmp_path_factory.mktemp("r"), options=RunOptions(), address=f"127.0.0.1:{port}")
    assert time.monotonic() - started < 30
    with pytest.raises(InputError, match="HOST:PORT"):
        execute_ray(plan, run_dir=tmp_path_factory.mktemp("r"), options=RunOptions(), address="headnode")


def test_ray_address_without_the_ray_engine_is_a_usage_error(clips_root, tmp_path):
    from void_eval.cli import main

    arguments = ["run", "--clips", str(clips_root(1)), "--methods", "copy", "--out", str(tmp_path / "run")]
    assert main([*arguments, "--ray-address", "127.0.0.1:6379"]) == 2
    assert not (tmp_path / "run").exists()
