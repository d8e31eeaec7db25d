"""A small real benchmark run shared by the report, bar and notebook tests: the demo suite, shortened."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Metrics scored in the shared run (a fast subset; the demo and bench add the rest).
REPORT_METRICS = ("psnr", "cf_score", "flicker", "motion_agreement", "traj_err")


@pytest.fixture(scope="session")
def bench_run(tmp_path_factory) -> Path:
    """The demo suite's 8 scenes (one per family) at 16 frames and 96x168, benchmarked with every CPU method."""
    from void_eval.methods.registry import CPU_METHODS
    from void_eval.runner.cell import RunOptions
    from void_eval.runner.plan import parse_method_specs
    from void_eval.runner.run import run_benchmark
    from void_eval.suite import make_suite

    root = tmp_path_factory.mktemp("bench")
    suite = root / "suite"
    make_suite(suite, preset="demo", frames=16, size=(96, 168), progress=False)
    run_dir = root / "run"
    summary = run_benchmark(
        suite,
        parse_method_specs(list(CPU_METHODS)),
        run_dir,
        options=RunOptions(metrics=REPORT_METRICS),
        jobs=2,
        progress=False,
    )
    assert summary.ok, [cell.error for cell in summary.failed]
    return run_dir
