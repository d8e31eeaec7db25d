"""The c2pa part of signing: build the manifest, sign the file (or its fragmented view), write the outputs atomically.

The signed file appears under its name only once complete (an exclusive temporary file in the same folder, then
:func:`os.replace`; removed on any failure); a sidecar writes only the manifest store; a remote manifest writes the
asset (carrying the URL) and the store beside it. The output is written by a helper thread while c2pa reads and
hashes (:mod:`forensics.provenance.background_writer`), and c2pa's small reads of the source go through a 1 MiB
buffer. An exception raised by a signer command or callable is reported instead of c2pa's generic failure.

Examples
--------
>>> _IO_BUFFER
1048576
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from forensics.provenance.background_writer import BackgroundWriter
from forensics.provenance.fragment import FragmentedView
from forensics.provenance.job import SignJob, mime_of
from forensics.provenance.manifest import PARENT_ID, THUMBNAIL_ID
from void_eval.atomic import atomic_output, write_bytes_atomic, write_errors
from void_eval.errors import InputError

SIGNING_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False},
    "core": {"backing_store_memory_threshold_in_mb": 0},
}
#: Read buffer for c2pa's small (8-16 KiB) reads of the source: one system call per MiB instead of per call.
_IO_BUFFER = 1 << 20


def sign_with_c2pa(job: SignJob, definition, parent: Path | None, thumbnail: bytes | None, view, signing: dict) -> None:
    """Build the manifest and sign the file (or its fragmented view) into ``job.out``, atomically.

    ``signing`` holds :func:`forensics.provenance.signer.make_signer`'s arguments (chain, key, signer_cmd, signer,
    key_password).
    """
    from c2pa import Builder, C2paError, Context

    from forensics.provenance.signer import make_signer

    c2pa_signer, callback_errors = make_signer(**signing)
    try:
        builder = Builder(definition, Context.from_dict(SIGNING_SETTINGS))
        if parent is not None:
            ingredient = {"title": parent.name, "relationship": "parentOf", "label": PARENT_ID}
            with open(parent, "rb") as parent_stream:
                builder.add_ingredient(ingredient, mime_of(parent), parent_stream)
        if thumbnail is not None:
            builder.add_resource(THUMBNAIL_ID, io.BytesIO(thumbnail))
        if job.remote_url is not None:
            builder.set_remote_url(job.remote_url)
        if job.sidecar or job.remote_url is not None:
            builder.set_no_embed()
        with _source(job, view) as source:
            _write_outputs(job, builder, c2pa_signer, source)
    except FileExistsError as err:  # appeared while signing; never replaced without force
        raise InputError(job.out, "already exists (use --force to replace it)") from err
    except C2paError as err:  # atomic_output has removed its temporary file
        if callback_errors is not None:
            callback_errors.reraise(err)
        raise InputError(job.file, f"c2pa could not sign it: {err}") from err
    finally:
        c2pa_signer.close()


def _source(job: SignJob, view: FragmentedView | None):
    """The stream c2pa reads: the file, or its fragmented view, through a 1 MiB buffer."""
    if view is None:
        # no fsync, as everywhere in the toolkit: os.replace still never shows a partial file
        return open(job.file, "rb", buffering=_IO_BUFFER)
    view.seek(0)
    return io.BufferedReader(view, buffer_size=_IO_BUFFER)


def _write_outputs(job: SignJob, builder, c2pa_signer, source) -> None:
    """Sign into ``job.out`` (the asset, or the store alone for a sidecar), and the store beside a remote one."""
    if job.sidecar:
        with tempfile.TemporaryFile(dir=job.out.parent, prefix=".scratch.", buffering=0) as scratch:
            manifest_bytes = _sign_into(builder, c2pa_signer, job.mime, source, scratch, job.out)
        write_bytes_atomic(job.out, manifest_bytes, replace=job.force)
        return
    with atomic_output(job.out, buffering=0, replace=job.force) as temp:
        manifest_bytes = _sign_into(builder, c2pa_signer, job.mime, source, temp, job.out)
        if job.store_out is not None:  # written before the asset appears, so the pair is never half there
            write_bytes_atomic(job.store_out, manifest_bytes, replace=job.force)


def _sign_into(builder, c2pa_signer, mime: str, source, raw, out: Path) -> bytes:
    """``builder.sign`` from ``source`` into the file ``raw`` through a :class:`BackgroundWriter`.

    The output is written by a helper thread while c2pa reads and hashes (see
    :mod:`forensics.provenance.background_writer`); a failed write (disk full, ...) becomes an
    :class:`~void_eval.errors.OutputError` naming ``out`` instead of c2pa's generic stream error.
    """
    sink = BackgroundWriter(raw)
    try:
        manifest_bytes = builder.sign(c2pa_signer, mime, source, sink)
        sink.close()
    except BaseException:
        sink.abort()
        if isinstance(sink.error, OSError):
            with write_errors(out):  # the one wording of a failed write: the file and the cause
                raise sink.error  # noqa: B904 - chained to what c2pa raised, by the except clause
        if sink.error is not None:
            raise InputError(out, f"could not write the signed file: {sink.error}") from sink.error
        raise
    return manifest_bytes
