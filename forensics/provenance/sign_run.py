"""Sign every deliverable of a benchmark run folder: method outputs (parent = the clip's input) and report images.

A run folder is read defensively; two layouts are understood:

- ``RUN_DIR/outputs/<method>/<clip>.mp4`` (flat), or the runner's cache ``RUN_DIR/cells/<method>/<clip>/output.mp4``;
- ``RUN_DIR/run.json`` names the clip folders: ``clips_dir`` (a folder of clip folders) or ``config.clip_folders``
  (a list of clip folder paths); ``methods`` (``{label: {method_name, version, params}}``) or
  ``config.methods`` (``[{label, name, params}]``) say which registry method and parameters a label ran;
- ``RUN_DIR/results.parquet`` (columns ``method, clip, region, metric, reference, value``) gives each output's
  metric summary; without it the records carry no metrics (and the summary says so).

Report images are the ``.png``/``.jpg`` files anywhere under the run folder except ``outputs/``, ``cells/`` and
the signed folder; they are signed as creations (``c2pa.created``, dataDrivenMedia). Signed copies go to
``RUN_DIR/signed/`` (same relative paths) with an ``index.json``; nothing in the run folder is modified.

Examples
--------
>>> run_layout_help().startswith("RUN_DIR/outputs")
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from void_eval.atomic import write_json_atomic
from void_eval.errors import InputError

SIGNED_DIR = "signed"
_SKIP_DIRS = {"outputs", "cells", SIGNED_DIR}
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


def run_layout_help() -> str:
    """One line describing the run-folder layout this module reads."""
    return "RUN_DIR/outputs/<method>/<clip>.mp4 (or cells/<method>/<clip>/output.mp4), run.json, results.parquet"


@dataclass
class SignRunSummary:
    """What :func:`sign_run` did."""

    out_dir: Path
    signed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Output:
    label: str
    clip: str
    path: Path


def _read_run_json(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    if not path.is_file():
        raise InputError(path, "run.json not found (is this a void-eval run folder?)")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(path, f"not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise InputError(path, "must hold a JSON object")
    return data


def _clip_folders(run_dir: Path, run: dict[str, Any]) -> dict[str, Path]:
    folders: dict[str, Path] = {}
    clips_dir = run.get("clips_dir")
    if clips_dir:
        root = Path(clips_dir)
        root = root if root.is_absolute() else run_dir / root
        if not root.is_dir():
            raise InputError(run_dir / "run.json", f"clips_dir {str(clips_dir)!r} is not a folder")
        folders.update({path.name: path for path in sorted(root.iterdir()) if path.is_dir()})
    for entry in (run.get("config") or {}).get("clip_folders") or []:
        path = Path(entry)
        if not path.is_absolute():  # recorded relative to where the run was started: try the likely places
            candidates = [run_dir / path, Path.cwd() / path, run_dir.parent / path]
            path = next((candidate for candidate in candidates if candidate.is_dir()), candidates[0])
        folders.setdefault(path.name, path)
    if not folders:
        raise InputError(run_dir / "run.json", "names no clip folders (expected 'clips_dir' or 'config.clip_folders')")
    return folders


def _method_specs(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    for spec in (run.get("config") or {}).get("methods") or []:
        if isinstance(spec, dict) and spec.get("label"):
            specs[str(spec["label"])] = {"name": spec.get("name") or spec["label"], "params": spec.get("params") or {}}
    recorded = run.get("methods")
    if isinstance(recorded, dict):
        for label, record in recorded.items():
            if isinstance(record, dict):
                entry = specs.setdefault(str(label), {"name": str(label), "params": {}})
                entry["name"] = record.get("method_name") or entry["name"]
                if record.get("params") is not None:
                    entry["params"] = record["params"]
                if record.get("version") is not None:
                    entry["version"] = str(record["version"])
    return specs


def _check_inputs_match(
    run_dir: Path, run: dict[str, Any], outputs: list[_Output], clip_folders: dict[str, Path]
) -> None:
    """Each parent must be the input the run used: compare with the SHA-256 the runner recorded per cell."""
    from void_eval.hashing import file_sha256

    recorded = {
        (str(cell.get("method")), str(cell.get("clip"))): cell.get("input_sha256")
        for cell in run.get("cells") or []
        if isinstance(cell, dict) and cell.get("input_sha256")
    }
    hashes: dict[str, str] = {}
    for item in outputs:
        expected = recorded.get((item.label, item.clip))
        if expected is None:
            continue
        parent = clip_folders[item.clip] / "input_video.mp4"
        if not parent.is_file():
            raise InputError(parent, "clip input not found")
        if item.clip not in hashes:
            hashes[item.clip] = file_sha256(parent)
        if hashes[item.clip] != expected:
            raise InputError(parent, f"is not the input the run used for {item.label}/{item.clip} (SHA-256 differs)")


def find_outputs(run_dir: Path) -> list[_Output]:
    """Method outputs of a run folder, either layout, sorted by method then clip."""
    found = []
    outputs = run_dir / "outputs"
    if outputs.is_dir():
        for path in sorted(outputs.glob("*/*.mp4")):
            found.append(_Output(path.parent.name, path.stem, path))
    cells = run_dir / "cells"
    if cells.is_dir():
        for path in sorted(cells.glob("*/*/output.mp4")):
            found.append(_Output(path.parent.parent.name, path.parent.name, path))
    return found


def find_report_images(run_dir: Path) -> list[Path]:
    """PNG/JPEG files under the run folder outside ``outputs/``, ``cells/`` and ``signed/``."""
    images = []
    for root, dirs, files in os.walk(run_dir):
        here = Path(root)
        if here == run_dir:
            dirs[:] = sorted(name for name in dirs if name not in _SKIP_DIRS)
        else:
            dirs.sort()
        images += [here / name for name in sorted(files) if Path(name).suffix.lower() in _IMAGE_SUFFIXES]
    return images


def sign_run(
    run_dir: str | Path,
    *,
    chain: str | Path,
    key: str | Path | None = None,
    signer_cmd: str | None = None,
    signer: Callable[[bytes], bytes] | None = None,
    out_dir: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
    key_password: bytes | None = None,
) -> SignRunSummary:
    """Sign all method outputs and report images of ``run_dir`` into ``out_dir`` (default ``RUN_DIR/signed``).

    Parameters
    ----------
    run_dir : str or Path
        The run folder (see the module docstring for the layout).
    chain, key, signer_cmd, signer, key_password : keyword-only
        As for :func:`forensics.provenance.sign.sign_file` (one of key / signer_cmd / signer).
    out_dir : str or Path, optional, keyword-only
        Where signed copies go; must not be the run folder itself.
    force : bool, keyword-only
        Replace signed copies that already exist.
    progress : bool, keyword-only
        Show a progress bar on stderr.

    Raises
    ------
    InputError
        Missing run.json/outputs, an output whose clip folder is unknown, a malformed results table.
    """
    from tqdm import tqdm

    from forensics.provenance.record import read_table

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "run folder not found")
    out_dir = Path(out_dir) if out_dir is not None else run_dir / SIGNED_DIR
    if out_dir.resolve() == run_dir.resolve():
        raise InputError(out_dir, "signed copies must go to their own folder, not the run folder")
    run = _read_run_json(run_dir)
    outputs = find_outputs(run_dir)
    if not outputs:
        raise InputError(run_dir, f"no method outputs found (expected {run_layout_help()})")
    clip_folders = _clip_folders(run_dir, run)
    missing = sorted({item.clip for item in outputs if item.clip not in clip_folders})
    if missing:
        raise InputError(run_dir / "run.json", f"no clip folder for output clip(s) {', '.join(missing)}")
    _check_inputs_match(run_dir, run, outputs, clip_folders)
    summary = SignRunSummary(out_dir=out_dir)
    results_path = run_dir / "results.parquet"
    table = read_table(results_path) if results_path.is_file() else None
    if table is None:
        summary.notes.append("no results.parquet: removal records carry no metric summary")
    images = find_report_images(run_dir)
    signing = {"chain": chain, "key": key, "signer_cmd": signer_cmd, "signer": signer, "key_password": key_password}
    signing["force"] = force
    specs = _method_specs(run)
    bar = tqdm(total=len(outputs) + len(images), desc="signing", unit="file", disable=not progress)
    try:
        for item in outputs:
            spec = specs.get(item.label, {"name": item.label, "params": {}})
            summary.signed.append(_sign_output(item, spec, run_dir, out_dir, clip_folders[item.clip], table, signing))
            bar.update(1)
        for image in images:
            summary.signed.append(_sign_image(image, run_dir, out_dir, signing))
            bar.update(1)
    finally:
        bar.close()
    index = out_dir / "index.json"
    write_json_atomic(index, {"run": str(run_dir), "signed": summary.signed, "notes": summary.notes})
    return summary


def _sign_output(item: _Output, spec, run_dir: Path, out_dir: Path, clip_dir: Path, table, signing) -> dict[str, Any]:
    """Sign one method output (parent: its clip's input) into ``out_dir/outputs/<label>/<clip>.mp4``."""
    from forensics.provenance.record import metric_summary
    from forensics.provenance.sign import sign_file

    metrics = None if table is None else metric_summary(table, method=item.label, clip=item.clip)
    target = out_dir / "outputs" / item.label / f"{item.clip}.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {"run": {"folder": run_dir.name, "label": item.label}}
    if spec.get("version") is not None:
        extra["run"]["recorded_method_version"] = spec["version"]
    sign_file(
        item.path,
        parent=clip_dir / "input_video.mp4",
        out=target,
        clip=clip_dir,
        method=spec["name"],
        params=spec.get("params"),
        metrics=metrics,
        removal=extra,
        isolate=False,  # this process holds the registry and PyAV after the first output anyway
        **signing,
    )
    return {"file": str(target), "source": str(item.path), "kind": "output", "method": item.label, "clip": item.clip}


def _sign_image(image: Path, run_dir: Path, out_dir: Path, signing) -> dict[str, Any]:
    """Sign one report image as a creation into the same relative path under ``out_dir``."""
    from forensics.provenance.sign import sign_file

    relative = image.relative_to(run_dir)
    target = out_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    description = f"void-eval report image {relative} of run {run_dir.name}"
    sign_file(image, parent=None, out=target, description=description, **signing)
    return {"file": str(target), "source": str(image), "kind": "report"}
