"""Grouped splits: clips cut from one footage never land on two sides of a split or in two folds.

Clips cut from one video share frames and scenery; if one landed in training and another in evaluation, the
"held-out" negatives would be pixels the model trained on. Every split here works on clip *groups*
(:func:`~forensics.detectors.dataset.clip_group`: ``meta.json``'s ``source``, else the clip itself).

Examples
--------
>>> from pathlib import Path
>>> assign_folds({"suite": [Path("a"), Path("b"), Path("c")]}, folds=2, seed=0)
[[PosixPath('b'), PosixPath('c')], [PosixPath('a')]]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from forensics.detectors.dataset import Example, clip_group


def _grouped(clips: list[Path]) -> dict[str, list[Path]]:
    """Clips by :func:`~forensics.detectors.dataset.clip_group`, in sorted order."""
    groups: dict[str, list[Path]] = {}
    for clip in sorted(clips):
        groups.setdefault(clip_group(clip), []).append(clip)
    return dict(sorted(groups.items()))


def split_clips(groups: dict[str, list[Path]], *, test_share: float, seed: int) -> tuple[list[Path], list[Path]]:
    """Seeded per-source split into ``(train, test)`` clip lists that never splits a clip group.

    Within each source, whole groups (:func:`~forensics.detectors.dataset.clip_group`) are held out, about
    ``test_share`` of them, at least one of each side where a source has two groups.
    """
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be in (0, 1), got {test_share}")
    rng = np.random.default_rng([seed, 7])
    train, test = [], []
    for source in sorted(groups):
        by_group = list(_grouped(groups[source]).values())
        order = rng.permutation(len(by_group))
        n_test = min(len(by_group) - 1, max(1, round(len(by_group) * test_share))) if len(by_group) > 1 else 0
        test.extend(clip for i in sorted(order[:n_test]) for clip in by_group[i])
        train.extend(clip for i in sorted(order[n_test:]) for clip in by_group[i])
    return sorted(train), sorted(test)


def assign_folds(groups: dict[str, list[Path]], *, folds: int, seed: int) -> list[list[Path]]:
    """Deal the clips into ``folds`` cross-validation folds by clip group (seeded).

    Every clip of a group lands in one fold; within each source the groups are dealt in turn (continuing where
    the previous source stopped), so each fold gets a share of every source. Empty folds are dropped.
    """
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    rng = np.random.default_rng([seed, 7])
    dealt: list[list[Path]] = [[] for _ in range(folds)]
    turn = 0
    for source in sorted(groups):
        by_group = list(_grouped(groups[source]).values())
        for index in rng.permutation(len(by_group)):
            dealt[turn % folds].extend(by_group[index])
            turn += 1
    return [sorted(fold) for fold in dealt if fold]


def fold_indices(examples: list[Example], folds: list[list[Path]]) -> list[np.ndarray]:
    """Example indices of each fold (by clip name); a clip group spanning two folds is a ``ValueError``."""
    names = [{Path(path).name for path in fold} for fold in folds]
    indices = [np.flatnonzero([example.clip in fold for example in examples]) for fold in names]
    owner: dict[str, int] = {}
    for number, chosen in enumerate(indices):
        for index in chosen:
            if owner.setdefault(examples[index].group, number) != number:
                raise ValueError(f"fold {number} shares clip group {examples[index].group!r} with another fold")
    return indices


def describe_folds(examples: list[Example], folds: list[np.ndarray]) -> list[dict[str, Any]]:
    """JSON-ready fold contents: clip names and groups."""
    return [
        {
            "clips": sorted({examples[i].clip for i in fold}),
            "groups": sorted({examples[i].group for i in fold}),
        }
        for fold in folds
    ]
