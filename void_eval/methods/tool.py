"""A removal tool on disk: what identifies it (checkout revision, weight hashes) and how it is called.

:func:`checkout_revision` says which code a tool runs: the git commit of its checkout and, when the work tree
differs from that commit, a sha256 of the difference (``git diff HEAD``, and each untracked file's name, size and
modification time), so an edited checkout never reuses a cached output; a folder that is not a git work tree is
identified by the sha256 of its entry script. :func:`weight_hashes` hashes the weight files a recipe lists (globs
allowed; a folder means every file under it), failing with the path of any that is missing. :func:`run_tool` runs
the command with its output in log files and raises :class:`ToolError` with the last lines of its standard error
when it fails.

Examples
--------
>>> tail_lines("a\\nb\\n\\nc\\n", 2)
['b', 'c']
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from void_eval.errors import InputError, VoidEvalError
from void_eval.hashing import file_sha256

#: Lines of a failed tool's standard error quoted in the error message.
TAIL_LINES = 12


class ToolError(VoidEvalError, RuntimeError):
    """A tool exited with an error, timed out or wrote no usable output; the message quotes its stderr tail."""


def tail_lines(text: str, count: int = TAIL_LINES) -> list[str]:
    """The last ``count`` non-blank lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()][-count:]


def find_python(python: str) -> Path:
    """The interpreter ``python`` names: a path, or a command found on PATH."""
    candidate = Path(python).expanduser()
    if candidate.is_absolute() or os.sep in python:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.absolute()
        raise InputError(python, "python interpreter not found or not executable (set LABEL.python=...)")
    found = shutil.which(python)
    if found is None:
        raise InputError(python, "python interpreter not found on PATH (set LABEL.python=/path/to/env/bin/python)")
    return Path(found).absolute()


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    if shutil.which("git") is None:
        return None
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)


def checkout_revision(repo: Path, script: str) -> dict[str, str | None]:
    """``{"git": commit, "dirty": sha256 or None}`` for a git checkout, else ``{"script_sha256": ...}``."""
    top = _git(repo, "rev-parse", "--show-toplevel")
    if top is not None and top.returncode == 0 and Path(top.stdout.decode().strip()).resolve() == repo.resolve():
        head = _git(repo, "rev-parse", "HEAD")
        if head is not None and head.returncode == 0:
            return {"git": head.stdout.decode().strip(), "dirty": _local_changes(repo)}
    entry = repo / script
    return {"script_sha256": file_sha256(entry) if entry.is_file() else None}


def _local_changes(repo: Path) -> str | None:
    """sha256 of ``git diff HEAD`` and of the untracked files (name, size, mtime); None for a clean checkout."""
    diff = _git(repo, "diff", "HEAD", "--binary")
    untracked = _git(repo, "ls-files", "--others", "--exclude-standard", "-z")
    diff_bytes = diff.stdout if diff is not None else b""
    names = [name for name in (untracked.stdout if untracked is not None else b"").split(b"\0") if name]
    if not diff_bytes and not names:
        return None
    digest = hashlib.sha256(diff_bytes)
    for name in names:  # untracked data is not read in full: its size and mtime change when it does
        path = repo / name.decode(errors="replace")
        stat = path.stat() if path.is_file() else None
        digest.update(name + (f":{stat.st_size}:{stat.st_mtime_ns}".encode() if stat else b"") + b"\0")
    return digest.hexdigest()


def weight_hashes(patterns: Sequence[str], *, tool: str) -> dict[str, str]:
    """sha256 of every file the (rendered) ``patterns`` name; a pattern matching nothing is an error."""
    hashes: dict[str, str] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        files: list[Path] = []
        for match in map(Path, matches):
            if match.is_dir():
                files += sorted(path for path in match.rglob("*") if path.is_file())
            elif match.is_file():
                files.append(match)
        if not files:
            raise InputError(pattern, f"{tool} weights not found (download them as the tool's README says)")
        for path in files:
            hashes[str(path)] = file_sha256(path)
    return hashes


def run_tool(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], logs: Path, timeout: float | None, tool: str
) -> None:
    """Run ``argv``; stdout and stderr go to ``logs/stdout.txt`` and ``logs/stderr.txt``.

    Raises
    ------
    ToolError
        Non-zero exit or timeout, with the tail of the tool's stderr (stdout when stderr is empty).
    """
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            completed = subprocess.run(
                list(argv), cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise ToolError(f"{tool} did not finish within {timeout:g} s and was stopped{log_tail(logs)}") from None
        except OSError as error:
            raise ToolError(f"{tool} could not start ({argv[0]}): {error}") from error
    if completed.returncode != 0:
        raise ToolError(f"{tool} exited with status {completed.returncode}{log_tail(logs)}")


def log_tail(logs: Path) -> str:
    """``"; last stderr lines:\\n  ..."`` from a tool's logs (stdout when stderr is empty), with where they are."""
    for name in ("stderr.txt", "stdout.txt"):
        path = logs / name
        text = path.read_text(errors="replace") if path.is_file() else ""
        lines = tail_lines(text)
        if lines:
            label = "stderr" if name == "stderr.txt" else "stdout"
            quoted = "\n  ".join(lines)
            return f"; last {label} lines:\n  {quoted}\n(full log: {path})"
    return f" (it printed nothing; logs in {logs})"
