"""What a manifest holds besides the signature: the removal record and, for an mp4, a thumbnail of its first frame.

Both need heavy libraries: the record asks void-eval's method registry (which imports NumPy and OpenCV) and the
thumbnail decodes one frame with PyAV (a 1080p lossless frame takes ~30 MB while it is decoded). Those libraries
stay mapped once imported, so building them in the signing process would add ~55 MB to its peak on top of what
c2pa needs. :func:`start_preparation` therefore builds them in a short-lived child process (``python -m
forensics.provenance.prepare``: a JSON request on stdin, a JSON answer on stdout) while the signing process goes on
with its own checks; :func:`prepare_inputs` builds them in this process instead.

The request travels as JSON, so method parameters, metric rows and extra record fields are passed in their JSON form
(:func:`forensics.provenance.record.json_safe`), which is also the form the record stores. Errors cross back
unchanged in kind: an :class:`~void_eval.errors.InputError` (bad clip, unknown parameter, undecodable video) is
raised again with the same source and problem; ``ValueError``/``TypeError`` likewise; any other toolkit error
(:class:`~void_eval.errors.VoidEvalError`), or a child that dies or fails otherwise, raises
:class:`HelperError` (a toolkit error, so the command line prints it on one line) with the child's message. The
child runs with ``python -P``: the working folder is not on its import path, so a stray ``json.py`` where someone
signs is never imported. Anything a library prints in the child goes to its stderr; only the answer reaches stdout.

Examples
--------
>>> inputs = prepare_inputs(file=None, thumbnail=False, method="telea", params={"radius": 3})
>>> inputs.record["method"]["name"], inputs.record["rewritten_levels"], inputs.thumbnail is None
('telea', ['remove', 'overlap'], True)
>>> pending = start_preparation(file=None, thumbnail=False, method="telea", params={"radius": 3})
>>> pending.result().record == inputs.record
True
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from void_eval.errors import InputError, VoidEvalError

#: Longest side of the mp4 thumbnail, in pixels.
THUMBNAIL_SIDE = 512


class HelperError(VoidEvalError, RuntimeError):
    """The manifest helper process died or failed with something other than a bad input."""


@dataclass(frozen=True)
class ManifestInputs:
    """The removal record (JSON-safe dict) and the JPEG thumbnail (``None`` when none was asked for).

    ``helper_peak_rss_mb`` is the child process's peak resident memory when it was built in one, else ``None``.
    """

    record: dict[str, Any]
    thumbnail: bytes | None
    helper_peak_rss_mb: float | None = None


def thumbnail_jpeg(path: str | Path) -> bytes:
    """JPEG of the video's first frame, longest side at most :data:`THUMBNAIL_SIDE` pixels.

    Decodes only the first frame, single-threaded (no probe: counting packets would read the whole file), and
    scales and encodes with FFmpeg (swscale area filter, mjpeg).

    Raises
    ------
    InputError
        The file has no decodable video frame.
    """
    from fractions import Fraction

    import av

    try:
        with _open_for_first_frame(av, str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            frame = next(container.decode(stream))
    except (av.FFmpegError, IndexError, StopIteration) as err:
        raise InputError(path, "no decodable video frame for the thumbnail") from err
    scale = min(1.0, THUMBNAIL_SIDE / max(frame.height, frame.width))
    width, height = (max(2, round(frame.width * scale) // 2 * 2), max(2, round(frame.height * scale) // 2 * 2))
    small = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qmin": "2", "qmax": "6"}
    small.pts = 0
    data = b"".join(bytes(packet) for packet in [*encoder.encode(small), *encoder.encode(None)])
    if not data.startswith(b"\xff\xd8"):
        raise InputError(path, "could not encode a thumbnail of the first frame")
    return data


def _open_for_first_frame(av, path: str):
    """``av.open`` without decoding frames while probing (``skip_frame=all`` for the probe's decoders).

    Probing an H.264 stream otherwise decodes frames just to guess its reorder delay; for a lossless 1080p frame
    that doubles the thumbnail's cost. The probe still reads the stream parameters; the frame is decoded afterwards
    by the stream's own decoder, which this option does not touch. Formats that expose no stream before probing
    (PyAV refuses per-stream options for them) are opened plainly.
    """
    try:
        return av.open(path, stream_options=[{"skip_frame": "all"}] * 16)
    except ValueError as err:  # "this format does not expose its streams before avformat_find_stream_info"
        if isinstance(err, av.FFmpegError):  # PyAV's errors are ValueErrors too: a broken file stays an error
            raise
        return av.open(path)


def prepare_inputs(
    *,
    file: str | Path | None,
    thumbnail: bool,
    method: str | None = None,
    params: Mapping[str, Any] | None = None,
    clip: str | Path | None = None,
    metrics: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> ManifestInputs:
    """Build the removal record (and the thumbnail of ``file`` when ``thumbnail``) in this process.

    Parameters
    ----------
    file : str or Path or None, keyword-only
        The video to take the thumbnail from (needed only with ``thumbnail=True``).
    thumbnail : bool, keyword-only
        Make a JPEG thumbnail of the first frame.
    method, params, clip, metrics, extra : keyword-only
        As for :func:`forensics.provenance.record.removal_record` (``clip`` is its ``clip_dir``).

    Returns
    -------
    ManifestInputs
    """
    from forensics.provenance.record import removal_record

    if thumbnail and file is None:
        raise ValueError("a thumbnail needs the file")
    # the thumbnail first: its decoder memory is freed and handed back before the record's imports (decoding in a
    # thread alongside those imports was measured slower, the GIL contended, and raised the peak by ~25 MB)
    jpeg = thumbnail_jpeg(file) if thumbnail else None
    _release_free_heap()
    record = removal_record(method=method, params=params, clip_dir=clip, metrics=metrics, extra=extra)
    return ManifestInputs(record=record, thumbnail=jpeg)


def _release_free_heap() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``); a no-op where that does not exist."""
    import ctypes

    try:
        trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # this process's own symbols: libc is among them
    except OSError:
        return
    if trim is not None:
        trim(0)


class PendingInputs:
    """A child process building :class:`ManifestInputs`; :meth:`result` waits for it, :meth:`cancel` stops it."""

    def __init__(self, process: subprocess.Popen) -> None:
        self._process = process
        self._collected = False

    def result(self) -> ManifestInputs:
        """Wait for the child and return what it built (raises what it raised; see the module docstring)."""
        if self._collected:
            raise RuntimeError("the manifest helper's result was already collected (or cancelled)")
        stdout, stderr = self._process.communicate()  # if interrupted here, cancel() still stops the child
        self._collected = True
        answer = _parse_answer(stdout, stderr, self._process.returncode)
        if not answer["ok"]:
            raise _error_from(answer)
        jpeg = base64.b64decode(answer["thumbnail"]) if answer["thumbnail"] is not None else None
        return ManifestInputs(record=answer["record"], thumbnail=jpeg, helper_peak_rss_mb=answer["peak_rss_mb"])

    def cancel(self) -> None:
        """Stop the child (when signing gave up before its result was needed); a no-op after :meth:`result`."""
        if self._collected:
            return
        self._collected = True
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()


def start_preparation(
    *,
    file: str | Path | None,
    thumbnail: bool,
    method: str | None = None,
    params: Mapping[str, Any] | None = None,
    clip: str | Path | None = None,
    metrics: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PendingInputs:
    """Start building the record and thumbnail in a child process (same arguments as :func:`prepare_inputs`).

    Returns at once; call :meth:`PendingInputs.result` for the :class:`ManifestInputs`.
    """
    from forensics.provenance.record import json_safe

    if thumbnail and file is None:
        raise ValueError("a thumbnail needs the file")
    request = {
        "file": None if file is None else str(file),  # the child runs in this working folder
        "thumbnail": bool(thumbnail),
        "method": method,
        "params": json_safe(dict(params)) if params is not None else None,
        "clip": None if clip is None else str(clip),
        "metrics": json_safe([dict(row) for row in metrics]) if metrics is not None else None,
        "extra": json_safe(dict(extra)) if extra is not None else None,
    }
    if not sys.executable:
        raise RuntimeError("no Python executable to run the manifest helper (sys.executable is empty)")
    # the child imports this package from where this process found it, whatever its working folder
    package_root = str(Path(__file__).resolve().parents[2])
    environment = dict(os.environ)
    # the helper does no linear algebra: idle BLAS/OpenMP worker threads would only take CPU from the signer
    environment.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, environment.get("PYTHONPATH")]))
    request_read, request_write = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-P", "-m", "forensics.provenance.prepare"],  # -P: not the working folder
            stdin=request_read,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
    except BaseException:
        os.close(request_write)
        raise
    finally:
        os.close(request_read)
    try:  # the child reads its whole request before doing anything else, so this cannot deadlock
        with open(request_write, "wb") as pipe:
            pipe.write(json.dumps(request).encode())
    except BrokenPipeError as err:  # the child died before reading: report why
        _, stderr = process.communicate()
        _parse_answer(b"", stderr, process.returncode or 1)
        raise HelperError("the manifest helper process closed its input") from err
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return PendingInputs(process)


def _parse_answer(stdout: bytes, stderr: bytes, returncode: int) -> dict[str, Any]:
    text = stdout.decode(errors="replace").strip()
    try:
        answer = json.loads(text.splitlines()[-1]) if text else None
    except json.JSONDecodeError:
        answer = None
    if returncode != 0 or not isinstance(answer, dict) or "ok" not in answer:
        detail = stderr.decode(errors="replace").strip().splitlines()[-5:] or ["no message"]
        raise HelperError(
            f"the manifest helper process (python -m forensics.provenance.prepare) exited with {returncode}: "
            + " | ".join(detail)
        )
    return answer


def _error_from(answer: Mapping[str, Any]) -> Exception:
    kind = answer.get("error")
    if kind == "InputError":
        return InputError(answer["source"], answer["problem"])
    if kind in ("ValueError", "TypeError"):
        return {"ValueError": ValueError, "TypeError": TypeError}[kind](answer["message"])
    return HelperError(f"the manifest helper process failed: {kind}: {answer.get('message')}")


def _peak_rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB elsewhere


def main() -> int:
    """Child entry point: one JSON request on stdin, one JSON answer line on stdout."""
    request = json.loads(sys.stdin.buffer.read())
    answer_stream, sys.stdout = sys.stdout, sys.stderr  # whatever else is printed must not corrupt the answer
    try:
        inputs = prepare_inputs(
            file=request["file"],
            thumbnail=request["thumbnail"],
            method=request["method"],
            params=request["params"],
            clip=request["clip"],
            metrics=request["metrics"],
            extra=request["extra"],
        )
    except InputError as err:
        answer: dict[str, Any] = {"ok": False, "error": "InputError", "source": err.source, "problem": err.problem}
    except (ValueError, TypeError) as err:
        answer = {"ok": False, "error": type(err).__name__, "message": str(err)}
    except Exception as err:  # reported to the parent, which raises HelperError with it
        answer = {"ok": False, "error": type(err).__name__, "message": str(err)}
    else:
        thumbnail = base64.b64encode(inputs.thumbnail).decode() if inputs.thumbnail is not None else None
        answer = {"ok": True, "record": inputs.record, "thumbnail": thumbnail, "peak_rss_mb": _peak_rss_mb()}
    answer_stream.write(json.dumps(answer) + "\n")
    answer_stream.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
