"""What is to be signed and where, checked before any work: the file, its parent, the outputs, the parameters.

:func:`check_job` refuses, on one line each: a missing, empty or unsupported file or parent (a directory is named as
such), an output that is the file or the parent, an existing output without ``force``, an output whose suffix does
not match, a missing output folder, a bad remote URL. :func:`check_finite_params` refuses method parameters that
JSON (and so the removal record) cannot hold.

Examples
--------
>>> mime_of("clip.MP4"), mime_of("chart.png")
('video/mp4', 'image/png')
>>> check_finite_params({"radius": 3.0})
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forensics.provenance.parent import same_file
from forensics.provenance.verify import check_readable
from void_eval.errors import InputError

MIME_BY_SUFFIX = {".mp4": "video/mp4", ".m4v": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg"}
MIME_BY_SUFFIX[".jpeg"] = "image/jpeg"


def mime_of(path: str | Path) -> str:
    """MIME type of a signable file from its suffix; :class:`InputError` for anything but mp4/png/jpeg."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a directory, not a file")
    mime = MIME_BY_SUFFIX.get(path.suffix.lower())
    if mime is None:
        raise InputError(path, f"cannot sign {path.suffix or 'a file without suffix'}: use .mp4, .png or .jpg")
    return mime


@dataclass(frozen=True)
class SignJob:
    """The checked paths and options of one signing (see :func:`check_job`)."""

    file: Path
    mime: str
    parent: Path | None
    out: Path
    sidecar: bool
    force: bool
    remote_url: str | None

    @property
    def store_out(self) -> Path | None:
        """Where the manifest store goes on its own (remote manifests), else ``None``."""
        return self.out.with_suffix(".c2pa") if self.remote_url else None


def check_job(file, parent, out, *, sidecar: bool, force: bool, remote_url: str | None) -> SignJob:
    """Refuse bad paths before any work: missing/unsupported files, an output that is a source, existing outputs."""
    file, out = Path(file), Path(out)
    mime = mime_of(file)
    check_readable(file, "file to sign")
    parent = Path(parent) if parent is not None else None
    if parent is not None:
        mime_of(parent)
        check_readable(parent, "parent")
    job = SignJob(file, mime, parent, out, sidecar, force, remote_url)
    if remote_url is not None:
        if sidecar:
            raise InputError("--remote-url", "a remote manifest already leaves the store apart: drop --sidecar")
        if not remote_url.startswith(("https://", "http://")):
            raise InputError("--remote-url", f"must be an http(s) URL, got {remote_url!r}")
    for target in filter(None, (out, job.store_out)):
        for protected, role in ((file, "the file being signed"), (parent, "the parent")):
            if protected is not None and same_file(target, protected):
                raise InputError(target, f"output is {role}; signing never overwrites its source")
        if target.exists() and not force:
            raise InputError(target, "already exists (use --force to replace it)")
    if not sidecar and MIME_BY_SUFFIX.get(out.suffix.lower()) != mime:
        raise InputError(out, f"output suffix does not match the signed file's type ({mime})")
    if not out.parent.is_dir():
        raise InputError(out.parent, "output folder does not exist")
    return job


def check_finite_params(params: Mapping[str, Any] | None) -> None:
    """Refuse a non-finite number among the method parameters (JSON, and so the record, cannot hold it)."""
    for name, value in (params or {}).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"parameter {name}", f"must be a finite number, got {value}")
