"""One atomic writer for the whole toolkit (void_eval.atomic): no module rolls its own temp-file-and-rename."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from void_eval.atomic import atomic_output, atomic_path, write_bytes_atomic, write_json_atomic, write_text_atomic

REPO = Path(__file__).resolve().parents[2]
#: Files allowed their own temporary files, and why.
OWN_TEMP_FILES = {
    "void_eval/atomic.py": "the one writer",
    "void_eval/video_writer.py": "a streaming encoder owns its partial file for its whole life",
    "void_eval/suite/make.py": "a whole clip folder is built in a temporary folder and renamed",
    "studies/packets.py": "media are hard-linked (or copied) into place under a temporary name",
}


def test_no_module_rolls_its_own_atomic_write():
    offenders = []
    for package in ("void_eval", "forensics", "studies"):
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if relative in OWN_TEMP_FILES:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#")[0]
                if any(p in code for p in ("mkstemp(", "NamedTemporaryFile(", "os.replace(", ".replace(path)")):
                    if not line.lstrip().startswith((">>>", '"', "'")):
                        offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_text_and_json_writes_replace_whole_files(tmp_path):
    target = write_text_atomic(tmp_path / "a.txt", "hello")
    assert target.read_text() == "hello"
    write_json_atomic(tmp_path / "b.json", {"x": 1}, indent=1)
    assert json.loads((tmp_path / "b.json").read_text()) == {"x": 1}
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "c.json", {"x": object()})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json"]


def test_failures_leave_the_old_file_and_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "keep.txt", "old")
    with pytest.raises(RuntimeError), atomic_output(target) as handle:
        handle.write(b"new")
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("new")
        raise RuntimeError("boom")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_without_replace_a_file_that_appeared_meanwhile_is_never_overwritten(tmp_path):
    target = tmp_path / "signed.bin"
    with pytest.raises(FileExistsError), atomic_output(target, replace=False) as handle:
        handle.write(b"new")
        target.write_bytes(b"someone else's")  # appears while the data is written
    assert target.read_bytes() == b"someone else's" and [p.name for p in tmp_path.iterdir()] == ["signed.bin"]
    fresh = write_bytes_atomic(tmp_path / "fresh.bin", b"data", replace=False)
    assert fresh.read_bytes() == b"data" and sorted(p.name for p in tmp_path.iterdir()) == ["fresh.bin", "signed.bin"]


def test_modes_follow_the_umask_or_the_request(tmp_path):
    umask = os.umask(0o022)
    try:
        plain = write_text_atomic(tmp_path / "plain.txt", "x")
        private = write_text_atomic(tmp_path / "private.key", "x", mode=0o600)
        with atomic_path(tmp_path / "lib.csv") as temp:
            temp.write_text("a\n")
    finally:
        os.umask(umask)
    assert plain.stat().st_mode & 0o777 == 0o644
    assert private.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "lib.csv").stat().st_mode & 0o777 == 0o644
