"""A run folder has one writer at a time, recovers from killed writers, and a full disk is one line, exit 1."""

from __future__ import annotations

import errno
import logging
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from void_eval.atomic import is_temp_name
from void_eval.cli import main
from void_eval.runlock import HOLDER_NAME, RunFolderBusyError, holder, run_folder_lock
from void_eval.runner.cell import RunOptions
from void_eval.runner.plan import parse_method_specs
from void_eval.runner.run import run_benchmark

REPO = Path(__file__).resolve().parents[2]
ENOSPC = "cannot write (No space left on device [ENOSPC])"


def _bench_args(clips: Path, out: Path) -> list[str]:
    args = ["bench", "--clips", str(clips), "--methods", "copy", "--out", str(out)]
    return [*args, "--metrics", "psnr", "--quiet"]


def _temporaries(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if is_temp_name(path.name)]


@pytest.fixture
def held_elsewhere(tmp_path):
    """A child process holding a run folder's lock as ``bench``; yields (folder, process); killed at the end."""
    folder = tmp_path / "run"
    code = (
        "import sys\nfrom void_eval.runlock import run_folder_lock\n"
        "with run_folder_lock(sys.argv[1], command='bench', create=True):\n"
        "    print('held', flush=True)\n    sys.stdin.read()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    yield folder, process
    if process.poll() is None:
        process.kill()
    process.wait()


def test_every_writing_command_refuses_a_folder_another_process_writes(held_elsewhere, clips_root, capsys):
    folder, process = held_elsewhere
    clips = clips_root(1)
    commands = {
        "bench": _bench_args(clips, folder),
        "run": ["run", "--clips", str(clips), "--methods", "copy", "--out", str(folder), "--quiet"],
        "report": ["report", str(folder)],
        "sign-run": ["sign-run", str(folder), "--chain", "chain.pem", "--key", "key.pem", "--quiet"],
    }
    for name, args in commands.items():
        capsys.readouterr()
        assert main(args) == 1, name
        err = capsys.readouterr().err
        assert err.splitlines() == [err.strip()], f"{name}: not one line: {err}"
        assert err.startswith(f"error: {folder}: run folder in use by another void-eval process (pid {process.pid}, ")
        assert "`void-eval bench` since " in err
    assert sorted(path.name for path in folder.iterdir()) == [".void-eval.lock", HOLDER_NAME], "something was written"


def test_a_lock_left_by_a_killed_process_is_recognised(held_elsewhere, caplog):
    folder, process = held_elsewhere
    with pytest.raises(RunFolderBusyError) as err, run_folder_lock(folder, command="report"):
        pass
    assert err.value.pid == process.pid
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert holder(folder)["pid"] == process.pid  # its record outlived it; the kernel dropped its lock
    with caplog.at_level(logging.WARNING, logger="void_eval.runner"), run_folder_lock(folder, command="report"):
        assert holder(folder)["pid"] == os.getpid()
        with run_folder_lock(folder, command="report"):  # re-entrant in one process
            pass
        assert holder(folder)["pid"] == os.getpid()
    assert f"taking over the lock left by pid {process.pid}" in caplog.text and "no longer running" in caplog.text
    assert holder(folder) is None


def test_a_resumed_run_removes_what_a_kill_9_left(clips_root, tmp_path):
    clips = clips_root(1)
    run_dir = tmp_path / "run"
    specs = parse_method_specs(["copy"], [])
    options = RunOptions(metrics=("psnr",))
    run_benchmark(clips, specs, run_dir, options=options, progress=False)
    cell = run_dir / "cells" / "copy" / "c0"
    code = (
        "import os, signal, sys\nfrom pathlib import Path\nfrom void_eval.atomic import atomic_path\n"
        "for name in sys.argv[1:]:\n    if os.fork() == 0:\n        with atomic_path(Path(name)):\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n    os.wait()\n"
    )
    killed = [cell / "output.mp4", cell / "scores.parquet", run_dir / "results.parquet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code, *map(str, killed)], env=env, check=True)
    stale = _temporaries(run_dir)
    assert len(stale) == 3 and all(path.stat().st_size == 0 for path in stale)
    summary = run_benchmark(clips, specs, run_dir, options=options, progress=False)
    assert summary.ok and summary.cells[0].output_cached
    assert _temporaries(run_dir) == []
    log = (run_dir / "run.log").read_text()
    assert all(f"removed {path}, a temporary file a killed run left behind" in log for path in stale)


def test_a_full_disk_while_writing_report_images_is_one_line(clips_root, tmp_path, capsys, monkeypatch):
    clips = clips_root(1)
    out = tmp_path / "run"
    real = Path.write_bytes

    def full_for_images(self, data):
        if self.suffix == ".png":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_for_images)
    assert main(_bench_args(clips, out)) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {out / 'report'}/"), err
    assert err.endswith(f".png: {ENOSPC}") and "Traceback" not in err
    assert _temporaries(out) == [] and not list((out / "report").glob("*.png"))


@pytest.mark.parametrize(("disk_kib", "jobs"), [(16, 1), (32, 1), (48, 1), (16, 2)])
def test_a_really_full_disk_during_bench_is_one_line_and_leaves_no_partial_file(
    clips_root, tiny_disk, capsys, disk_kib, jobs
):
    clips = clips_root(jobs, frames=24)  # with 2 jobs, 2 clips: the cells run in worker processes
    out = tiny_disk(disk_kib) / "run"  # 16 KiB: room for the lock and the log, not for the method's output
    assert main([*_bench_args(clips, out), "--jobs", str(jobs)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {out}/") and err.endswith("[ENOSPC])"), err
    if disk_kib == 16:  # the method's video: before, a misleading frame-count error or a raw traceback
        assert re.fullmatch(f"error: {re.escape(str(out))}/cells/copy/c[01]/output.mp4: {re.escape(ENOSPC)}", err)
    assert _temporaries(out) == [] and not (out / "run.json").exists()


def test_the_busy_error_survives_a_worker_process(tmp_path):
    import pickle

    error = RunFolderBusyError(tmp_path, {"pid": 42, "command": "run", "since": "now"})
    assert pickle.dumps(error)  # a worker pool pickles the error it sends back ...
    rebuild, arguments = error.__reduce__()
    again = rebuild(*arguments)  # ... and unpickling calls what __reduce__ names (no bytes unpickled here)
    assert again.pid == 42 and str(again).startswith(f"{tmp_path}: run folder in use by another void-eval process")
