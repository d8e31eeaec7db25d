"""Read a C2PA manifest store (c2pa's ``Reader.json()``) into one state per manifest, keyed by manifest label.

A store holds the file's active manifest and the manifests of its ingredients, their ingredients' manifests, and so
on down the history. c2pa validates the active manifest at read time; an ingredient's manifest was validated when it
was added (``validation_results`` recorded inside the ingredient) and c2pa re-checks it at read time, reporting only
the differences (``ingredientDeltas``, e.g. ``signingCredential.trusted`` when the reader trusts a signer the signer
of the child did not). Deltas are addressed by the full URI of the ingredient assertion,
``self#jumbf=/c2pa/<manifest label>/c2pa.assertions/<ingredient label>``; every manifest labels its first
ingredient ``c2pa.ingredient.v3``, so a delta must be matched by the whole URI, never by its last segment (that
would give a parent the grandparent's result).

Examples
--------
>>> store = {
...     "active_manifest": "urn:a",
...     "manifests": {
...         "urn:a": {"title": "child.mp4", "ingredients": [
...             {"title": "parent.mp4", "relationship": "parentOf", "label": "c2pa.ingredient.v3",
...              "active_manifest": "urn:b",
...              "validation_results": {"activeManifest": {"failure": [{"code": "signingCredential.untrusted"}]}}}]},
...         "urn:b": {"title": "parent.mp4", "ingredients": []},
...     },
...     "validation_results": {"activeManifest": {"success": [{"code": "signingCredential.trusted"}]}},
... }
>>> manifests = manifest_states(store)
>>> manifests["urn:a"]["state"], manifests["urn:b"]["state"], manifests["urn:b"]["failures"]
('Trusted', 'Valid', ['signingCredential.untrusted'])
"""

from __future__ import annotations

from typing import Any

from forensics.provenance.codes import TRUSTED, UNTRUSTED, state_of, worst
from forensics.provenance.record import REMOVAL_LABEL


def codes(entries: list[dict[str, Any]] | None) -> list[str]:
    """The ``code`` of each validation status entry."""
    return [str(entry.get("code")) for entry in entries or []]


def signer_of(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    """``common_name``, ``issuer``, ``alg``, ``time``, ``cert_serial_number`` of a manifest's signing certificate."""
    info = (manifest or {}).get("signature_info")
    if not info:
        return None
    keys = ("common_name", "issuer", "alg", "time", "cert_serial_number")
    return {key: info.get(key) for key in keys if info.get(key) is not None}


def assertion(manifest: dict[str, Any], label: str) -> Any:
    """The data of the assertion ``label`` in ``manifest`` (``None`` when absent)."""
    for item in manifest.get("assertions", []):
        if item.get("label") == label:
            return item.get("data")
    return None


def actions_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's actions with their ``action``, source type, software agent, description, parameters, time."""
    found = []
    for label in ("c2pa.actions.v2", "c2pa.actions"):
        for action in (assertion(manifest, label) or {}).get("actions", []):
            keys = ("action", "digitalSourceType", "softwareAgent", "description", "when")
            found.append({key: action[key] for key in keys if key in action})
    return found


def removal_of(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The removal record (assertion ``org.voideval.removal``) of a manifest, when it has one."""
    record = assertion(manifest, REMOVAL_LABEL)
    return record if isinstance(record, dict) else None


def ingredient_uri(manifest_label: str, ingredient_label: str) -> str:
    """The URI c2pa uses for an ingredient assertion in its ``ingredientDeltas``."""
    return f"self#jumbf=/c2pa/{manifest_label}/c2pa.assertions/{ingredient_label}"


def active_codes(store: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Failure and success codes of the active manifest (``validation_status`` for stores of the 1.x format)."""
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures, successes = codes(results.get("failure")), codes(results.get("success"))
    if not store.get("validation_results") and store.get("validation_status"):
        failures = codes(store["validation_status"])
    return failures, successes


def _judge_ingredient(ingredient: dict[str, Any], delta: dict[str, Any]) -> tuple[str, list[str]]:
    """State and failure codes of an ingredient's manifest: recorded at signing, corrected by the read-time delta."""
    recorded = (ingredient.get("validation_results") or {}).get("activeManifest") or {}
    failures = codes(recorded.get("failure")) or codes(ingredient.get("validation_status"))
    successes = codes(recorded.get("success"))
    delta_failures, delta_successes = codes(delta.get("failure")), codes(delta.get("success"))
    if TRUSTED in delta_successes:  # the reader trusts a signer the signing side did not
        failures = [code for code in failures if code != UNTRUSTED]
    if UNTRUSTED in delta_failures:  # and the other way round
        successes = [code for code in successes if code != TRUSTED]
    failures += [code for code in delta_failures if code not in failures]
    return state_of(failures, successes + delta_successes), failures


def _ingredient_entry(ingredient: dict[str, Any], store: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    label = ingredient.get("active_manifest")
    entry = {
        "title": ingredient.get("title"),
        "format": ingredient.get("format"),
        "relationship": ingredient.get("relationship"),
        "manifest": label,
    }
    if not label:
        return entry | {"state": "NoManifest", "failures": [], "signer": None}
    state, failures = _judge_ingredient(ingredient, delta)
    signer = signer_of((store.get("manifests") or {}).get(label))
    return entry | {"state": state, "failures": failures, "signer": signer}


def manifest_states(store: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every manifest of the store keyed by label: its state, failure codes, signer, removal record, ingredients.

    Each entry: ``title``, ``active`` (bool), ``state`` (``None`` for a manifest nothing refers to), ``failures``,
    ``signer``, ``removal`` (the record or ``None``) and ``ingredients`` (each with ``title``, ``format``,
    ``relationship``, ``manifest`` (its manifest's label or ``None``), ``state``, ``failures``, ``signer``).
    The active manifest is judged by c2pa's results for it; any other by the ingredient that refers to it (the worst
    when several do).
    """
    manifests = store.get("manifests") or {}
    active = store.get("active_manifest")
    deltas = {
        str(item.get("ingredientAssertionURI", "")): item.get("validationDeltas") or {}
        for item in (store.get("validation_results") or {}).get("ingredientDeltas", []) or []
    }
    states: dict[str, dict[str, Any]] = {}
    for label, manifest in manifests.items():
        ingredients = [
            _ingredient_entry(item, store, deltas.get(ingredient_uri(label, str(item.get("label", ""))), {}))
            for item in manifest.get("ingredients", [])
        ]
        states[label] = {
            "title": manifest.get("title"),
            "active": label == active,
            "state": None,
            "failures": [],
            "signer": signer_of(manifest),
            "removal": removal_of(manifest),
            "ingredients": ingredients,
        }
    if active in states:
        failures, successes = active_codes(store)
        states[active].update(state=state_of(failures, successes), failures=failures)
    for entry in list(states.values()):
        for ingredient in entry["ingredients"]:
            target = states.get(ingredient["manifest"] or "")
            if target is None or target["active"]:
                continue
            target["state"] = worst(filter(None, [target["state"], ingredient["state"]]))
            target["failures"] += [code for code in ingredient["failures"] if code not in target["failures"]]
    return states


def history(manifests: dict[str, dict[str, Any]], start: str | None) -> list[str]:
    """Manifest labels from ``start`` down its ingredients, breadth first (the active manifest's history)."""
    order: list[str] = []
    queue = [start] if start in manifests else []
    while queue:
        label = queue.pop(0)
        if label in order:
            continue
        order.append(label)
        queue += [item["manifest"] for item in manifests[label]["ingredients"] if item["manifest"] in manifests]
    return order
