"""Full disks and killed writers: one OutputError naming the file, nothing half-written, stale temporaries swept."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from void_eval.atomic import (
    atomic_output,
    atomic_path,
    is_temp_name,
    remove_stale_temp_files,
    write_errors,
    write_text_atomic,
)
from void_eval.errors import OutputError
from void_eval.video import VideoWriter, probe

REPO = Path(__file__).resolve().parents[2]
ENOSPC_LINE = "cannot write (No space left on device [ENOSPC])"


def _noise(frames: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


class _FullAfter:
    """A file object whose disk fills up after ``budget`` bytes: writes and the final flush raise ENOSPC."""

    def __init__(self, handle, budget: int) -> None:
        self._handle = handle
        self._budget = budget

    def write(self, data) -> int:
        if len(data) > self._budget:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._budget -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


@pytest.fixture
def disk_fills_after(monkeypatch):
    """Make every file the atomic and video writers open fill up after ``budget`` bytes (``os.fdopen`` patched)."""

    def patch(budget: int) -> None:
        real = os.fdopen
        monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kw: _FullAfter(real(fd, *args, **kw), budget))

    return patch


def _only(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_write_errors_names_the_final_file_and_passes_other_errors_through(tmp_path):
    target = tmp_path / "run.json"
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO):
        with pytest.raises(OutputError) as err, write_errors(target):
            raise OSError(code, os.strerror(code), str(tmp_path / ".run.json.x1.part"))
        assert str(err.value) == f"{target}: cannot write ({os.strerror(code)} [{errno.errorcode[code]}])"
    with pytest.raises(FileNotFoundError), write_errors(target):  # an input elsewhere that is missing: not ours
        (tmp_path.parent / "elsewhere-missing" / "input.mp4").read_bytes()
    with pytest.raises(FileExistsError), write_errors(target):  # a decision, not a failure
        raise FileExistsError(errno.EEXIST, "File exists", str(target))


def test_simulated_full_disk_in_the_atomic_writers(tmp_path, disk_fills_after):
    old = write_text_atomic(tmp_path / "keep.txt", "old")
    disk_fills_after(10)
    with pytest.raises(OutputError) as err:
        write_text_atomic(old, "new text that does not fit")
    assert str(err.value) == f"{old}: {ENOSPC_LINE}"
    with pytest.raises(OutputError) as err, atomic_output(tmp_path / "big.bin") as handle:
        handle.write(b"x" * 100)
        handle.flush()
    assert str(err.value) == f"{tmp_path / 'big.bin'}: {ENOSPC_LINE}"
    with pytest.raises(OutputError) as err, atomic_path(tmp_path / "table.csv"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # what pandas raises writing to the path
    assert str(err.value) == f"{tmp_path / 'table.csv'}: {ENOSPC_LINE}"
    assert old.read_text() == "old" and _only(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("budget", [0, 5_000, 60_000, 200_000])
def test_simulated_full_disk_in_the_video_writer(tmp_path, disk_fills_after, budget):
    frames = _noise(30, 64, 96)  # ~300 KB of lossless noise: every budget runs out somewhere else
    disk_fills_after(budget)
    target = tmp_path / "out.mp4"
    with pytest.raises(OutputError) as err, VideoWriter(target, 12, kind="lossless") as writer:
        for frame in frames:
            writer.write_frame(frame)
    assert str(err.value) == f"{target}: {ENOSPC_LINE}"
    assert _only(tmp_path) == []


def test_video_writer_inside_an_atomic_path_names_the_final_file(tmp_path, disk_fills_after):
    disk_fills_after(5_000)
    target = tmp_path / "output.mp4"
    with pytest.raises(OutputError) as err, atomic_path(target) as temp, VideoWriter(temp, 12) as writer:
        writer.write(_noise(8, 64, 96))
    assert str(err.value) == f"{target}: {ENOSPC_LINE}" and _only(tmp_path) == []


@pytest.mark.parametrize("ballast_kib", range(1150, 1650, 50))
def test_a_really_full_disk_never_leaves_a_short_video(tiny_disk, ballast_kib):
    """On a 2 MiB tmpfs: either the whole video is there, or one OutputError and no file at all.

    Some of these sizes made FFmpeg drop the last fragment silently on close (a 43- or 46-frame file for 48 written
    frames, then a misleading frame-count error); the file object the writer owns now records the failed write.
    """
    disk = tiny_disk(2048)
    (disk / "ballast").write_bytes(b"\0" * ballast_kib * 1024)
    target = disk / "a.mp4"
    try:
        with VideoWriter(target, 12, kind="lossless") as writer:
            for frame in _noise(48, 64, 96):
                writer.write_frame(frame)
    except OutputError as err:
        assert str(err) == f"{target}: {ENOSPC_LINE}"
        assert _only(disk) == ["ballast"]
    else:
        assert probe(target).frames == 48
        assert _only(disk) == ["a.mp4", "ballast"]


def _killed_inside(code: str, folder: Path) -> None:
    """Run ``code`` in a child that SIGKILLs itself where the code says ``KILL``."""
    script = "import os, signal, numpy as np\nfrom pathlib import Path\nfolder = Path(os.environ['FOLDER'])\n"
    script += textwrap.dedent(code).replace("KILL", "os.kill(os.getpid(), signal.SIGKILL)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "FOLDER": str(folder)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr


def test_temporaries_a_killed_writer_leaves_are_recognised_and_swept(tmp_path):
    cell = tmp_path / "cells" / "copy" / "c0"
    cell.mkdir(parents=True)
    _killed_inside(
        """
        from void_eval.atomic import atomic_path
        with atomic_path(folder / "output.mp4") as temp:
            KILL
        """,
        cell,
    )
    _killed_inside(
        """
        from void_eval.atomic import atomic_output
        from void_eval.video import VideoWriter
        with atomic_output(folder / "run.json") as handle:
            handle.write(b"{")
            writer = VideoWriter(folder / "heat.mp4", 12)
            writer.write(np.zeros((2, 8, 8, 3), np.uint8))
            KILL
        """,
        tmp_path,
    )
    left = sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file())
    assert len(left) == 3 and all(is_temp_name(Path(name).name) for name in left), left
    assert any(Path(name).name.startswith(".output.mp4.") and name.endswith(".part.mp4") for name in left)
    kept = [tmp_path / ".void-eval.lock", cell / "output.json", tmp_path / "notes.part", tmp_path / ".hidden"]
    for path in kept:
        path.write_text("x")
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in removed) == left
    assert sorted(path for path in tmp_path.rglob("*") if path.is_file()) == sorted(kept)


@pytest.mark.parametrize(
    "module", ["void_eval.atomic", "void_eval.errors", "void_eval.runlock", "void_eval.video", "void_eval.video_writer"]
)
def test_docstring_examples(module):
    import doctest
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0
