"""Sign a deliverable (mp4, png, jpeg) with a C2PA manifest that records an AI object removal.

The manifest (:mod:`forensics.provenance.manifest`) says the file was made by opening the parent (``c2pa.opened``,
the original as a ``parentOf`` ingredient) and editing it (``c2pa.edited``, digitalSourceType
``compositeWithTrainedAlgorithmicMedia``, a softwareAgent naming void-eval and the method with their versions), plus
the removal record (:mod:`forensics.provenance.record`) as the custom assertion ``org.voideval.removal``. An mp4
gets a JPEG thumbnail of its first frame (c2pa makes PNG/JPEG thumbnails itself). A file with no parent (a report
chart) is signed as ``c2pa.created`` instead.

History (:mod:`forensics.provenance.parent`): the parent is verified first and a parent whose manifest is
``Invalid`` is refused unless ``allow_invalid_parent=True``; its state and codes go into the record under
``parent``. A file that already carries a manifest becomes its own parent ingredient (its history kept) when signed
again without another parent; with another parent it is refused unless ``force=True`` (the record then names the
manifest it replaced).

Safety: the source and the parent are never written; the output appears under its name only once complete (an
exclusive temporary file in the same folder, then :func:`os.replace`, removed on any failure); an existing output
is replaced only with ``force=True``; key files readable by group/others are refused; an encrypted key needs its
passphrase (``key_password``); key bytes never appear in messages. The private key can stay outside this process:
``signer_cmd`` (a command: bytes to sign on stdin, signature on stdout) or ``signer`` (a callable ``bytes ->
bytes``). c2pa's ``verify_after_sign`` stays on, so a key that does not match the certificate, or a signer that
returns a wrong signature, fails the signing and leaves no output (it checks the signature only, not the hashes).

Memory and speed on large mp4s (see ``benchmarks/sign_throughput.py``):

- c2pa reads the largest top-level box whole and holds about 3.4x its size. An mp4 whose largest box exceeds
  :data:`~forensics.provenance.fragment.LARGEST_BOX_BYTES` (16 MiB; most tools write one ``mdat`` holding every
  sample) is therefore signed as a fragmented mp4 with the same samples (:class:`FragmentedView`: no re-encoding,
  no copy written first; about 4 MiB per fragment): the signed file is that fragmented mp4, its manifest records
  ``c2pa.repackaged`` and the record says what the original looked like (one the view cannot present is signed
  as it is, with a line saying what that costs). The toolkit's own mp4s are fragmented already.
  ``core.backing_store_memory_threshold_in_mb`` is 0, so c2pa's intermediate copy of the signed file goes to a
  temporary file in ``TMPDIR`` (it needs free space for one copy while signing) instead of memory.
- The removal record and the mp4 thumbnail are built in a short-lived helper process
  (:mod:`forensics.provenance.prepare`) while the parent is hashed, so PyAV, NumPy, OpenCV and the method
  registry never enter the signing process (``isolate=False`` builds them here); c2pa is loaded only after the
  helper has exited, so the two processes' memory never adds up.
- The signed file is written by a helper thread (:mod:`forensics.provenance.background_writer`) while c2pa reads
  and hashes, so the kernel's write work overlaps the hashing on a second core.

A remote manifest (``remote_url``): the asset written to ``out`` carries only a reference to the URL and the
manifest store goes to ``out`` with the suffix ``.c2pa``, to be published at that URL (``verify`` uses that file
when it lies beside the asset and never fetches the URL).

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

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from forensics.provenance.embed import sign_with_c2pa
from forensics.provenance.fragment import FragmentedView, needs_fragmenting
from forensics.provenance.job import SignJob, check_finite_params, check_job, mime_of
from forensics.provenance.keys import read_private_key_pem
from forensics.provenance.manifest import CHART_SOURCE_TYPE, EDIT_SOURCE_TYPE, manifest_definition
from forensics.provenance.parent import History, check_parent, plan_history
from forensics.provenance.prepare import HelperError, ManifestInputs, prepare_inputs, start_preparation
from void_eval.errors import InputError
from void_eval.hashing import file_sha256

__all__ = ["check_parent", "mime_of", "sign_file"]


def _gather_inputs(job: SignJob, preparation: dict[str, Any], *, isolate: bool) -> tuple[ManifestInputs, str | None]:
    """The record and thumbnail (in the helper process when ``isolate``) while the parent is hashed here."""
    pending = None
    # only a thumbnail, the method registry or a clip's masks need the heavy libraries worth a helper process
    try:  # this process has not loaded c2pa yet
        if isolate and (preparation["thumbnail"] or preparation["method"] or preparation["clip"]):
            pending = start_preparation(**preparation)
        parent_sha256 = file_sha256(job.parent) if job.parent is not None else None
        inputs = pending.result() if pending is not None else prepare_inputs(**preparation)
    except HelperError as err:  # a crashed helper (e.g. a decoder fault on a hostile file): one line naming it
        raise InputError(job.file, f"could not build its removal record or thumbnail: {err}") from err
    finally:
        if pending is not None:
            pending.cancel()  # a no-op once the result is in
    return inputs, parent_sha256


def _parent_facts(history: History, job: SignJob, parent_sha256, *, trust, allow_invalid: bool, echo) -> dict | None:
    """The parent's name, hash, size and C2PA state for the record (after refusing an Invalid one)."""
    parent = history.parent
    if parent is None:
        return None
    check = check_parent(parent, trust=trust, allow_invalid=allow_invalid)
    if echo is not None:
        echo(check.line)
    facts = {
        "name": parent.name,
        "sha256": parent_sha256 if parent == job.parent else file_sha256(parent),
        "bytes": parent.stat().st_size,
        "c2pa_state": check.state,
        "c2pa_failures": check.failures,
    }
    if check.state == "Invalid":
        facts["signed_despite_invalid"] = True
    return facts


def _fragmenting(job: SignJob, echo) -> tuple[FragmentedView | None, dict[str, Any] | None]:
    """A fragmented view of an mp4 whose largest box c2pa would read whole, and what the record says about it."""
    if job.mime != "video/mp4":
        return None, None
    big = needs_fragmenting(job.file)
    if big is None:
        return None, None
    cost = f"note: {job.file} has a {big.size / 1e6:.0f} MB {big.kind} box: c2pa holds about 3.4x that in memory"
    if job.sidecar:  # the asset must stay as it is: say what it costs
        if echo is not None:
            echo(f"{cost} while signing a sidecar (sign without --sidecar to have it repackaged)")
        return None, None
    try:
        view = FragmentedView(job.file)
    except InputError as err:  # signed as it is, and the user is told what that costs
        if echo is not None:
            echo(f"{cost}: it cannot be repackaged ({err.problem})")
        return None, None
    facts = {
        "from": {"name": job.file.name, "bytes": job.file.stat().st_size, "largest_box": big.kind},
        "largest_box_bytes": big.size,
        "fragments": view.fragments,
        "samples": view.samples,
        "how": "same samples, timestamps and sync flags in a fragmented mp4 (moof + mdat); nothing re-encoded",
    }
    if echo is not None:
        echo(
            f"note: {job.file} has a {big.size / 1e6:.0f} MB {big.kind} box; signing it as a fragmented mp4 "
            f"({view.fragments} fragments, same samples, no re-encoding; action c2pa.repackaged)"
        )
    return view, facts


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
    key_password: bytes | None = None,
    remote_url: str | None = None,
) -> Path:
    """Sign ``file`` into ``out`` with the removal manifest; returns ``out``.

    Parameters
    ----------
    file : str or Path
        The deliverable: ``.mp4``, ``.m4v``, ``.png``, ``.jpg``/``.jpeg``. Never modified.
    parent : str or Path or None, keyword-only
        The original it was made from (the ``parentOf`` ingredient). ``None`` signs a creation (``c2pa.created``,
        e.g. a report chart), or re-signs a file that carries a manifest (it becomes its own parent).
    chain : str or Path, keyword-only
        PEM chain: signing certificate first, then intermediates.
    key : str or Path or None, keyword-only
        PEM private key file (mode 0600 or stricter). ``None`` when ``signer_cmd`` or ``signer`` signs.
    out : str or Path, keyword-only
        The signed file, or with ``sidecar=True`` the ``.c2pa`` manifest store (the asset stays untouched).
    clip, method, removal, params, metrics : keyword-only
        What the removal record holds: the clip folder (quadmask hashes and region fractions), the method registry
        name and its parameters, metric summary rows ``{region, metric, reference, value}``, and extra fields
        merged on top.
    sidecar : bool, keyword-only
        Write the manifest store to ``out`` and leave the asset byte-identical.
    signer_cmd, signer : keyword-only
        Sign through a command (bytes on stdin, DER/raw signature on stdout) or a callable ``bytes -> bytes``.
    description, source_type : keyword-only
        The main action's description and IPTC digitalSourceType URL (defaults: see
        :mod:`forensics.provenance.manifest`).
    force : bool, keyword-only
        Replace an existing ``out`` (never the source or the parent), and sign a file that carries a manifest from
        another parent (dropping that manifest; the record names it).
    allow_invalid_parent : bool, keyword-only
        Sign even when the parent's manifest is ``Invalid``; the record says so.
    trust : str or Path, optional, keyword-only
        PEM trust anchors used to judge the parent.
    echo : callable, optional, keyword-only
        Receives the lines worth showing (the parent's state, a repackaging).
    isolate : bool, keyword-only
        Build the record and thumbnail in a short-lived child process (see the module docstring).
    key_password : bytes, optional, keyword-only
        Passphrase of an encrypted ``key``.
    remote_url : str, optional, keyword-only
        Publish the manifest at this URL: ``out`` carries only a reference, the store goes to ``out`` as ``.c2pa``.

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Missing/empty/unsupported files, an output equal to a source, an existing output without ``force``, a
        parent whose manifest is ``Invalid`` (without ``allow_invalid_parent``), a file carrying a manifest signed
        from another parent without ``force``, an unsafe or encrypted key without passphrase, a failing signer,
        or c2pa refusing the file.
    """
    job = check_job(file, parent, out, sidecar=sidecar, force=force, remote_url=remote_url)
    if key is not None:  # before any work: a key others can read, or a locked one, is refused at once
        read_private_key_pem(key, password=key_password)
    check_finite_params(params)
    preparation = {"file": job.file, "thumbnail": job.mime == "video/mp4", "method": method, "params": params}
    preparation |= {"clip": clip, "metrics": metrics, "extra": removal}
    inputs, parent_sha256 = _gather_inputs(job, preparation, isolate=isolate)
    view, repackaged = _fragmenting(job, echo)
    # c2pa loads only now, after the helper has exited: the two processes' peaks never add up
    try:
        history = plan_history(job.file, job.parent, trust=trust, force=force)
        facts = _parent_facts(history, job, parent_sha256, trust=trust, allow_invalid=allow_invalid_parent, echo=echo)
        for name, value in (("parent", facts), ("replaced_manifest", history.replaced), ("repackaged", repackaged)):
            if value:
                inputs.record[name] = value
        with_record = (history.parent is not None and not history.resign) or any((clip, method, removal, metrics))
        definition = _definition(job, history, inputs, description, source_type, with_record=with_record)
        signing = {"chain": chain, "key": key, "signer_cmd": signer_cmd, "signer": signer, "key_password": key_password}
        sign_with_c2pa(job, definition, history.parent, inputs.thumbnail, view, signing)
    finally:
        if view is not None:
            view.close()
    return job.out


def _definition(job: SignJob, history: History, inputs: ManifestInputs, description, source_type, *, with_record):
    """The manifest definition: actions for an edit, a creation or a re-signature, the record when it says anything."""
    has_parent = history.parent is not None
    return manifest_definition(
        job.file.name,
        record=inputs.record,
        has_parent=has_parent,
        thumbnail=inputs.thumbnail is not None,
        description=description,
        source_type=source_type or (EDIT_SOURCE_TYPE if has_parent else CHART_SOURCE_TYPE),
        include_record=with_record or "repackaged" in inputs.record,
        resign=history.resign,
        repackaged=_repackaged_line(inputs.record.get("repackaged")),
    )


def _repackaged_line(facts: dict[str, Any] | None) -> str | None:
    if facts is None:
        return None
    return (
        f"{facts['from']['name']}: one {facts['largest_box_bytes'] / 1e6:.0f} MB {facts['from']['largest_box']} box "
        f"repackaged into a fragmented mp4 ({facts['fragments']} fragments, {facts['samples']} samples unchanged, "
        "nothing re-encoded) so that it could be signed in bounded memory"
    )
