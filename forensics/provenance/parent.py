"""What a signed file descends from: the parent's C2PA state, and what happens to a manifest the file carries.

Before a child is signed its parent is verified (:func:`check_parent`): a parent whose manifest (or one of its
history's) is ``Invalid`` was changed after signing and is refused, so a tampered file is never laundered into a
valid child; its state and codes go into the removal record either way.

A file that already carries an embedded manifest keeps its history (:func:`plan_history`): signed again with no
other parent, the file itself becomes the parent ingredient, with its manifest (``c2pa.opened``, nothing edited).
Signed from a different parent, its own manifest would be dropped: that is refused unless ``force`` is given, and
then the record names the manifest it replaced. A file that only points to a remote manifest is treated the same
way (its history lives at the URL).

Examples
--------
>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from void_eval.video import write_video
>>> path = write_video(Path(tempfile.mkdtemp()) / "plain.mp4", np.zeros((2, 16, 16, 3), np.uint8), 4)
>>> check_parent(path).line.endswith("NoManifest")
True
>>> plan_history(path, None, trust=None, force=False)
History(parent=None, resign=False, replaced=None)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from void_eval.errors import InputError


@dataclass(frozen=True)
class ParentCheck:
    """The parent's C2PA state as judged before signing a child of it.

    Attributes
    ----------
    path : Path
        The parent file.
    state : {"Trusted", "Valid", "Invalid", "NoManifest", "Remote"}
        The worst state over the parent's manifest history (see :attr:`VerifyResult.worst_state`).
    failures : list of str
        Failure codes of the parent and of its history (others prefixed ``ingredient <title>:``).
    """

    path: Path
    state: str
    failures: list[str]

    @property
    def line(self) -> str:
        """One line for the terminal: ``parent FILE: STATE (codes)``."""
        text = f"parent {self.path}: {self.state}"
        return text + (f" ({', '.join(self.failures)})" if self.failures else "")


def check_parent(parent: str | Path, *, trust: str | Path | None = None, allow_invalid: bool = False) -> ParentCheck:
    """Verify a parent before a child is signed from it; :class:`InputError` when it is ``Invalid``.

    Parameters
    ----------
    parent : str or Path
        The original the signed file was made from.
    trust : str or Path, optional, keyword-only
        PEM trust anchors (without them a signed parent is at best ``Valid``).
    allow_invalid : bool, keyword-only
        Return an ``Invalid`` result instead of raising.

    Returns
    -------
    ParentCheck

    Raises
    ------
    InputError
        The parent (or a manifest of its history) fails verification: it was changed after it was signed.
    """
    from forensics.provenance.verify import verify_file

    result = verify_file(parent, trust=trust)
    failures = list(result.failures)
    for label in result.history():
        for ingredient in result.manifests[label]["ingredients"]:
            failures += [f"ingredient {ingredient.get('title')}: {code}" for code in ingredient["failures"]]
    check = ParentCheck(path=Path(parent), state=result.worst_state, failures=failures)
    if check.state == "Invalid" and not allow_invalid:
        codes = ", ".join(code for code in failures if code) or "no failure code given"
        raise InputError(
            parent,
            f"parent fails C2PA verification (Invalid: {codes}); it was changed after signing. "
            "Refusing to sign a child of it (use --allow-invalid-parent to sign anyway; the record says so)",
        )
    return check


@dataclass(frozen=True)
class History:
    """Which file becomes the parent ingredient, and what happens to a manifest the signed file carries.

    Attributes
    ----------
    parent : Path or None
        The parent ingredient (the signed file itself when ``resign``).
    resign : bool
        The file carried a manifest and is its own parent: its history is kept.
    replaced : dict or None
        The file's own manifest, dropped because ``force`` was given with another parent (state, label, signer).
    """

    parent: Path | None
    resign: bool
    replaced: dict[str, Any] | None


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (also through links)."""
    return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))


def plan_history(file: Path, parent: Path | None, *, trust: str | Path | None, force: bool) -> History:
    """Decide how a signature keeps the history of ``file`` (see the module docstring).

    Raises
    ------
    InputError
        ``file`` carries a manifest, another ``parent`` is given and ``force`` is off.
    """
    from forensics.provenance.verify import verify_file

    existing = verify_file(file, trust=trust)
    carries = existing.state == "Remote" or (existing.state != "NoManifest" and existing.manifest_source == "embedded")
    if not carries:
        return History(parent=parent, resign=False, replaced=None)
    if existing.state != "Remote" and (parent is None or same_file(parent, file)):
        return History(parent=file, resign=True, replaced=None)
    signer = (existing.signer or {}).get("common_name")
    where = f"at {existing.remote_url}" if existing.remote_url else f"{existing.state}, signed by {signer or '-'}"
    if not force:
        drop = f"signing it from --parent {parent}" if parent is not None else "signing it again"
        hint = "Give --force to replace it (the record names what was replaced)"
        if existing.state != "Remote":
            hint = (
                "Leave out --parent to keep it (the file becomes the parent ingredient, with its manifest), "
                "or give --force to replace it (the record names what was replaced)"
            )
        raise InputError(file, f"already carries a C2PA manifest ({where}); {drop} would drop that history. {hint}")
    replaced = {
        "state": existing.state,
        "active_manifest": existing.active_manifest,
        "signer": signer,
        "remote_url": existing.remote_url,
    }
    return History(parent=parent, resign=False, replaced=replaced)
