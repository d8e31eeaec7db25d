"""Verify C2PA manifests: the state of every manifest in a file's history, failure codes, signers, the removal record.

States (see :mod:`forensics.provenance.codes`):

- ``Trusted``: intact, and the signing certificate chains to a given trust anchor;
- ``Valid``: intact, but the signer is not trusted (no ``trust`` given, or another anchor):
  failure code ``signingCredential.untrusted``;
- ``Invalid``: something was changed after signing (``assertion.bmffHash.mismatch``,
  ``assertion.dataHash.mismatch``, ``claimSignature.mismatch``, ...) or the manifest store cannot be validated; a
  store c2pa cannot read at all keeps the specific code of its error (``algorithm.unsupported``,
  ``claim.malformed``; ``general.error`` when c2pa gives none), with c2pa's message in ``detail``;
- ``NoManifest``: no manifest at all (never signed, stripped, or re-encoded);
- ``Remote``: the file only points to a manifest at a URL (``remote_url``). It is never fetched; a local copy of it
  (``FILE.c2pa`` beside the file, or ``sidecar=``) is verified instead when there is one.

Every manifest is judged on its own (:func:`forensics.provenance.store.manifest_states`): ``state`` and
``failures`` are the active manifest's, ``manifests`` has each manifest of the history keyed by its label, and
:attr:`VerifyResult.worst_state` is the worst of them all (and of c2pa's own overall state), so a trusted file
whose parent was signed by an untrusted key is never reported as trusted.

A file that cannot be checked at all (missing, a directory, empty, a suffix outside :data:`SUPPORTED_SUFFIXES`,
content that does not start like its suffix says, a bad trust file) raises :class:`InputError` (the ``verify``
command prints ``error: FILE: ...`` and exits 2 before checking anything), so ``Invalid`` is kept for changed files.

Exit codes (:func:`exit_code`, worst file first): 1 Invalid anywhere, 5 Remote (not fetched), 3 NoManifest,
4 Valid (untrusted signer or ingredient), 0 all Trusted; 2 is the command's usage error.

Examples
--------
>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from void_eval.video import write_video
>>> path = Path(tempfile.mkdtemp()) / "plain.mp4"
>>> _ = write_video(path, np.zeros((2, 16, 16, 3), np.uint8), 4)
>>> result = verify_file(path)
>>> result.state, result.failures, exit_code([result])
('NoManifest', [], 3)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.provenance import store as stores
from forensics.provenance.codes import STATE_RANK, State, code_for_error, remote_url_of, worst
from void_eval.errors import InputError

_MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png"}
_MIME |= {".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
#: File suffixes :func:`verify_file` accepts (anything else is an :class:`InputError`, not a state).
SUPPORTED_SUFFIXES = tuple(sorted(_MIME))
#: ``verify`` exit code per worst state; the first state in this order present among the files decides.
EXIT_CODES: dict[str, int] = {"Invalid": 1, "Remote": 5, "NoManifest": 3, "Valid": 4, "Trusted": 0}
#: How each supported type starts (bytes at an offset): c2pa needs ``ftyp`` as the first box of an ISO BMFF file.
_MAGIC = {
    "video/mp4": (4, b"ftyp"),
    "video/quicktime": (4, b"ftyp"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": (0, b"\xff\xd8\xff"),
}


@dataclass
class VerifyResult:
    """What :func:`verify_file` found in one file.

    Attributes
    ----------
    file : str
        The file checked.
    state : {"Trusted", "Valid", "Invalid", "NoManifest", "Remote"}
        The active manifest's own state (or the file's, when it has none or only a remote one).
    failures : list of str
        The active manifest's own failure codes (``signingCredential.untrusted`` for a valid untrusted one).
    signer : dict or None
        ``common_name``, ``issuer``, ``alg``, ``time``, ``cert_serial_number`` of the signing certificate.
    actions : list of dict
        The active manifest's actions (``action``, ``digitalSourceType``, ``softwareAgent``, ``description``).
    removal : dict or None
        The active manifest's removal record (assertion ``org.voideval.removal``), when present.
    ingredients : list of dict
        The active manifest's ingredients: ``title``, ``format``, ``relationship``, ``manifest``, ``state``,
        ``failures``, ``signer``.
    manifests : dict
        Every manifest of the store keyed by label (see :func:`forensics.provenance.store.manifest_states`).
    active_manifest : str or None
        Label of the active manifest.
    c2pa_state : str or None
        c2pa's own overall validation state (it folds ingredients in).
    manifest_source : {"embedded", "sidecar"} or None
        Where the manifest store came from.
    remote_url : str or None
        Where the file says its manifest lives, when it points to a remote one.
    detail : str
        Why a manifest store could not be read (empty otherwise).
    """

    file: str
    state: State
    failures: list[str] = field(default_factory=list)
    signer: dict[str, Any] | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    removal: dict[str, Any] | None = None
    ingredients: list[dict[str, Any]] = field(default_factory=list)
    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    active_manifest: str | None = None
    c2pa_state: str | None = None
    manifest_source: str | None = None
    remote_url: str | None = None
    detail: str = ""

    @property
    def worst_state(self) -> State:
        """The worst state over the active manifest, every manifest and ingredient of its history, and c2pa's own.

        An ingredient without a manifest (an unsigned original) does not count.
        """
        states = [self.state]
        for entry in self.manifests.values():
            states += [entry["state"]] if entry["state"] else []
            states += [item["state"] for item in entry["ingredients"] if item["state"] != "NoManifest"]
        if self.c2pa_state in STATE_RANK:
            states.append(self.c2pa_state)
        return worst(states)

    def history(self) -> list[str]:
        """Labels of the active manifest and the manifests of its ingredients, breadth first."""
        return stores.history(self.manifests, self.active_manifest)

    def declared_removal(self) -> dict[str, Any] | None:
        """The removal record nearest to the file in its history (the active manifest's first), or ``None``."""
        for label in self.history():
            if self.manifests[label]["removal"] is not None:
                return self.manifests[label]["removal"]
        return self.removal

    def untrusted(self) -> list[str]:
        """``title (label)`` of each manifest in the history whose state is ``Valid`` (signer not trusted)."""
        return [f"{entry['title']} ({label})" for label, entry in self.manifests.items() if entry["state"] == "Valid"]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON dict: file, state, failures, worst_state, c2pa_state, signer, actions, removal, ingredients,
        active_manifest, manifests (keyed by label), manifest_source, remote_url (+ detail)."""
        payload = {
            "file": self.file,
            "state": self.state,
            "failures": list(self.failures),
            "worst_state": self.worst_state,
            "c2pa_state": self.c2pa_state,
            "signer": self.signer,
            "actions": self.actions,
            "removal": self.removal,
            "ingredients": self.ingredients,
            "active_manifest": self.active_manifest,
            "manifests": self.manifests,
            "manifest_source": self.manifest_source,
            "remote_url": self.remote_url,
        }
        if self.detail:
            payload["detail"] = self.detail
        return payload


def check_readable(path: str | Path, role: str = "file") -> Path:
    """:class:`InputError` unless ``path`` is an existing, non-empty regular file (a directory is named as such)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a directory, not a file" if role == "file" else f"{role} is a directory")
    if not path.exists():
        raise InputError(path, f"{role} not found")
    if not path.is_file():
        raise InputError(path, f"{role} is not a regular file")
    if path.stat().st_size == 0:
        raise InputError(path, f"{role} is empty (0 bytes)")
    return path


def read_trust_anchors(trust: str | Path) -> str:
    """The PEM text of a trust anchor file; :class:`InputError` when missing, a folder, or without certificate."""
    trust = check_readable(trust, "trust anchor file")
    anchors = trust.read_text(errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in anchors:
        raise InputError(trust, "trust anchor file holds no PEM certificate")
    return anchors


def reading_context(trust: str | Path | None):
    """A c2pa ``Context`` for reading: no remote fetches; the PEM anchors in ``trust`` when given."""
    from c2pa import Context

    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False}}
    if trust is not None:
        settings["trust"] = {"user_anchors": read_trust_anchors(trust)}
    return Context.from_dict(settings)


def check_verifiable(path: str | Path, *, trust: str | Path | None = None, sidecar: str | Path | None = None) -> str:
    """The MIME type of ``path``; :class:`InputError` when it (or ``trust``/``sidecar``) cannot be checked at all."""
    path = check_readable(path)
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        found = f"'{path.suffix}'" if path.suffix else "(no suffix)"
        raise InputError(path, f"unsupported file type {found} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    offset, magic = _MAGIC[mime]
    with open(path, "rb") as stream:
        head = stream.read(offset + len(magic))
    if head[offset:] != magic:
        raise InputError(
            path, f"content is not {mime} (it does not start with {magic!r} at byte {offset}); cannot be checked"
        )
    if sidecar is not None:
        check_readable(sidecar, "sidecar manifest")
    if trust is not None:
        read_trust_anchors(trust)
    return mime


def verify_file(
    path: str | Path, *, trust: str | Path | None = None, sidecar: str | Path | None = None
) -> VerifyResult:
    """Verify one file's C2PA manifest store (embedded, a sidecar ``.c2pa`` store, or a local copy of a remote one).

    Parameters
    ----------
    path : str or Path
        The asset (mp4, m4v, mov, png, jpeg).
    trust : str or Path, optional, keyword-only
        PEM file of trust anchors (root certificates). Without it nothing can be ``Trusted``.
    sidecar : str or Path, optional, keyword-only
        A manifest store written by ``sign --sidecar`` (or fetched from the file's remote URL). When omitted and the
        file has no embedded manifest, ``<file stem>.c2pa`` beside it is used if present.

    Returns
    -------
    VerifyResult

    Raises
    ------
    InputError
        When the file cannot be checked at all (see the module docstring): never reported ``Invalid``.
    """
    from c2pa import C2paError

    path = Path(path)
    mime = check_verifiable(path, trust=trust, sidecar=sidecar)
    context = reading_context(trust)
    remote = None
    try:
        found = None if sidecar is not None else _read_store(path, mime, None, context)
    except C2paError as err:
        remote = remote_url_of(str(err))
        if remote is None:
            return _unreadable(path, err, "embedded")
        found = None
    if found is not None:
        return _result(path, *found, source="embedded")
    candidate = Path(sidecar) if sidecar is not None else path.with_suffix(".c2pa")
    if candidate.is_file():
        try:
            found = _read_store(path, mime, candidate.read_bytes(), context)
        except C2paError as err:
            return _unreadable(path, err, "sidecar", remote)
        if found is not None:
            return _result(path, *found, source="sidecar", remote_url=remote)
    if remote is not None:
        return VerifyResult(
            file=str(path), state="Remote", remote_url=remote, detail=f"manifest at {remote} (not fetched)"
        )
    return VerifyResult(file=str(path), state="NoManifest")


def _read_store(path: Path, mime: str, manifest: bytes | None, context) -> tuple[dict[str, Any], str] | None:
    """The store JSON and c2pa's state, or ``None`` when the file (with ``manifest``, when given) has none."""
    from c2pa import Reader

    with open(path, "rb") as stream:
        reader = Reader.try_create(mime, stream, manifest, context)
        if reader is None:
            return None
        with reader:
            return json.loads(reader.json()), reader.get_validation_state()


def _unreadable(path: Path, err: Exception, source: str, remote: str | None = None) -> VerifyResult:
    message = str(err)
    return VerifyResult(
        file=str(path),
        state="Invalid",
        failures=[code_for_error(message)],
        manifest_source=source,
        remote_url=remote,
        detail=message,
    )


def _result(path: Path, store: dict[str, Any], c2pa_state: str | None, *, source: str, remote_url=None):
    manifests = stores.manifest_states(store)
    label = store.get("active_manifest")
    active = (store.get("manifests") or {}).get(label or "", {})
    entry = manifests.get(label or "")
    state, failures = (entry["state"], entry["failures"]) if entry else ("Invalid", ["claim.missing"])
    return VerifyResult(
        file=str(path),
        state=state,
        failures=list(failures),
        signer=stores.signer_of(active),
        actions=stores.actions_of(active),
        removal=stores.removal_of(active),
        ingredients=entry["ingredients"] if entry else [],
        manifests=manifests,
        active_manifest=label,
        c2pa_state=c2pa_state,
        manifest_source=source,
        remote_url=remote_url,
    )


def exit_code(results: list[VerifyResult]) -> int:
    """``verify``'s exit code over files: 1 any Invalid, else 5 any Remote, else 3 any NoManifest, else 4 any Valid
    (untrusted signer or ingredient), else 0.

    Each file counts with its :attr:`~VerifyResult.worst_state`: a trusted file whose ingredient is untrusted
    gives 4, a tampered ingredient gives 1.
    """
    states = {result.worst_state for result in results}
    for state, code in EXIT_CODES.items():
        if state in states:
            return code
    return 0
