"""Content hashes: a file's sha256 (memoised), and the key of a dict of parts (sha256 of its canonical JSON).

The runner's cache (:mod:`void_eval.runner.cache`), the external-tool method and the detectors' caches key what
they store by these, so a stored value can be traced to the exact inputs that made it.

Examples
--------
>>> key = cache_key({"method": "copy", "version": "1"})
>>> len(key), key == cache_key({"version": "1", "method": "copy"})
(64, True)
>>> canonical_json({"b": 1, "a": [1.5, None]})
'{"a":[1.5,null],"b":1}'
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path, *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file (memoised on path, size and modification time)."""
    path = Path(path)
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(block):
                digest.update(chunk)
        _HASHES[memo] = digest.hexdigest()
    return _HASHES[memo]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the text a key hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)


def cache_key(parts: dict[str, Any]) -> str:
    """sha256 of :func:`canonical_json` of ``parts``."""
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()
