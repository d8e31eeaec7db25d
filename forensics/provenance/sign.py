"""Sign a deliverable (mp4, png, jpeg) with a C2PA manifest that records an AI object removal.

The manifest says: the file was made by opening the parent (``c2pa.opened``, the original as a ``parentOf``
ingredient) and editing it (``c2pa.edited``, digitalSourceType ``compositeWithTrainedAlgorithmicMedia``, a
softwareAgent naming void-eval and the method with their versions, a description), plus the removal record
(:mod:`forensics.provenance.record`) as the custom assertion ``org.voideval.removal``. An mp4 gets a JPEG
thumbnail of its first frame (c2pa makes PNG/JPEG thumbnails itself). A file with no parent (a report chart) is
signed as ``c2pa.created`` instead.

Safety: the parent is verified first (:func:`check_parent`) and a parent whose own manifest is ``Invalid`` (changed
after it was signed) is refused unless ``allow_invalid_parent=True``; its state (Trusted/Valid/NoManifest/Invalid)
and failure codes go into the removal record under ``parent``. The source and the parent are never written; the
output appears under its name only once complete (an exclusive temporary file in the same folder, then
:func:`os.replace`, removed on any failure); an existing output is replaced only with ``force=True``; key files
readable by group/others are refused; key bytes never appear in messages. The private key can stay outside this
process: ``signer_cmd`` (a command: bytes to sign on stdin, signature on stdout) or ``signer`` (a Python callable
``bytes -> bytes``).

The signature is checked as soon as it is made: c2pa's ``verify.verify_after_sign`` stays on, so a key that does not
match the certificate, or a signer command/callable returning a wrong signature, fails the signing and leaves no
output. c2pa-rs does not re-hash the asset in that check (its ``verify_after_sign_hash`` is off by default), so it
costs no second pass over the file; ``void-eval verify`` checks the hashes of a signed file.

Memory and speed on large mp4s (see ``benchmarks/sign_throughput.py``):

- c2pa reads the largest top-level box whole and holds about 3.4x its size: the toolkit's fragmented mp4s keep
  that to one fragment (one frame once frames exceed 4 MiB, e.g. ~9.7 MB for lossless 1080p noise, ~33 MB held),
  while a foreign mp4 with one ``mdat`` costs hundreds of MB (a 545 MB file peaked at 350-560 MB).
  ``core.backing_store_memory_threshold_in_mb`` is 0, so c2pa's intermediate copy of the signed file goes to a
  temporary file in ``TMPDIR`` (the folder needs free space for one copy of the file while signing; it is deleted
  when signing ends) instead of memory.
- The removal record and the mp4 thumbnail are built in a short-lived helper process
  (:mod:`forensics.provenance.prepare`) while the parent is hashed, so PyAV, NumPy, OpenCV and the method
  registry never enter the signing process (``isolate=False`` builds them here); c2pa is loaded (and the parent's
  manifest verified) only after the helper has exited, so the two processes' memory never adds up.
- The signed file is written by a helper thread (:mod:`forensics.provenance.background_writer`) while c2pa reads
  and hashes, so the kernel's write work overlaps the hashing on a second core.

Examples
--------
>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from void_eval.video import write_video
>>> from forensics.provenance.keys import make_dev_pki
>>> from forensics.provenance.verify import verify_file
>>> folder = Path(tempfile.mkdtemp())
>>> pki = make_dev_pki(folder / "pki")
>>> frames = np.random.default_rng(0).integers(0, 255, (4, 32, 48, 3), dtype=np.uint8)
>>> _ = write_video(folder / "original.mp4", frames, 8)
>>> _ = write_video(folder / "edited.mp4", frames[::-1], 8)
>>> signed = sign_file(folder / "edited.mp4", parent=folder / "original.mp4", chain=pki.chain, key=pki.key,
...                    out=folder / "signed.mp4", method="telea")
>>> verify_file(signed, trust=pki.root).state
'Trusted'
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.provenance.background_writer import BackgroundWriter
from forensics.provenance.keys import check_key_permissions
from forensics.provenance.prepare import HelperError, prepare_inputs, start_preparation
from forensics.provenance.record import REMOVAL_LABEL, sha256_file
from void_eval.atomic import atomic_output, write_bytes_atomic, write_errors
from void_eval.errors import InputError

MIME_BY_SUFFIX = {".mp4": "video/mp4", ".m4v": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}
MIME_BY_SUFFIX[".jpeg"] = "image/jpeg"
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
EDIT_SOURCE_TYPE = IPTC + "compositeWithTrainedAlgorithmicMedia"
#: A chart or table rendered from data (report images).
CHART_SOURCE_TYPE = IPTC + "dataDrivenMedia"
SIGNING_SETTINGS: dict[str, Any] = {
    "verify": {"remote_manifest_fetch": False},
    "core": {"backing_store_memory_threshold_in_mb": 0},
}
THUMBNAIL_ID = "thumbnail.jpg"
#: Read buffer for c2pa's small (8-16 KiB) reads of the source: one system call per MiB instead of per call.
_IO_BUFFER = 1 << 20


def mime_of(path: str | Path) -> str:
    """MIME type of a signable file from its suffix; :class:`InputError` for anything but mp4/png/jpeg."""
    path = Path(path)
    mime = MIME_BY_SUFFIX.get(path.suffix.lower())
    if mime is None:
        raise InputError(path, f"cannot sign {path.suffix or 'a file without suffix'}: use .mp4, .png or .jpg")
    return mime


def _check_readable(path: Path, role: str) -> None:
    if not path.exists():
        raise InputError(path, f"{role} not found")
    if not path.is_file():
        raise InputError(path, f"{role} is not a file")
    if path.stat().st_size == 0:
        raise InputError(path, f"{role} is empty (0 bytes)")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    return a.exists() and b.exists() and os.path.samefile(a, b)


@dataclass(frozen=True)
class ParentCheck:
    """The parent's C2PA state as judged before signing a child of it.

    Attributes
    ----------
    path : Path
        The parent file.
    state : {"Trusted", "Valid", "Invalid", "NoManifest"}
        The worse of the parent's own state and its ingredients' (see :attr:`VerifyResult.worst_state`).
    failures : list of str
        Failure codes of the parent and of its ingredients (ingredient codes prefixed ``ingredient <title>:``).
    """

    path: Path
    state: str
    failures: list[str]

    @property
    def line(self) -> str:
        """One line for the terminal: ``parent FILE: STATE (codes)``."""
        text = f"parent {self.path}: {self.state}"
        return text + (f" ({', '.join(self.failures)})" if self.failures else "")


def check_parent(parent: str | Path, *, trust: str | Path | None = None, allow_invalid: bool = False) -> ParentCheck:
    """Verify a parent before a child is signed from it; :class:`InputError` when it is ``Invalid``.

    Parameters
    ----------
    parent : str or Path
        The original the signed file was made from.
    trust : str or Path, optional, keyword-only
        PEM trust anchors (without them a signed parent is at best ``Valid``).
    allow_invalid : bool, keyword-only
        Return an ``Invalid`` result instead of raising.

    Returns
    -------
    ParentCheck

    Raises
    ------
    InputError
        The parent (or one of its ingredients) fails verification: it was changed after it was signed.
    """
    from forensics.provenance.verify import verify_file

    result = verify_file(parent, trust=trust)
    failures = list(result.failures)
    for ingredient in result.ingredients:
        failures += [f"ingredient {ingredient.get('title')}: {code}" for code in ingredient["failures"]]
    check = ParentCheck(path=Path(parent), state=result.worst_state, failures=failures)
    if check.state == "Invalid" and not allow_invalid:
        codes = ", ".join(code for code in failures if code) or "no failure code given"
        raise InputError(
            parent,
            f"parent fails C2PA verification (Invalid: {codes}); it was changed after signing. "
            "Refusing to sign a child of it (use --allow-invalid-parent to sign anyway; the record says so)",
        )
    return check


def _signing_algorithm(chain_pem: bytes):
    from c2pa import C2paSigningAlg

    from forensics.provenance.keys import algorithm_of_chain

    return getattr(C2paSigningAlg, algorithm_of_chain(chain_pem).upper())


class _CallbackErrors:
    """Wraps a signing callback so an exception it raises reaches the caller (c2pa only sees a failure)."""

    def __init__(self, callback: Callable[[bytes], bytes]) -> None:
        self.callback = callback
        self.error: BaseException | None = None

    def __call__(self, data: bytes) -> bytes:
        try:
            signature = self.callback(data)
        except BaseException as err:
            self.error = err
            raise
        if not isinstance(signature, bytes | bytearray) or not signature:
            self.error = TypeError(f"signing callback must return non-empty bytes, got {type(signature).__name__}")
            raise self.error
        return bytes(signature)


def make_signer(
    chain: str | Path,
    *,
    key: str | Path | None = None,
    signer_cmd: str | None = None,
    signer: Callable[[bytes], bytes] | None = None,
):
    """A c2pa ``Signer`` from a chain plus exactly one of: a key file, a signer command, a callable.

    The algorithm follows the chain's signing certificate (P-256 -> ES256, RSA -> PS256, Ed25519 -> Ed25519).
    Returns ``(signer, callback_errors_or_None)``.
    """
    from c2pa import C2paSignerInfo, Signer

    from forensics.provenance.keys import read_chain_pem, read_private_key_pem
    from forensics.provenance.signer_callback import command_signer

    given = [name for name, value in (("key", key), ("signer_cmd", signer_cmd), ("signer", signer)) if value]
    if len(given) != 1:
        raise ValueError(f"give exactly one of key, signer_cmd, signer (got {', '.join(given) or 'none'})")
    chain_pem = read_chain_pem(chain)
    algorithm = _signing_algorithm(chain_pem)
    if key is not None:
        info = C2paSignerInfo(algorithm, chain_pem, read_private_key_pem(key), None)
        return Signer.from_info(info), None
    errors = _CallbackErrors(command_signer(signer_cmd) if signer_cmd else signer)
    return Signer.from_callback(errors, algorithm, chain_pem.decode(), None), errors


def _software_agent(record: Mapping[str, Any]) -> dict[str, Any]:
    from void_eval import __version__

    agent: dict[str, Any] = {"name": "void-eval", "version": __version__}
    method = record.get("method")
    if method:
        agent["org.voideval.method"] = method.get("name")
        agent["org.voideval.method_version"] = method.get("version")
    return agent


def _description(record: Mapping[str, Any]) -> str:
    method = record.get("method") or {}
    name = method.get("name") or "an unnamed method"
    version = method.get("version")
    text = f"AI object removal by {name}" + (f" v{version}" if version else "") + " (void-eval)"
    levels = record.get("rewritten_levels")
    if levels:
        text += f"; quadmask levels rewritten: {', '.join(levels)}"
    fractions = record.get("region_fractions")
    if fractions and fractions.get("remove") is not None:
        text += f"; removed region {fractions['remove']:.2%} of pixels"
    return text


def manifest_definition(
    title: str,
    *,
    record: Mapping[str, Any],
    has_parent: bool,
    thumbnail: bool,
    description: str | None = None,
    source_type: str = EDIT_SOURCE_TYPE,
    include_record: bool = True,
) -> dict[str, Any]:
    """The manifest definition (actions, removal record, optional thumbnail) given to ``c2pa.Builder``."""
    from void_eval import __version__

    agent = _software_agent(record)
    if has_parent:
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
            {
                "action": "c2pa.edited",
                "digitalSourceType": source_type,
                "softwareAgent": agent,
                "description": description or _description(record),
            },
        ]
    else:
        actions = [
            {
                "action": "c2pa.created",
                "digitalSourceType": source_type,
                "softwareAgent": agent,
                "description": description or "made by void-eval",
            }
        ]
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": "void-eval", "version": __version__}],
        "title": title,
        "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}}],
    }
    if include_record:
        definition["assertions"].append({"label": REMOVAL_LABEL, "data": dict(record)})
    if thumbnail:
        definition["thumbnail"] = {"format": "image/jpeg", "identifier": THUMBNAIL_ID}
    return definition


def sign_file(
    file: str | Path,
    *,
    parent: str | Path | None,
    chain: str | Path,
    key: str | Path | None,
    out: str | Path,
    clip: str | Path | None = None,
    method: str | None = None,
    removal: Mapping[str, Any] | None = None,
    sidecar: bool = False,
    signer_cmd: str | None = None,
    signer: Callable[[bytes], bytes] | None = None,
    params: Mapping[str, Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
    description: str | None = None,
    source_type: str | None = None,
    force: bool = False,
    allow_invalid_parent: bool = False,
    trust: str | Path | None = None,
    echo: Callable[[str], None] | None = None,
    isolate: bool = True,
) -> Path:
    """Sign ``file`` into ``out`` with the removal manifest; returns ``out``.

    Parameters
    ----------
    file : str or Path
        The deliverable: ``.mp4``, ``.png``, ``.jpg``/``.jpeg``. Never modified.
    parent : str or Path or None, keyword-only
        The original it was made from (the ``parentOf`` ingredient). ``None`` signs a creation (``c2pa.created``,
        e.g. a report chart).
    chain : str or Path, keyword-only
        PEM chain: signing certificate first, then intermediates.
    key : str or Path or None, keyword-only
        PEM private key file (mode 0600 or stricter). ``None`` when ``signer_cmd`` or ``signer`` signs.
    out : str or Path, keyword-only
        The signed file, or with ``sidecar=True`` the ``.c2pa`` manifest store (the asset stays untouched).
    clip : str or Path, optional, keyword-only
        Clip folder: adds quadmask hashes and region fractions to the removal record.
    method : str, optional, keyword-only
        Method registry name (version and rewritten levels come from the registry).
    removal : mapping, optional, keyword-only
        Extra removal-record fields, merged on top of what ``clip``/``method``/``metrics`` give.
    sidecar : bool, keyword-only
        Write the manifest store to ``out`` and leave the asset byte-identical.
    signer_cmd : str, optional, keyword-only
        Command that signs: bytes on stdin, DER/raw signature on stdout.
    signer : callable, optional, keyword-only
        Python callable ``bytes -> bytes`` that signs (HSM/KMS client code).
    params : mapping, optional, keyword-only
        The method's parameters.
    metrics : list of dict, optional, keyword-only
        Metric summary rows ``{region, metric, reference, value}``.
    description : str, optional, keyword-only
        Action description (a default names method, levels and removed share).
    source_type : str, optional, keyword-only
        IPTC digitalSourceType URL (default: compositeWithTrainedAlgorithmicMedia with a parent,
        dataDrivenMedia without).
    force : bool, keyword-only
        Replace an existing ``out`` (never the source or the parent).
    allow_invalid_parent : bool, keyword-only
        Sign even when the parent's own manifest is ``Invalid`` (tampered after it was signed). Off by default: the
        parent is verified first and a tampered parent is refused. The parent's state is recorded either way.
    trust : str or Path, optional, keyword-only
        PEM trust anchors used to judge the parent (without them a signed parent is at best ``Valid``).
    echo : callable, optional, keyword-only
        Receives one line saying the parent's verification state (the CLI prints it).
    isolate : bool, keyword-only
        Build the removal record and the mp4 thumbnail in a short-lived child process
        (:func:`forensics.provenance.prepare.start_preparation`, run while the parent is hashed), so the libraries
        they need (PyAV, NumPy, OpenCV, the method registry) and the frame decode never enter this process's memory.
        ``False`` builds them here: faster when this process has those libraries loaded already (``sign-run``).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Missing/empty/unsupported files, ``out`` equal to the source or parent, an existing ``out`` without
        ``force``, a parent whose manifest is ``Invalid`` (without ``allow_invalid_parent``), an unsafe key file, a
        failing signer command, or c2pa refusing the file.
    """
    file, out = Path(file), Path(out)
    mime = mime_of(file)
    _check_readable(file, "file to sign")
    parent_path = Path(parent) if parent is not None else None
    if parent_path is not None:
        mime_of(parent_path)
        _check_readable(parent_path, "parent")
    for protected, role in ((file, "the file being signed"), (parent_path, "the parent")):
        if protected is not None and _same_file(out, protected):
            raise InputError(out, f"output is {role}; signing never overwrites its source")
    if not sidecar and MIME_BY_SUFFIX.get(out.suffix.lower()) != mime:
        raise InputError(out, f"output suffix does not match the signed file's type ({mime})")
    if out.exists() and not force:
        raise InputError(out, "already exists (use --force to replace it)")
    if not out.parent.is_dir():
        raise InputError(out.parent, "output folder does not exist")
    if key is not None:  # before any work: a key others can read is refused at once
        check_key_permissions(key)
    _check_finite_params(params)

    thumbnail = mime == "video/mp4"
    preparation: dict[str, Any] = {
        "file": file,
        "thumbnail": thumbnail,
        "method": method,
        "params": params,
        "clip": clip,
        "metrics": metrics,
        "extra": removal,
    }
    # only a thumbnail, the method registry or a clip's masks need the heavy libraries worth a helper process
    pending = None
    try:  # the parent is hashed while the helper works; this process has not loaded c2pa yet
        if isolate and (thumbnail or method or clip):
            pending = start_preparation(**preparation)
        parent_sha256 = sha256_file(parent_path) if parent_path is not None else None
        inputs = pending.result() if pending is not None else prepare_inputs(**preparation)
    except HelperError as err:  # a crashed helper (e.g. a decoder fault on a hostile file): one line naming it
        raise InputError(file, f"could not build its removal record or thumbnail: {err}") from err
    finally:
        if pending is not None:
            pending.cancel()  # a no-op once the result is in
    # c2pa loads only now, after the helper has exited: the two processes' peaks never add up
    from c2pa import Builder, C2paError, Context

    parent_facts = None
    if parent_path is not None:  # a tampered parent must not be laundered into a valid child
        parent_check = check_parent(parent_path, trust=trust, allow_invalid=allow_invalid_parent)
        if echo is not None:
            echo(parent_check.line)
        # c2pa binds a parent without its own manifest by title only: the record adds its hash
        parent_facts = {
            "name": parent_path.name,
            "sha256": parent_sha256,
            "bytes": parent_path.stat().st_size,
            "c2pa_state": parent_check.state,
            "c2pa_failures": parent_check.failures,
        }
        if parent_check.state == "Invalid":
            parent_facts["signed_despite_invalid"] = True
    record = inputs.record
    if parent_facts is not None:
        record["parent"] = parent_facts
    c2pa_signer, callback_errors = make_signer(chain, key=key, signer_cmd=signer_cmd, signer=signer)
    definition = manifest_definition(
        file.name,
        record=record,
        has_parent=parent_path is not None,
        thumbnail=thumbnail,
        description=description,
        source_type=source_type or (EDIT_SOURCE_TYPE if parent_path is not None else CHART_SOURCE_TYPE),
        include_record=parent_path is not None or any(value for value in (clip, method, removal, metrics)),
    )
    context = Context.from_dict(SIGNING_SETTINGS)
    try:
        builder = Builder(definition, context)
        if parent_path is not None:
            ingredient = {"title": parent_path.name, "relationship": "parentOf", "label": "parent"}
            with open(parent_path, "rb") as parent_stream:
                builder.add_ingredient(ingredient, mime_of(parent_path), parent_stream)
        if inputs.thumbnail is not None:
            builder.add_resource(THUMBNAIL_ID, io.BytesIO(inputs.thumbnail))
        # no fsync, as everywhere in the toolkit: os.replace still never shows a partial file; the mode is a
        # deliverable's usual one, not the temporary file's 0600
        with open(file, "rb", buffering=_IO_BUFFER) as source:
            if sidecar:
                builder.set_no_embed()
                with tempfile.TemporaryFile(dir=out.parent, prefix=".scratch.", buffering=0) as scratch:
                    manifest_bytes = _sign_into(builder, c2pa_signer, mime, source, scratch, out)
                write_bytes_atomic(out, manifest_bytes, replace=force)
            else:
                with atomic_output(out, buffering=0, replace=force) as temp:
                    _sign_into(builder, c2pa_signer, mime, source, temp, out)
    except FileExistsError as err:  # appeared while signing; never replaced without force
        raise InputError(out, "already exists (use --force to replace it)") from err
    except C2paError as err:  # atomic_output has removed its temporary file
        if callback_errors is not None and callback_errors.error is not None:
            cause = callback_errors.error
            if isinstance(cause, InputError):
                raise cause from err
            raise InputError("signing callback", f"failed: {type(cause).__name__}: {cause}") from err
        raise InputError(file, f"c2pa could not sign it: {err}") from err
    finally:
        c2pa_signer.close()
    return out


def _check_finite_params(params: Mapping[str, Any] | None) -> None:
    """Refuse a non-finite number among the method parameters (JSON, and so the record, cannot hold it)."""
    for name, value in (params or {}).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"parameter {name}", f"must be a finite number, got {value}")


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
