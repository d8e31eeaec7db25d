"""C2PA validation codes and states: what a list of codes means, and the code behind a c2pa read error.

A manifest's state follows from its validation codes:

- ``Invalid``: any failure code other than ``signingCredential.untrusted`` (the file or the manifest was changed,
  or the manifest cannot be validated: ``algorithm.unsupported``, ``claim.malformed``, ...);
- ``Trusted``: no such failure and ``signingCredential.trusted`` among the successes (the signing certificate
  chains to a given trust anchor);
- ``Valid``: intact but not trusted (``signingCredential.untrusted``, or no trust decision at all).

Two more states describe a file rather than a manifest: ``NoManifest`` (none embedded, none beside it) and
``Remote`` (the file only points to a manifest at a URL, which is never fetched: verification never goes online).

When c2pa cannot read a manifest store at all it raises instead of listing codes; :func:`code_for_error` gives the
specification's code for the known messages (the ones c2pa-rs logs for them, e.g. ``algorithm.unsupported`` for a
claim without a hash algorithm) and ``general.error`` otherwise, as c2pa-rs itself does.

Examples
--------
>>> state_of(["signingCredential.untrusted"], [])
'Valid'
>>> state_of([], ["signingCredential.trusted"]), state_of(["assertion.bmffHash.mismatch"], [])
('Trusted', 'Invalid')
>>> code_for_error("Other: unknown algorithm")
'algorithm.unsupported'
>>> remote_url_of("Remote: must fetch remote manifests from url https://example.com/m.c2pa")
'https://example.com/m.c2pa'
>>> worst(["Trusted", "Valid", "Remote"])
'Remote'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

State = Literal["Trusted", "Valid", "Invalid", "NoManifest", "Remote"]
UNTRUSTED = "signingCredential.untrusted"
TRUSTED = "signingCredential.trusted"
#: Failure codes that do not mean tampering (they only say the signer is not trusted).
TRUST_ONLY_FAILURES = frozenset({UNTRUSTED})
GENERAL_ERROR = "general.error"
#: Worse states rank higher: an Invalid anywhere outweighs everything, a Remote (unchecked) outweighs NoManifest.
STATE_RANK: dict[str, int] = {"Trusted": 0, "Valid": 1, "NoManifest": 2, "Remote": 3, "Invalid": 4}
#: c2pa-rs error messages (lower case fragments, most specific first) and the validation code c2pa-rs logs for them.
_ERROR_CODES: tuple[tuple[str, str], ...] = (
    ("unknown algorithm", "algorithm.unsupported"),
    ("signature algorithm is not supported", "algorithm.unsupported"),
    ("claim could not be converted from cbor", "claim.malformed"),
    ("incompatible claim version", "claim.malformed"),
    ("claim missing hard binding", "claim.hardBindings.missing"),
    ("claim contains multiple hard bindings", "assertion.multipleHardBindings"),
    ("claim missing", "claim.missing"),
    ("assertion missing", "assertion.missing"),
    ("could not fetch the remote manifest", "manifest.inaccessible"),
    ("update manifest is invalid", "manifest.update.invalid"),
    ("cose signature invalid", "claimSignature.mismatch"),
)
_REMOTE = "must fetch remote manifests from url "


def state_of(failures: Iterable[str], successes: Iterable[str]) -> State:
    """The state a manifest's failure and success codes give (see the module docstring)."""
    failures = list(failures)
    if any(code not in TRUST_ONLY_FAILURES for code in failures):
        return "Invalid"
    if UNTRUSTED not in failures and TRUSTED in set(successes):
        return "Trusted"
    return "Valid"


def worst(states: Iterable[str]) -> State:
    """The worst of ``states`` by :data:`STATE_RANK` (``Trusted`` for none)."""
    return max(states, key=STATE_RANK.__getitem__, default="Trusted")  # type: ignore[return-value]


def code_for_error(message: str) -> str:
    """The validation code for a c2pa read error message (``general.error`` when it is not a known one)."""
    lowered = message.lower()
    for fragment, code in _ERROR_CODES:
        if fragment in lowered:
            return code
    return GENERAL_ERROR


def remote_url_of(message: str) -> str | None:
    """The URL in c2pa's "must fetch remote manifests from url ..." error, or ``None`` for any other error."""
    lowered = message.lower()
    start = lowered.find(_REMOTE)
    if start < 0:
        return None
    return message[start + len(_REMOTE) :].strip() or None
