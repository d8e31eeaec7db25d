"""The removal record: what an AI removal did, as the data of a custom C2PA assertion.

The record goes into the manifest under :data:`REMOVAL_LABEL` (a reverse-domain label, as C2PA asks of custom
assertions). It names the method (registry name, version, parameters), the clip, the quadmask files by SHA-256, the
share of pixels at each quadmask level, which levels the method may rewrite (and the share of pixels that makes),
and, when known, the metric summary from a benchmark run. Values are plain JSON: NaN becomes ``null`` (C2PA
assertion data is CBOR/JSON and a reader must not meet NaN).

Examples
--------
>>> record = removal_record(method="telea", params={"radius": 3})
>>> record["method"]["name"], record["method"]["registered"], record["rewritten_levels"]
('telea', True, ['remove', 'overlap'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from void_eval.errors import InputError, MissingExtraError
from void_eval.hashing import file_sha256

#: Label of the custom assertion that carries the removal record.
REMOVAL_LABEL = "org.voideval.removal"
#: Schema version of the record's data.
RECORD_VERSION = 1
_LEVEL_NAMES = ("remove", "overlap", "affected", "keep")
_METRIC_COLUMNS = ("region", "metric", "reference", "value")


def json_safe(value: Any) -> Any:
    """Copy ``value`` into plain JSON types: NaN/inf floats become ``None``, numpy scalars become Python ones."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Path):
        return str(value)
    return str(value)


def describe_method(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Name, version, parameters and rewritten levels of a method, from void-eval's method registry.

    A name the registry does not know (a method run outside the toolkit) gives ``registered: False`` with
    ``version`` and ``rewritten_levels`` ``None``: the record then says what it does not know instead of guessing.
    """
    params = dict(params or {})
    info: dict[str, Any] = {"name": name, "version": None, "params": json_safe(params), "registered": False}
    rewrites = None
    try:
        from void_eval.methods.registry import METHODS, get_method
    except ImportError:  # the methods package is optional for provenance
        info["note"] = "void-eval's method registry is not available"
        return info | {"rewritten_levels": None}
    if name not in METHODS.names():
        info["note"] = "not a registered void-eval method; version and rewritten levels unknown"
        return info | {"rewritten_levels": None}
    info["registered"] = True
    factory = METHODS.get(name)  # imports the method's module, never loads weights
    _check_param_names(name, factory, params)
    try:  # building validates the parameters; an instance may refine the class's version (tiny random weights)
        method = get_method(name, **params)
        version, rewrites = method.version, method.rewrites
    except (InputError, MissingExtraError, FileNotFoundError) as err:  # weights/files/extras absent here
        info["note"] = f"method could not be built here ({type(err).__name__}: {err}); class-level facts used"
        version, rewrites = getattr(factory, "version", None), getattr(factory, "rewrites", None)
        if not isinstance(version, str | int) or not isinstance(rewrites, frozenset | set):
            version, rewrites = None, None
    except (TypeError, ValueError) as err:  # a bad parameter: never signed into a record
        given = ", ".join(f"{key}={value!r}" for key, value in params.items()) or "no parameters"
        raise InputError(f"method {name} ({given})", f"bad method parameter: {err}") from err
    info["version"] = None if version is None else str(version)
    levels = None
    if rewrites is not None:
        levels = [level.name.lower() for level in sorted(rewrites)]
    return info | {"rewritten_levels": levels}


def _check_param_names(name: str, factory: Any, params: Mapping[str, Any]) -> None:
    """:class:`InputError` naming a parameter the method's constructor does not take (a typo in ``--param``)."""
    import inspect

    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a factory without an inspectable signature: building will tell
        return
    accepted = signature.parameters.values()
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in accepted):
        return
    names = [parameter.name for parameter in accepted if parameter.kind is not inspect.Parameter.VAR_POSITIONAL]
    for key in params:
        if key not in names:
            raise InputError(
                f"--param {key}", f"method {name!r} has no parameter {key!r} (it takes: {', '.join(names) or 'none'})"
            )


def clip_mask_summary(clip_dir: str | Path) -> dict[str, Any]:
    """Clip facts, quadmask file hashes and level fractions of a clip folder (the mask is streamed once).

    One mask frame at a time: decoding a frame takes ~14 MB at 720p while it is converted to levels, so 16-frame
    chunks took the signing helper from 106 to 294 MB peak on the ducky-float sample (measured).
    """
    from void_eval.clip import Clip
    from void_eval.quadmask import QuadmaskStats

    clip = Clip.load(clip_dir)
    stats = QuadmaskStats()
    for mask in clip.iter_masks(1):
        stats.update_levels(mask)
    fractions = stats.fractions()
    return {
        "clip": {
            "name": clip.name,
            "scenario": clip.scenario,
            "frames": clip.frames,
            "height": clip.height,
            "width": clip.width,
            "fps": clip.fps,
            "input_sha256": file_sha256(clip.input_path),
        },
        "quadmask": {
            "scheme": clip.mask_scheme,
            "files": [
                {"name": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size}
                for path in clip.mask_files
            ],
            "frames": stats.frames,
        },
        "region_fractions": {name: fractions[name] for name in _LEVEL_NAMES},
    }


def metric_summary(table: Any, *, method: str | None = None, clip: str | None = None) -> list[dict[str, Any]]:
    """Rows ``{region, metric, reference, value}`` of a results table, filtered to one method and clip.

    Parameters
    ----------
    table : pandas.DataFrame or str or Path
        A results table (or a ``.parquet``/``.csv`` file) with at least ``region, metric, reference, value``;
        ``method`` and ``clip`` columns are used to filter when present.
    method, clip : str, optional, keyword-only
        Keep only rows of this method label / clip name.

    Raises
    ------
    InputError
        When the file cannot be read or a required column is missing.
    """
    import pandas as pd

    source = "results table"
    if isinstance(table, str | Path):
        source = str(table)
        table = read_table(table)
    missing = [column for column in _METRIC_COLUMNS if column not in table.columns]
    if missing:
        raise InputError(source, f"results table lacks column(s) {', '.join(missing)}")
    for column, wanted in (("method", method), ("clip", clip)):
        if wanted is None:
            continue
        if column not in table.columns:
            raise InputError(source, f"results table has no {column!r} column to select {wanted!r}")
        table = table[table[column].astype(str) == wanted]
    rows = []
    for record in table.loc[:, list(_METRIC_COLUMNS)].to_dict("records"):
        value = record["value"]
        rows.append(
            {
                "region": str(record["region"]),
                "metric": str(record["metric"]),
                "reference": None if pd.isna(record["reference"]) else str(record["reference"]),
                "value": None if value is None or pd.isna(value) else float(value),
            }
        )
    return rows


def read_table(path: str | Path):
    """Read a ``.parquet``, ``.csv`` or ``.json`` (records) table into a DataFrame; InputError when unreadable."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError(path, "results table not found")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
        if path.suffix == ".json":
            return pd.read_json(path, orient="records")
    except Exception as err:  # pyarrow/pandas raise many types for a bad file
        raise InputError(path, f"unreadable results table ({type(err).__name__}: {err})") from err
    raise InputError(path, "results table must be .parquet, .csv or .json")


def removal_record(
    *,
    method: str | None = None,
    params: Mapping[str, Any] | None = None,
    label: str | None = None,
    clip_dir: str | Path | None = None,
    metrics: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the removal record (JSON-safe dict) for :data:`REMOVAL_LABEL`.

    Parameters
    ----------
    method : str, optional, keyword-only
        Registry name of the method (see :func:`describe_method`).
    params : mapping, optional, keyword-only
        The method's parameters.
    label : str, optional, keyword-only
        The method's label in a run (defaults to ``method``).
    clip_dir : str or Path, optional, keyword-only
        Clip folder; adds clip facts, quadmask hashes and region fractions (and the share rewritten).
    metrics : sequence of mappings, optional, keyword-only
        Metric summary rows ``{region, metric, reference, value}``.
    extra : mapping, optional, keyword-only
        Further keys merged on top (caller-supplied record fields win).
    """
    from void_eval import __version__

    record: dict[str, Any] = {
        "record_version": RECORD_VERSION,
        "toolkit": {"name": "void-eval", "version": __version__},
    }
    if method is not None:
        described = describe_method(method, params)
        record["rewritten_levels"] = described.pop("rewritten_levels")
        record["method"] = described | {"label": label or method}
    if clip_dir is not None:
        record.update(clip_mask_summary(clip_dir))
        levels = record.get("rewritten_levels")
        if levels is not None:
            record["rewritten_fraction"] = sum(record["region_fractions"][name] for name in levels)
    if metrics is not None:
        record["metrics"] = [dict(row) for row in metrics]
    if extra:
        record.update(extra)
    return json_safe(record)
