"""Cache keys and the on-disk cell store.

A key is the sha256 of the canonical JSON of its parts, and the parts are stored beside the value, so a cached
output can always be traced to what made it. The output key covers the method (registry name, class, version,
resolved parameters, weights sha256, seed, device, any extra files it declares through ``fingerprint``; for the
``external`` method that is the recipe file's sha256, the tool checkout's git revision and local changes, and the
sha256 of each weight file and staged input) and the clip (sha256 of the input, of each mask file, of the
counterfactual and of ``prompt.json``, which VOID methods read). The score key covers the output key and the
output's sha256, the metric preset, names and device, the toolkit version and a hash of the scoring code (the
metrics package and the core modules that decode and align what it scores).

Layout of a run folder::

    RUN_DIR/cells/<method>/<clip>/output.mp4      the method's output
    RUN_DIR/cells/<method>/<clip>/output.json     key, key parts, output sha256, wall time, what the run did
    RUN_DIR/cells/<method>/<clip>/scores.parquet  tidy score rows of that output
    RUN_DIR/cells/<method>/<clip>/scores.json     key, key parts, wall time

Every file is written to a temporary name in the same folder and moved into place; the ``.json`` record is
written last, so a cell is finished exactly when its record exists and matches.

Examples
--------
>>> key = cache_key({"method": "copy", "version": "1"})
>>> len(key), key == cache_key({"version": "1", "method": "copy"})
(64, True)
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from void_eval import atomic
from void_eval.atomic import atomic_path, write_errors
from void_eval.hashing import file_sha256
from void_eval.paths import clip_output_path


def clip_hashes(clip) -> dict[str, Any]:
    """sha256 of the clip's input, mask files, counterfactual (None when absent) and prompt.json ("absent")."""
    from void_eval.clip import PROMPT_NAME

    prompt_path = Path(clip.path) / PROMPT_NAME
    return {
        "input_sha256": file_sha256(clip.input_path),
        "mask_sha256": {path.name: file_sha256(path) for path in clip.mask_files},
        "counterfactual_sha256": file_sha256(clip.counterfactual_path) if clip.counterfactual_path else None,
        "prompt_sha256": file_sha256(prompt_path) if prompt_path.is_file() else "absent",
    }


def method_identity(method) -> dict[str, Any]:
    """What identifies a method instance: name, class, version, parameters, weights, seed, device."""
    cls = type(method)
    return {
        "method_name": method.name,
        "method_class": f"{cls.__module__}:{cls.__qualname__}",
        "version": str(method.version),
        "params": method.params,
        "weights_sha256": getattr(method, "weights_sha256", None),
        "seed": getattr(method, "seed", None),
        "device": method.device,
    }


def output_key_parts(label: str, method, clip) -> dict[str, Any]:
    """Key parts of one method's output on one clip."""
    fingerprint = getattr(method, "fingerprint", None)
    return {
        "kind": "output",
        "label": label,
        **method_identity(method),
        "fingerprint": fingerprint(clip) if callable(fingerprint) else None,
        "clip": clip.name,
        **clip_hashes(clip),
    }


#: Core modules, relative to the package folder, that scores depend on besides ``metrics/``: decoding, quadmask
#: levels and regions, clip alignment, and the weights the learned metrics load.
SCORING_CORE_FILES: tuple[str, ...] = (
    "video.py",
    "quadmask.py",
    "clip.py",
    "weights.py",
    "lockstep.py",
    "segmentation.py",
)


def scoring_code_files(package: Path | None = None) -> list[Path]:
    """The source files :func:`metrics_code_sha256` hashes: every ``metrics/**/*.py`` and :data:`SCORING_CORE_FILES`.

    Examples
    --------
    >>> names = {path.name for path in scoring_code_files()}
    >>> {"psnr.py", "video.py", "quadmask.py", "clip.py", "weights.py"} <= names
    True
    """
    package = Path(package) if package is not None else Path(__file__).resolve().parents[1]
    files = sorted((package / "metrics").rglob("*.py"))
    files += [package / name for name in SCORING_CORE_FILES if (package / name).is_file()]
    return sorted(files, key=lambda path: path.relative_to(package).as_posix())


def code_sha256(files: list[Path], root: Path) -> str:
    """sha256 over each file's path relative to ``root`` and its bytes, in the given order."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


@functools.cache
def metrics_code_sha256() -> str:
    """sha256 over the scoring code (:func:`scoring_code_files`, sorted by path): changes when that code does.

    Computed once per process, so every cell a process scores carries the hash of the code it runs.
    """
    package = Path(__file__).resolve().parents[1]
    return code_sha256(scoring_code_files(package), package)


def score_key_parts(
    output_key: str, output_sha256: str, clip, *, preset: str, device: str, metrics: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """Key parts of the scores of one output."""
    from void_eval import __version__

    return {
        "kind": "score",
        "output_key": output_key,
        "output_sha256": output_sha256,
        "preset": preset,
        "device": device,
        "metrics": list(metrics) if metrics is not None else None,
        "toolkit_version": __version__,
        "metrics_code_sha256": metrics_code_sha256(),
        **clip_hashes(clip),
    }


def write_atomic(path: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(temp_path)`` for a temporary file beside ``path`` (folders created), then move it into place.

    A thin adapter over :func:`void_eval.atomic.atomic_path` for writers that take a path (pandas, methods).
    """
    path = Path(path)
    with write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temp:
        write(temp)
    return path


def write_json_atomic(path: Path, value: Any) -> Path:
    """Write ``value`` as indented, key-sorted JSON (folders created), atomically."""
    path = Path(path)
    with write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    return atomic.write_json_atomic(path, value, indent=2, sort_keys=True, default=str)


def read_json(path: Path) -> Any | None:
    """Parsed JSON, or None when the file is missing or unreadable (a record that does not parse is not a hit)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class CellStore:
    """Files of one run folder's cells; see the module docstring for the layout."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)

    def folder(self, label: str, clip_name: str) -> Path:
        return clip_output_path(self.run_dir, "cells", label, clip_name)

    def output_path(self, label: str, clip_name: str) -> Path:
        return self.folder(label, clip_name) / "output.mp4"

    def output_record_path(self, label: str, clip_name: str) -> Path:
        return self.folder(label, clip_name) / "output.json"

    def scores_path(self, label: str, clip_name: str) -> Path:
        return self.folder(label, clip_name) / "scores.parquet"

    def scores_record_path(self, label: str, clip_name: str) -> Path:
        return self.folder(label, clip_name) / "scores.json"

    def cached_output(self, label: str, clip_name: str, key: str) -> dict[str, Any] | None:
        """The output record when it exists, matches ``key`` and its video is intact (sha256 checked)."""
        record = read_json(self.output_record_path(label, clip_name))
        output = self.output_path(label, clip_name)
        if not record or record.get("key") != key or not output.is_file():
            return None
        if file_sha256(output) != record.get("output_sha256"):
            return None
        return record

    def cached_scores(self, label: str, clip_name: str, key: str) -> dict[str, Any] | None:
        """The scores record when it exists, matches ``key`` and its table exists."""
        record = read_json(self.scores_record_path(label, clip_name))
        if not record or record.get("key") != key or not self.scores_path(label, clip_name).is_file():
            return None
        return record
