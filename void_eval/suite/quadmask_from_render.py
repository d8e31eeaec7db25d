"""Quadmask, shadow mask and overlap from the three renders of a scene (factual, counterfactual, behind).

* REMOVE (0): the removed object's pixels in the factual render (its segmentation).
* OVERLAP (63): removed-object pixels where what lies behind it was itself changed by it: the *behind* render
  (factual state, object taken out) differs from the counterfactual there, e.g. an affected object's silhouette
  in either world.
* AFFECTED (127): pixels outside the object where factual and counterfactual renders differ by more than
  ``threshold`` (largest channel difference), grown by ``dilation`` pixels (never into the object, and not from
  the object's own pixels, so there is no ring around it): other objects' changed motion, the object's shadow,
  its contacts.
* KEEP (255): the rest; there the two renders are identical (TinyRenderer is deterministic).

The shadow mask marks pixels outside the object that the object darkens: the factual render is darker than the
behind render by more than ``threshold``.

Examples
--------
>>> import numpy as np
>>> factual = np.full((1, 4, 6, 3), 200, np.uint8); counterfactual = factual.copy(); behind = factual.copy()
>>> factual[0, 1, 1] = (255, 0, 0)        # the object
>>> factual[0, 2, 2] = 150                # its shadow
>>> ids = np.full((1, 4, 6), -1, np.int16); ids[0, 1, 1] = 0
>>> masks = derive_masks(factual, counterfactual, behind, ids, removed_index=0, threshold=8, dilation=0)
>>> masks.quadmask.levels[0].tolist()[1][:3], masks.shadow[0, 2, 2]
([255, 0, 255], np.True_)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from void_eval.quadmask import QuadLevel, Quadmask

#: Defaults recorded in meta.json. Unchanged pixels differ by exactly 0, so a small threshold is safe.
DEFAULT_THRESHOLD = 8
DEFAULT_DILATION = 1


@dataclass(frozen=True)
class SceneMasks:
    """Masks of one clip, each ``(T, H, W)``.

    Attributes
    ----------
    quadmask : Quadmask
        The four-level mask.
    removed : np.ndarray
        bool, the removed object's pixels.
    changed : np.ndarray
        bool, factual and counterfactual differ by more than the threshold (before dilation, object included).
    shadow : np.ndarray
        bool, pixels outside the object that its shadow darkens in the factual world.
    """

    quadmask: Quadmask
    removed: np.ndarray
    changed: np.ndarray
    shadow: np.ndarray


def channel_difference(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Largest absolute channel difference of two ``(..., 3)`` uint8 arrays, as int16 ``(...)``."""
    return np.abs(first.astype(np.int16) - second.astype(np.int16)).max(axis=-1)


def derive_masks(
    factual: np.ndarray,
    counterfactual: np.ndarray,
    behind: np.ndarray,
    factual_ids: np.ndarray,
    *,
    removed_index: int,
    threshold: int = DEFAULT_THRESHOLD,
    dilation: int = DEFAULT_DILATION,
) -> SceneMasks:
    """Build the quadmask and shadow mask from the renders.

    Parameters
    ----------
    factual, counterfactual, behind : np.ndarray
        ``(T, H, W, 3)`` uint8 renders: the world with the object, without it, and the factual state with the
        object taken out.
    factual_ids : np.ndarray
        ``(T, H, W)`` object index per pixel of the factual render.
    removed_index : int, keyword-only
        Index of the removed object.
    threshold : int, keyword-only
        0-254: a pixel changes when its largest channel difference exceeds this.
    dilation : int, keyword-only
        >= 0: grow AFFECTED by this many pixels (square), never into REMOVE.
    """
    if not 0 <= threshold < 255:
        raise ValueError(f"threshold must be in 0..254, got {threshold}")
    if dilation < 0:
        raise ValueError(f"dilation must be >= 0, got {dilation}")
    removed = factual_ids == removed_index
    changed = channel_difference(factual, counterfactual) > threshold
    affected = changed & ~removed
    if dilation > 0:  # grown from the changes outside the object only: no ring around the object itself
        kernel = np.ones((2 * dilation + 1, 2 * dilation + 1), np.uint8)
        affected = np.stack([cv2.dilate(frame.astype(np.uint8), kernel) > 0 for frame in affected]) & ~removed
    levels = np.full(removed.shape, QuadLevel.KEEP, dtype=np.uint8)
    levels[affected] = QuadLevel.AFFECTED
    levels[removed] = QuadLevel.REMOVE
    levels[removed & (channel_difference(behind, counterfactual) > threshold)] = QuadLevel.OVERLAP
    quadmask = Quadmask(levels)
    darker = factual.astype(np.int16).sum(axis=-1) < behind.astype(np.int16).sum(axis=-1)
    shadow = ~removed & darker & (channel_difference(factual, behind) > threshold)
    return SceneMasks(quadmask=quadmask, removed=removed, changed=changed, shadow=shadow)
