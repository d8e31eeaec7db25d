"""The manifest definition handed to ``c2pa.Builder``: actions, the removal record, the thumbnail.

Actions, by case:

- an edit of a parent: ``c2pa.opened`` (naming the ``parent`` ingredient), then ``c2pa.edited`` with
  digitalSourceType ``compositeWithTrainedAlgorithmicMedia``, a softwareAgent naming void-eval and the method with
  their versions, and a description (method, rewritten quadmask levels, removed share);
- a re-signature of a file that carries a manifest already (``resign=True``): ``c2pa.opened`` only, the file
  itself being the parent ingredient, with its manifest (nothing was edited);
- no parent (a report chart): ``c2pa.created`` with digitalSourceType ``dataDrivenMedia``;
- plus ``c2pa.repackaged`` last when the file was repackaged into a fragmented mp4 without re-encoding
  (:mod:`forensics.provenance.fragment`).

Examples
--------
>>> definition = manifest_definition("out.mp4", record={"method": {"name": "telea", "version": "1"}},
...                                  has_parent=True, thumbnail=False, repackaged="one mdat into 3 fragments")
>>> [action["action"] for action in definition["assertions"][0]["data"]["actions"]]
['c2pa.opened', 'c2pa.edited', 'c2pa.repackaged']
>>> definition["assertions"][0]["data"]["actions"][1]["description"]
'AI object removal by telea v1 (void-eval)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forensics.provenance.record import REMOVAL_LABEL

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
EDIT_SOURCE_TYPE = IPTC + "compositeWithTrainedAlgorithmicMedia"
#: A chart or table rendered from data (report images).
CHART_SOURCE_TYPE = IPTC + "dataDrivenMedia"
THUMBNAIL_ID = "thumbnail.jpg"
PARENT_ID = "parent"


def _toolkit_agent() -> dict[str, Any]:
    from void_eval import __version__

    return {"name": "void-eval", "version": __version__}


def software_agent(record: Mapping[str, Any]) -> dict[str, Any]:
    """void-eval's name and version, plus the method's name and version when the record has a method."""
    agent = _toolkit_agent()
    method = record.get("method")
    if method:
        agent["org.voideval.method"] = method.get("name")
        agent["org.voideval.method_version"] = method.get("version")
    return agent


def describe_removal(record: Mapping[str, Any]) -> str:
    """One sentence for the ``c2pa.edited`` action: method and version, rewritten levels, removed share."""
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


def _actions(
    record: Mapping[str, Any], *, has_parent: bool, resign: bool, description: str | None, source_type: str
) -> list[dict[str, Any]]:
    if has_parent and resign:
        text = description or "re-signed by void-eval; the file's previous manifest is its parent ingredient"
        return [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_ID]}, "description": text}]
    if has_parent:
        edited = {
            "action": "c2pa.edited",
            "digitalSourceType": source_type,
            "softwareAgent": software_agent(record),
            "description": description or describe_removal(record),
        }
        return [{"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_ID]}}, edited]
    created = {
        "action": "c2pa.created",
        "digitalSourceType": source_type,
        "softwareAgent": software_agent(record),
        "description": description or "made by void-eval",
    }
    return [created]


def manifest_definition(
    title: str,
    *,
    record: Mapping[str, Any],
    has_parent: bool,
    thumbnail: bool,
    description: str | None = None,
    source_type: str = EDIT_SOURCE_TYPE,
    include_record: bool = True,
    resign: bool = False,
    repackaged: str | None = None,
) -> dict[str, Any]:
    """The manifest definition (actions, removal record, optional thumbnail) given to ``c2pa.Builder``.

    Parameters
    ----------
    title : str
        The asset's title (its file name).
    record : mapping
        The removal record (also read for the softwareAgent and the edit's description).
    has_parent : bool
        Whether a ``parent`` ingredient is added (``c2pa.opened``) or the asset is a creation (``c2pa.created``).
    thumbnail : bool
        Refer to the thumbnail resource :data:`THUMBNAIL_ID`.
    description, source_type : keyword-only
        The main action's description and digitalSourceType.
    include_record : bool, keyword-only
        Add the removal record as the assertion ``org.voideval.removal``.
    resign : bool, keyword-only
        The parent is the signed file itself: ``c2pa.opened`` only.
    repackaged : str, optional, keyword-only
        Description of a repackaging into a fragmented mp4: adds ``c2pa.repackaged``.
    """
    from void_eval import __version__

    actions = _actions(record, has_parent=has_parent, resign=resign, description=description, source_type=source_type)
    if repackaged:
        actions.append({"action": "c2pa.repackaged", "softwareAgent": _toolkit_agent(), "description": repackaged})
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
