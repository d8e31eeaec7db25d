"""Crash safety (SIGKILL in the middle of a run, then resume); a missing Ray install is a clear error.

The engines' equivalence is checked on a real Ray cluster in ``test_ray_engine.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.runner.conftest import FAST_METRICS
from void_eval.atomic import is_temp_name
from void_eval.runner.cell import RunOptions
from void_eval.runner.plan import parse_method_specs
from void_eval.runner.results import read_results

REPO_ROOT = Path(__file__).resolve().parents[2]


def _bench_command(clips: Path, run_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "void_eval.cli",
        "bench",
        "--clips",
        str(clips),
        "--methods",
        "copy,telea,flowprop",
        "--out",
        str(run_dir),
        "--metrics",
        ",".join(FAST_METRICS),
        "--quiet",
    ]


def _finished_records(run_dir: Path) -> dict[Path, tuple[str, int]]:
    found = {}
    for record in sorted(run_dir.glob("cells/*/*/*.json")):
        found[record] = (record.read_text(), record.stat().st_mtime_ns)
    return found


def test_sigkill_mid_bench_then_resume(clips_root, tmp_path_factory):
    clips = clips_root(4, frames=12)
    run_dir = tmp_path_factory.mktemp("killed")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(_bench_command(clips, run_dir), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(run_dir.glob("cells/*/*/scores.json"))) < 2:
        if process.poll() is not None:
            pytest.fail(f"bench ended before it could be killed: {process.communicate()}")
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not (run_dir / "results.parquet").exists(), "the run finished before the kill: test would prove nothing"
    finished = {path: value for path, value in _finished_records(run_dir).items() if path.name == "scores.json"}
    finished_outputs = {path.parent.parent.name + "/" + path.parent.name for path in finished}
    before = _finished_records(run_dir)
    assert 2 <= len(finished_outputs) < 12

    rerun = subprocess.run(_bench_command(clips, run_dir), env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    record = json.loads((run_dir / "run.json").read_text())
    reused = {f"{c['method']}/{c['clip']}" for c in record["cells"] if c["output_cached"] and c["scores_cached"]}
    assert finished_outputs <= reused
    for path, (text, mtime) in before.items():  # finished cells were not recomputed or rewritten
        if path.parent.parent.name + "/" + path.parent.name in finished_outputs:
            assert path.read_text() == text and path.stat().st_mtime_ns == mtime
    assert not [path for path in run_dir.rglob("*") if is_temp_name(path.name)], "temporary files left behind"
    assert (run_dir / "report" / "index.html").exists()

    clean_dir = tmp_path_factory.mktemp("clean")
    clean = subprocess.run(_bench_command(clips, clean_dir), env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr
    pd.testing.assert_frame_equal(read_results(run_dir), read_results(clean_dir))
    assert (run_dir / "results.parquet").read_bytes() == (clean_dir / "results.parquet").read_bytes()


def test_ray_missing_is_a_clear_error(monkeypatch, clips_root, tmp_path_factory):
    from void_eval.errors import MissingExtraError
    from void_eval.runner.engine_ray import execute_ray
    from void_eval.runner.plan import make_plan

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    plan = make_plan([clips_root(1) / "c0"], parse_method_specs("copy"))
    with pytest.raises(MissingExtraError, match=r"void-eval\[ray\]"):
        execute_ray(plan, run_dir=tmp_path_factory.mktemp("r"), options=RunOptions())


def test_a_method_that_continues_its_stream_across_clips_is_kept_on_one_worker(clips_root, tmp_path_factory):
    """VOID's upstream seeding: spread over workers, a clip's output would depend on which worker ran it before."""
    from void_eval.errors import InputError
    from void_eval.runner.run import _check_order, run_benchmark

    out = tmp_path_factory.mktemp("order") / "run"
    upstream, clips = parse_method_specs("copy,void1=void-pass1"), clips_root(1)
    for engine, jobs in (("local", 2), ("ray", 1)):
        with pytest.raises(InputError, match=r"void1 \(void-pass1\).*void1\.seeding=per-clip"):
            run_benchmark(clips, upstream, out, engine=engine, jobs=jobs, progress=False)
    assert not out.exists()  # refused before any work
    _check_order(upstream, "local", 1)  # one worker: fine
    _check_order(parse_method_specs("void1=void-pass1", ["void1.seeding=per-clip"]), "local", 2)
