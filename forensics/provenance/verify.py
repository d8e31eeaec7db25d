"""Verify C2PA manifests: state, failure codes, signer, actions, the removal record, and every ingredient.

States, per file (c2pa's own, plus one for an absent manifest):

- ``Trusted``: the manifest is intact and its signing certificate chains to a given trust anchor;
- ``Valid``: intact, but the signer is not trusted (no ``trust`` given, or a different anchor):
  failure code ``signingCredential.untrusted``;
- ``Invalid``: something was changed after signing (codes such as ``assertion.bmffHash.mismatch``,
  ``assertion.dataHash.mismatch``, ``claimSignature.mismatch``), or the manifest store cannot be read;
- ``NoManifest``: no manifest at all (never signed, stripped, or re-encoded).

A file that cannot be checked at all (missing, empty, a suffix outside :data:`SUPPORTED_SUFFIXES`, or content that
does not start like its suffix says) raises :class:`InputError` instead (the CLI prints ``error: FILE: ...`` and
exits 1 without a state), so ``Invalid`` is kept for files changed after signing.

Ingredients are judged on their own: an ingredient's validation was recorded when it was added and c2pa re-checks
it at read time (``ingredientDeltas``); :func:`verify_file` merges both, so a parent signed by an untrusted key is
reported ``Valid`` (untrusted) even when the top level is ``Trusted``. :func:`exit_code` folds ingredient states in,
so a trusted file with an untrusted or tampered ingredient never exits 0.

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
from typing import Any, Literal

from forensics.provenance.record import REMOVAL_LABEL
from void_eval.errors import InputError

State = Literal["Trusted", "Valid", "Invalid", "NoManifest"]
UNTRUSTED = "signingCredential.untrusted"
TRUSTED = "signingCredential.trusted"
#: Codes c2pa lists under "failure" that do not mean tampering (they only say the signer is not trusted).
TRUST_ONLY_FAILURES = frozenset({UNTRUSTED})
READ_ERROR = "manifest.unreadable"
_MIME = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime", ".png": "image/png"}
_MIME |= {".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
#: File suffixes :func:`verify_file` accepts (anything else is an :class:`InputError`, not a state).
SUPPORTED_SUFFIXES = tuple(sorted(_MIME))
_RANK = {"Trusted": 0, "Valid": 1, "NoManifest": 2, "Invalid": 3}


@dataclass
class VerifyResult:
    """What :func:`verify_file` found in one file.

    Attributes
    ----------
    file : str
        The file checked.
    state : {"Trusted", "Valid", "Invalid", "NoManifest"}
        The active manifest's validation state.
    failures : list of str
        Failure codes of the active manifest (``signingCredential.untrusted`` for a valid untrusted one).
    signer : dict or None
        ``common_name``, ``issuer``, ``alg``, ``time``, ``cert_serial_number`` of the signing certificate.
    actions : list of dict
        The active manifest's actions (``action``, ``digitalSourceType``, ``softwareAgent``, ``description``).
    removal : dict or None
        The removal record (assertion ``org.voideval.removal``), when present.
    ingredients : list of dict
        Each ingredient: ``title``, ``format``, ``relationship``, ``state``, ``failures``, ``manifest``,
        ``signer``.
    manifest_source : {"embedded", "sidecar"} or None
        Where the manifest store came from.
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
    manifest_source: str | None = None
    detail: str = ""

    @property
    def worst_state(self) -> State:
        """The worse of the file's state and its ingredients' (an ingredient without manifest does not count)."""
        states = [self.state] + [item["state"] for item in self.ingredients if item["state"] != "NoManifest"]
        return max(states, key=_RANK.__getitem__)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON dict with keys file, state, failures, signer, actions, removal, ingredients (+ source)."""
        payload = {
            "file": self.file,
            "state": self.state,
            "failures": list(self.failures),
            "signer": self.signer,
            "actions": self.actions,
            "removal": self.removal,
            "ingredients": self.ingredients,
            "manifest_source": self.manifest_source,
        }
        if self.detail:
            payload["detail"] = self.detail
        return payload


def reading_context(trust: str | Path | None):
    """A c2pa ``Context`` for reading: no remote fetches; the PEM anchors in ``trust`` when given."""
    from c2pa import Context

    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False}}
    if trust is not None:
        trust = Path(trust)
        if not trust.is_file():
            raise InputError(trust, "trust anchor file not found")
        anchors = trust.read_text(errors="replace")
        if "-----BEGIN CERTIFICATE-----" not in anchors:
            raise InputError(trust, "holds no PEM certificate")
        settings["trust"] = {"user_anchors": anchors}
    return Context.from_dict(settings)


def _codes(entries: list[dict[str, Any]] | None) -> list[str]:
    return [str(entry.get("code")) for entry in entries or []]


def _signer(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    info = (manifest or {}).get("signature_info")
    if not info:
        return None
    keys = ("common_name", "issuer", "alg", "time", "cert_serial_number")
    return {key: info.get(key) for key in keys if info.get(key) is not None}


def _assertion(manifest: dict[str, Any], label: str) -> Any:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") == label:
            return assertion.get("data")
    return None


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    actions = []
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        data = _assertion(manifest, label)
        for action in (data or {}).get("actions", []):
            keys = ("action", "digitalSourceType", "softwareAgent", "description", "when")
            actions.append({key: action[key] for key in keys if key in action})
    return actions


def _ingredient_state(failures: list[str]) -> State:
    if any(code not in TRUST_ONLY_FAILURES for code in failures):
        return "Invalid"
    if UNTRUSTED in failures:
        return "Valid"
    return "Trusted"


def _ingredients(store: dict[str, Any], manifest: dict[str, Any]) -> list[dict[str, Any]]:
    deltas: dict[str, dict[str, Any]] = {}
    for delta in (store.get("validation_results") or {}).get("ingredientDeltas", []) or []:
        uri = str(delta.get("ingredientAssertionURI", ""))
        deltas[uri.rsplit("/", 1)[-1]] = delta.get("validationDeltas") or {}
    found = []
    for ingredient in manifest.get("ingredients", []):
        entry = {
            "title": ingredient.get("title"),
            "format": ingredient.get("format"),
            "relationship": ingredient.get("relationship"),
            "manifest": ingredient.get("active_manifest"),
        }
        if not ingredient.get("active_manifest"):
            found.append(entry | {"state": "NoManifest", "failures": [], "signer": None})
            continue
        recorded = (ingredient.get("validation_results") or {}).get("activeManifest") or {}
        failures = _codes(recorded.get("failure")) or _codes(ingredient.get("validation_status"))
        delta = deltas.get(str(ingredient.get("label", "")), {})
        if TRUSTED in _codes(delta.get("success")):
            failures = [code for code in failures if code != UNTRUSTED]
        failures += [code for code in _codes(delta.get("failure")) if code not in failures]
        ingredient_manifest = (store.get("manifests") or {}).get(ingredient["active_manifest"])
        found.append(
            entry | {"state": _ingredient_state(failures), "failures": failures, "signer": _signer(ingredient_manifest)}
        )
    return found


#: How each supported type starts (bytes at an offset): c2pa needs ``ftyp`` as the first box of an ISO BMFF file.
_MAGIC = {
    "video/mp4": (4, b"ftyp"),
    "video/quicktime": (4, b"ftyp"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": (0, b"\xff\xd8\xff"),
}


def _check_content(path: Path, mime: str) -> None:
    """:class:`InputError` when the file does not start like its suffix says (a renamed text file, say).

    Such a file cannot be checked at all, so it must not be reported ``Invalid`` (which means tampering).
    """
    offset, magic = _MAGIC[mime]
    with open(path, "rb") as stream:
        head = stream.read(offset + len(magic))
    if head[offset:] != magic:
        raise InputError(
            path, f"content is not {mime} (it does not start with {magic!r} at byte {offset}); cannot be checked"
        )


def verify_file(
    path: str | Path, *, trust: str | Path | None = None, sidecar: str | Path | None = None
) -> VerifyResult:
    """Verify one file's C2PA manifest (embedded, or a sidecar ``.c2pa`` store).

    Parameters
    ----------
    path : str or Path
        The asset (mp4, png, jpeg, ...).
    trust : str or Path, optional, keyword-only
        PEM file of trust anchors (root certificates). Without it nothing can be ``Trusted``.
    sidecar : str or Path, optional, keyword-only
        A manifest store written by ``sign --sidecar``. When omitted and the file has no embedded manifest,
        ``<file stem>.c2pa`` beside it is used if present.

    Returns
    -------
    VerifyResult

    Raises
    ------
    InputError
        When the file (or the named sidecar / trust file) is missing or empty, or the file's type is not one c2pa
        can check (:data:`SUPPORTED_SUFFIXES`): such a file is never reported ``Invalid``, which means tampering.
    """
    from c2pa import C2paError, Reader

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    mime = _MIME.get(path.suffix.lower())
    if mime is None:
        found = f"'{path.suffix}'" if path.suffix else "(no suffix)"
        raise InputError(path, f"unsupported file type {found} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if path.stat().st_size == 0:
        raise InputError(path, "is empty (0 bytes)")
    _check_content(path, mime)
    if sidecar is not None and not Path(sidecar).is_file():
        raise InputError(sidecar, "sidecar manifest not found")
    context = reading_context(trust)
    reader = None
    source = None
    try:
        with open(path, "rb") as stream:
            if sidecar is None:
                reader = Reader.try_create(mime, stream, None, context)
                source = "embedded"
            if reader is None:
                candidate = Path(sidecar) if sidecar is not None else path.with_suffix(".c2pa")
                if candidate.is_file():
                    stream.seek(0)
                    reader = Reader.try_create(mime, stream, candidate.read_bytes(), context)
                    source = "sidecar"
            if reader is None:
                return VerifyResult(file=str(path), state="NoManifest")
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state() or "Invalid"
    except C2paError as err:
        return VerifyResult(
            file=str(path), state="Invalid", failures=[READ_ERROR], manifest_source=source, detail=str(err)
        )
    active = (store.get("manifests") or {}).get(store.get("active_manifest") or "", {})
    failures = _codes(((store.get("validation_results") or {}).get("activeManifest") or {}).get("failure"))
    if not store.get("validation_results") and store.get("validation_status"):
        failures = [str(entry.get("code")) for entry in store["validation_status"]]
    removal = _assertion(active, REMOVAL_LABEL)
    return VerifyResult(
        file=str(path),
        state=state if state in _RANK else "Invalid",
        failures=failures,
        signer=_signer(active),
        actions=_actions(active),
        removal=removal if isinstance(removal, dict) else None,
        ingredients=_ingredients(store, active),
        manifest_source=source,
    )


def exit_code(results: list[VerifyResult]) -> int:
    """CLI exit code: 1 any invalid, else 3 any without manifest, else 4 any only valid (untrusted), else 0.

    Ingredients count: a trusted file whose ingredient is untrusted gives 4, a tampered ingredient gives 1.
    """
    states = {result.worst_state for result in results}
    if "Invalid" in states:
        return 1
    if "NoManifest" in states:
        return 3
    if "Valid" in states:
        return 4
    return 0
