"""A worker process that dies fails its own cell; the run still finishes and writes everything else."""

from __future__ import annotations

import json
import os

from tests.runner.conftest import FAST_METRICS
from void_eval.methods.copy import CopyMethod
from void_eval.runner.cell import RunOptions
from void_eval.runner.plan import parse_method_specs
from void_eval.runner.results import read_results
from void_eval.runner.run import run_benchmark


class CrashOnC1Method(CopyMethod):
    """Copies the input, except that on clip ``c1`` it kills its own process (as a segfault would)."""

    name = "test-crash"
    description = "test only: os._exit(1) on clip c1"

    def run(self, clip, output_path):
        if clip.name == "c1":
            os._exit(1)
        return super().run(clip, output_path)


def test_dead_worker_fails_only_its_cell_and_the_run_is_written(clips_root, tmp_path_factory, monkeypatch):
    from void_eval.methods.registry import METHODS

    monkeypatch.setattr(METHODS, "_loaded", dict(METHODS._loaded))  # the registration ends with this test
    METHODS.add("test-crash", CrashOnC1Method)
    clips = clips_root(2, frames=6)
    run_dir = tmp_path_factory.mktemp("crash")
    summary = run_benchmark(
        clips,
        parse_method_specs("copy,test-crash"),
        run_dir,
        options=RunOptions(metrics=FAST_METRICS),
        jobs=2,
        progress=False,
    )
    assert not summary.ok
    failed = {(cell.method, cell.clip): cell for cell in summary.failed}
    assert set(failed) == {("test-crash", "c1")}
    assert failed["test-crash", "c1"].stage == "worker"
    assert "died" in failed["test-crash", "c1"].error
    results = read_results(run_dir)
    assert set(zip(results["method"], results["clip"], strict=True)) == {
        ("copy", "c0"),
        ("copy", "c1"),
        ("test-crash", "c0"),
    }
    record = json.loads((run_dir / "run.json").read_text())
    statuses = {(cell["method"], cell["clip"]): (cell["status"], cell["stage"]) for cell in record["cells"]}
    assert statuses["test-crash", "c1"] == ("failed", "worker")
    assert sum(status == "done" for status, _ in statuses.values()) == 3
