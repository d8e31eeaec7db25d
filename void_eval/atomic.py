"""Atomic file output for the whole toolkit: a private temporary file in the target's folder, then :func:`os.replace`.

The temporary file is made by :func:`tempfile.mkstemp` (a fresh random name opened with ``O_CREAT | O_EXCL``, mode
0600, never following a planted symlink), so a reader never sees a partial file, a private key is never readable
by others while it is written, and any failure (an exception while writing, a failed ``json.dump``) removes the
temporary file instead of leaving a ``.part`` behind.

Every temporary name starts with ``.`` and carries ``.part`` (:func:`is_temp_name`), so the few a killed process
leaves behind are recognised and removed by the next writer of the folder (:func:`remove_stale_temp_files`). An
operating-system error while writing (disk full, quota, read-only folder, ...) becomes one
:class:`~void_eval.errors.OutputError` naming the final file and the cause (:func:`write_errors`), with the
temporary file removed.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = write_json_atomic(folder / "index.json", {"signed": []})
>>> json.loads((folder / "index.json").read_text())
{'signed': []}
>>> with atomic_output(folder / "data.bin") as handle:
...     _ = handle.write(b"abc")
>>> (folder / "data.bin").read_bytes(), sorted(path.name for path in folder.iterdir())
(b'abc', ['data.bin', 'index.json'])
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from void_eval.errors import OutputError

#: What every temporary name carries (``.NAME.RANDOM.part`` or ``.NAME.RANDOM.part.SUFFIX``).
TEMP_MARK = ".part"


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of this toolkit's temporary names (a hidden name ending ``.part[.suffix]``).

    Examples
    --------
    >>> is_temp_name(".output.mp4.k2j3x.part.mp4"), is_temp_name(".run.json.a8q.part"), is_temp_name("a.part")
    (True, True, False)
    """
    if not name.startswith(".") or name in (".", ".."):
        return False
    return name.endswith(TEMP_MARK) or f"{TEMP_MARK}." in name[1:]


def remove_stale_temp_files(root: str | Path) -> list[Path]:
    """Delete the temporary files a killed writer left anywhere under ``root``; returns what was removed.

    Only call it while no other process writes under ``root`` (a run folder's lock guarantees that).
    """
    removed = []
    for path in sorted(Path(root).rglob(f".*{TEMP_MARK}*")):
        if path.is_file() and not path.is_symlink() and is_temp_name(path.name):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def os_error_cause(err: OSError) -> str:
    """The operating system's reason in a few words, with the errno's symbolic name (``... [ENOSPC]``)."""
    code = err.errno if isinstance(err.errno, int) else None
    text = err.strerror or (os.strerror(code) if code else str(err)) or type(err).__name__
    name = errno.errorcode.get(code) if code else None
    return f"{text} [{name}]" if name else str(text)


def _concerns(err: OSError, path: Path) -> bool:
    """Whether ``err`` is about writing ``path``: it names no file, or ``path``, a folder above it or a sibling."""
    names = [name for name in (err.filename, getattr(err, "filename2", None)) if isinstance(name, str | bytes)]
    if not names:
        return True
    target = path.resolve()
    for name in names:
        other = Path(os.fsdecode(name)).resolve()
        if other == target or other in target.parents or other.parent == target.parent:
            return True
    return False


@contextmanager
def write_errors(path: str | Path) -> Iterator[None]:
    """Turn an OS error raised while writing ``path`` into one :class:`~void_eval.errors.OutputError` naming it.

    The one place where writers (:func:`atomic_output`, :func:`atomic_path`, :class:`void_eval.video.VideoWriter`,
    the runner's and the report's files) translate ENOSPC, EDQUOT, EROFS, EACCES, EIO, ... An error about another
    file (an input that could not be read) and :class:`FileExistsError` (a decision, not a failure) pass through.

    Examples
    --------
    >>> with write_errors("/runs/a/run.json"):
    ...     raise OSError(errno.ENOSPC, "No space left on device")
    Traceback (most recent call last):
    ...
    void_eval.errors.OutputError: /runs/a/run.json: cannot write (No space left on device [ENOSPC])
    """
    try:
        yield
    except OutputError as err:  # a nested writer's temporary file is named after the file it becomes
        inner = Path(err.target)
        if not (is_temp_name(inner.name) and inner.parent == Path(path).parent):
            raise
        raise OutputError(path, err.cause) from err.__cause__
    except OSError as err:
        if isinstance(err, FileExistsError) or not _concerns(err, Path(path)):
            raise
        raise OutputError(path, os_error_cause(err)) from err


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0666 minus the process umask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _publish(temp_name: str, path: Path, replace: bool) -> None:
    """Move the finished temporary file to ``path``; with ``replace=False`` never over an existing file.

    Without replacing, the file is hard-linked (which fails if ``path`` exists, however late it appeared) and the
    temporary name removed; on a filesystem without hard links the existence check and the rename are two steps.
    """
    if replace:
        os.replace(temp_name, path)
        return
    try:
        os.link(temp_name, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network or FAT filesystems)
        if path.exists():
            raise FileExistsError(f"{path} already exists") from None
        os.replace(temp_name, path)
        return
    os.unlink(temp_name)


@contextmanager
def atomic_output(
    path: str | Path, *, mode: int | None = None, fsync: bool = False, buffering: int = -1, replace: bool = True
) -> Iterator[IO[bytes]]:
    """Open a binary temporary file beside ``path``; on a clean exit it replaces ``path``, on error it is removed.

    Parameters
    ----------
    path : str or Path
        The final file. Its folder must exist.
    mode : int, optional, keyword-only
        Permission bits of the final file (e.g. ``0o600`` for a private key). ``None``: 0666 minus the umask, as a
        plain ``open`` would give. The temporary file is 0600 until the data is complete.
    fsync : bool, keyword-only
        Flush the data to disk before the rename (for files whose loss after a crash matters, like keys).
    buffering : int, keyword-only
        Buffer size passed to :func:`open` (``-1``: the default).
    replace : bool, keyword-only
        Replace an existing ``path``. ``False`` raises :class:`FileExistsError` (and removes the temporary file)
        when ``path`` exists at the end, even if it appeared while the data was written.

    Yields
    ------
    file object
        Writable binary handle (also seekable and readable, for libraries that patch what they wrote).
    """
    path = Path(path)
    with write_errors(path):
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_MARK)
        try:
            with os.fdopen(descriptor, "w+b", buffering=buffering) as handle:
                yield handle
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.chmod(temp_name, _default_mode() if mode is None else mode)
            _publish(temp_name, path, replace)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


def write_bytes_atomic(
    path: str | Path, data: bytes, *, mode: int | None = None, fsync: bool = False, replace: bool = True
) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`); returns ``path``."""
    with atomic_output(path, mode=mode, fsync=fsync, replace=replace) as handle:
        handle.write(data)
    return Path(path)


def write_text_atomic(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"), mode=mode)


def write_json_atomic(path: str | Path, content: Any, *, indent: int | None = 2, **dumps_options: Any) -> Path:
    """Write ``content`` as JSON to ``path`` atomically; a value JSON cannot encode leaves no file behind."""
    text = json.dumps(content, indent=indent, **dumps_options) + "\n"  # encoded before any file exists
    return write_text_atomic(path, text)


@contextmanager
def atomic_path(path: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` for libraries that write to a path themselves (pandas, matplotlib).

    On a clean exit it replaces ``path``; on error it is removed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as temp:
    ...     _ = temp.write_text("a,b\\n1,2\\n")
    >>> target.read_text()
    'a,b\\n1,2\\n'
    """
    path = Path(path)
    with write_errors(path):
        suffix = TEMP_MARK + path.suffix  # the real suffix last: libraries pick the format from it
        descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
        os.close(descriptor)
        try:
            yield Path(temp_name)
            os.chmod(temp_name, _default_mode() if mode is None else mode)
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise


@contextmanager
def atomic_folder(path: str | Path, *, replace: bool = False) -> Iterator[Path]:
    """A private temporary folder beside ``path`` to fill; on a clean exit it becomes ``path``, on error it is removed.

    ``replace`` removes an existing ``path`` just before the rename (that removal and the rename are two steps);
    without it an existing ``path`` raises :class:`FileExistsError`. The folder gets the mode a plain ``mkdir``
    would (0777 minus the umask); files inside keep theirs.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> target = Path(tempfile.mkdtemp()) / "ladder"
    >>> with atomic_folder(target) as temp:
    ...     _ = (temp / "a.txt").write_text("a")
    >>> sorted(path.name for path in target.iterdir())
    ['a.txt']
    """
    import shutil

    path = Path(path)
    with write_errors(path):
        temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_MARK))
    try:
        yield temp
        mask = os.umask(0o022)
        os.umask(mask)
        os.chmod(temp, 0o777 & ~mask)
        if path.exists():
            if not replace:
                raise FileExistsError(f"{path} already exists")
            shutil.rmtree(path)
        os.replace(temp, path)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
