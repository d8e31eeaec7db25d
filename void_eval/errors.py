"""Error types shared by every part of the toolkit.

One place decides how a failure reads: each error names the file (or input) and the problem on one line, so the
CLI can print it without a traceback.

Examples
--------
>>> err = InputError("clips/a/input_video.mp4", "no video stream")
>>> str(err)
'clips/a/input_video.mp4: no video stream'
>>> str(OutputError("runs/a/run.json", "No space left on device [ENOSPC]"))
'runs/a/run.json: cannot write (No space left on device [ENOSPC])'
"""

from __future__ import annotations

from pathlib import Path


class VoidEvalError(Exception):
    """Base class of every error the toolkit raises on purpose."""


class InputError(VoidEvalError, ValueError):
    """A file or value given by the user is missing, unreadable or inconsistent.

    Parameters
    ----------
    source : str or Path
        The file (or named input) at fault.
    problem : str
        What is wrong with it, in a few words.
    """

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class OutputError(VoidEvalError):
    """A file could not be written (disk full, quota, read-only or missing folder, ...); nothing was left half-written.

    Raised by the one place that writes files (:func:`void_eval.atomic.write_errors`); it names the final file,
    never a temporary one.

    Parameters
    ----------
    target : str or Path
        The file that could not be written.
    cause : str
        The operating system's reason, e.g. ``"No space left on device [ENOSPC]"``.
    """

    def __init__(self, target: str | Path, cause: str) -> None:
        self.target = str(target)
        self.cause = cause
        super().__init__(f"{self.target}: cannot write ({cause})")

    def __reduce__(self):  # rebuilt from its two fields (worker processes send it back pickled)
        return (type(self), (self.target, self.cause))


class MissingExtraError(VoidEvalError, ImportError):
    """An optional dependency is absent; the message carries the command that installs it."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the '{package}' package: pip install 'void-eval[{extra}]' "
            f"-c constraints.txt (or `make install`)"
        )
