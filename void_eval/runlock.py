"""One writer per run folder: an exclusive lock held by every command that writes one.

``run``, ``bench``, ``report``, ``sign-run`` and ``demo`` hold :func:`run_folder_lock` on their run folder for as
long as they write it, so two of them can never interleave files (a ``results.parquet`` from one method set
beside a ``run.json`` from another). The lock is :class:`filelock.FileLock` on ``RUN_DIR/.void-eval.lock``: an
``flock`` on Linux, which the kernel drops when its holder dies, so a lock left by a killed process (``kill -9``,
the out-of-memory killer) is no lock at all. Beside it, ``RUN_DIR/.void-eval.lock.json`` records who holds it (pid,
host, command, since) for the one-line refusal a second writer gets; a record whose process is gone is reported
as taken over. The lock is re-entrant within a process (``bench`` holds it around ``run_benchmark``, which takes
it too).

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> with run_folder_lock(folder, command="bench"):
...     holder(folder)["command"]
'bench'
>>> holder(folder) is None
True
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from void_eval.atomic import write_errors, write_json_atomic
from void_eval.errors import InputError, VoidEvalError

LOCK_NAME = ".void-eval.lock"
HOLDER_NAME = ".void-eval.lock.json"

log = logging.getLogger("void_eval.runner")

_HELD: dict[Path, tuple[Any, int]] = {}
_GUARD = threading.Lock()


class RunFolderBusyError(VoidEvalError):
    """Another process is writing this run folder.

    Attributes
    ----------
    folder : Path
        The run folder.
    pid : int or None
        The holder's process id (None when its record could not be read).
    """

    def __init__(self, folder: str | Path, record: dict[str, Any] | None) -> None:
        self.folder = Path(folder)
        self.pid = record.get("pid") if record else None
        if record:
            who = f"pid {self.pid}"
            if record.get("host") and record.get("host") != socket.gethostname():
                who += f" on {record['host']}"
            who += f", `void-eval {record.get('command', '?')}` since {record.get('since', '?')}"
        else:
            who = "pid unknown"
        super().__init__(
            f"{self.folder}: run folder in use by another void-eval process ({who}); "
            "wait for it to finish or choose another folder"
        )

    def __reduce__(self):
        return (_rebuild_busy, (str(self.folder), self.pid))


def _rebuild_busy(folder: str, pid: int | None) -> RunFolderBusyError:
    return RunFolderBusyError(folder, {"pid": pid} if pid is not None else None)


def holder(folder: str | Path) -> dict[str, Any] | None:
    """The recorded holder of ``folder``'s lock (pid, host, command, since), or None when there is none."""
    try:
        record = json.loads((Path(folder) / HOLDER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _acquire(folder: Path, command: str):
    from filelock import FileLock, Timeout

    lock = FileLock(folder / LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:  # (an OSError subclass: handled before the translation of real write failures below)
        record = holder(folder)
        for _ in range(20):  # the holder writes its record just after taking the lock
            if record is not None:
                break
            time.sleep(0.05)
            record = holder(folder)
        raise RunFolderBusyError(folder, record) from None
    except OSError as err:
        with write_errors(folder / LOCK_NAME):
            raise err
    try:
        previous = holder(folder)
        if previous and previous.get("pid") != os.getpid():
            state = "still running" if _alive(previous.get("pid")) else "no longer running"
            log.warning(
                "%s: taking over the lock left by pid %s (`void-eval %s`, %s)",
                folder,
                previous.get("pid"),
                previous.get("command", "?"),
                state,
            )
        since = datetime.now(UTC).isoformat(timespec="seconds")
        record = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": since}
        write_json_atomic(folder / HOLDER_NAME, record)
    except BaseException:
        lock.release()
        raise
    return lock


def _release(folder: Path, lock) -> None:
    try:
        current = holder(folder)
        if current and current.get("pid") == os.getpid():
            (folder / HOLDER_NAME).unlink(missing_ok=True)  # while still holding: the next holder's record is safe
    finally:
        lock.release()


@contextmanager
def run_folder_lock(folder: str | Path, *, command: str, create: bool = False) -> Iterator[Path]:
    """Hold ``folder``'s exclusive lock for the ``with`` block (re-entrant within this process).

    Parameters
    ----------
    folder : str or Path
        The run folder.
    command : str
        What holds it (``bench``, ``report``, ...), shown to a second writer.
    create : bool, keyword-only
        Create the folder when missing; otherwise a missing folder is an :class:`~void_eval.errors.InputError`.

    Yields
    ------
    Path
        The folder.

    Raises
    ------
    RunFolderBusyError
        When another process holds the lock (one line: the folder, the holder's pid, command and start).
    """
    folder = Path(folder)
    if not folder.is_dir():
        if not create:
            raise InputError(folder, "run folder not found")
        with write_errors(folder):
            folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    with _GUARD:
        held = _HELD.get(key)
        if held is None:
            held = (_acquire(folder, command), 0)
        _HELD[key] = (held[0], held[1] + 1)
    try:
        yield folder
    finally:
        with _GUARD:
            lock, depth = _HELD.pop(key)
            if depth > 1:
                _HELD[key] = (lock, depth - 1)
            else:
                _release(folder, lock)
