"""Trajectory error: where each affected object is in the output vs where it is in the counterfactual.

Ground truth comes from the suite: ``meta.json`` lists the objects with role ``affected`` and their per-frame tracks
in both worlds (segmented centroids), and ``segmentation_counterfactual.mp4`` gives each object's pixels. For each
affected object and each frame ``t`` where it is visible in the counterfactual (at least 12 pixels):

- template: the counterfactual frame's pixels of the object (its segmentation mask), centred on its counterfactual
  centroid ``c_t``;
- search: the masked sum of squared differences ``s(d)`` (per pixel and channel) of the template placed at every
  position ``d`` of a window of the output frame that spans the object at ``c_t``, at its factual centroid ``f_t``
  and at the tracker's previous position in the output (so it follows the object from where it starts), grown by
  the object's largest per-frame speed in either world plus 2 px;
- found or lost: with ``k`` the object's contrast (mean squared difference between the template and the mean colour
  of a 7-px ring around it in the counterfactual frame), the object is lost when ``min s > k / 2`` (the best match
  is closer to plain surroundings than to the object);
- error: when found, the distance to ``c_t`` of the position averaged under the soft match ``w(d) = exp(-(s(d) -
  min s) / (min s + k / 20))``: a sharp match gives its own position, a 50/50 ghost of two positions one between;
  when lost, ``L = max(|f_t - c_t|, r)`` with ``r`` the half diagonal of the object's box (as far as leaving the
  object where the input has it, or at least its own size).

``traj_err`` is the mean error over the (object, frame) pairs, in pixels, range [0, inf), lower is better;
``traj_lost`` the share of pairs lost, [0, 1], lower is better (a diagnostic: losses are already in ``traj_err``).
Both in region ``affected``. They apply to suite families whose affected objects move differently in the two
worlds (support, collision, chain); NaN with a reason on a clip without affected objects, tracks or segmentation.

Known-truth ladder (``benchmarks/physics_ladder.py``, demo seeds 0-2): every applicable family ordered; on support,
delays of 2/4/8 frames score about 3-6/5-8/10-13 px, a 50/50 ghost 9-25, the input 16-59. The counterfactual
itself is not exactly 0 where the soft match spreads (flat objects, identical neighbours: about 6 px on chain).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> floor = rng.integers(0, 60, (1, 40, 60, 3), dtype=np.uint8)
>>> counterfactual = floor.copy(); counterfactual[0, 10:20, 10:20] = (40, 200, 40)
>>> output = floor.copy(); output[0, 10:20, 13:23] = (40, 200, 40)
>>> ids = np.full((1, 40, 60), -1); ids[0, 10:20, 10:20] = 1
>>> tracks = {"counterfactual": [{"centroid": [14.5, 14.5]}], "factual": [{"centroid": [34.5, 14.5]}]}
>>> objects = [{"id": 1, "role": "affected", "tracks": tracks}]
>>> rows = trajectory_error(output, counterfactual, objects, ids)
>>> round(rows["traj_err"].value), rows["traj_lost"].value
(3, 0.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from void_eval.metrics._exact import ExactSum
from void_eval.metrics._streams import SyncedVideo
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.segmentation import decode_segmentation

MIN_PIXELS = 12
RING = 7
_ROWS = ("traj_err", "traj_lost")


def affected_tracks(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``meta.json`` objects whose role is ``affected`` and that carry tracks in both worlds."""
    return [
        obj
        for obj in objects
        if obj.get("role") == "affected"
        and isinstance(obj.get("tracks"), dict)
        and {"factual", "counterfactual"} <= set(obj["tracks"])
    ]


def _centroid(track: list[dict[str, Any]], frame: int) -> np.ndarray | None:
    if frame >= len(track) or track[frame].get("centroid") is None:
        return None
    return np.asarray(track[frame]["centroid"], dtype=np.float64)


def _speed(obj: dict[str, Any]) -> float:
    """The object's largest per-frame centroid step in either world (pixels)."""
    steps = [0.0]
    for track in obj["tracks"].values():
        points = [entry.get("centroid") for entry in track]
        steps += [math.dist(a, b) for a, b in itertools.pairwise(points) if a is not None and b is not None]
    return max(steps)


def _contrast(frame: np.ndarray, mask: np.ndarray) -> float:
    """Mean squared difference (per channel) between the object's pixels and the mean colour of a ring around it."""
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((2 * RING + 1, 2 * RING + 1), np.uint8)).astype(bool) & ~mask
    if not ring.any():
        return 0.0
    difference = frame[mask].astype(np.float64) - frame[ring].astype(np.float64).mean(axis=0)
    return float((difference**2).mean())


def locate(
    output: np.ndarray, template: np.ndarray, mask: np.ndarray, window: tuple[int, int, int, int], contrast: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Soft match of ``template`` (pixels under ``mask``) in ``output[y0:y1, x0:x1]``: the candidate top-left
    corners ``(N, 2)`` as ``(x, y)``, their weights, and the best per-pixel-channel squared difference."""
    x0, y0, x1, y1 = window
    patch = np.ascontiguousarray(output[y0:y1, x0:x1], dtype=np.float32)
    weights = np.repeat(mask[..., None], 3, axis=2).astype(np.float32)
    ssd = cv2.matchTemplate(patch, template.astype(np.float32), cv2.TM_SQDIFF, mask=weights)
    scores = np.maximum(ssd, 0) / (3.0 * mask.sum())
    best = float(scores.min())
    soft = np.exp(-(scores - best) / (best + contrast / 20.0)).ravel()
    ys, xs = np.divmod(np.arange(scores.size), scores.shape[1])
    return np.stack([xs + x0, ys + y0], axis=1).astype(np.float64), soft, best


class TrajectoryAccumulator(Accumulator):
    """Streaming ``traj_err`` and ``traj_lost`` (see the module docstring).

    Parameters
    ----------
    objects : sequence of dict
        ``meta.json``'s ``objects``; those with role ``affected`` and tracks are followed.
    segmentation : str or Path or None
        The clip's ``segmentation_counterfactual.mp4`` (suite encoding); None: every value NaN.
    """

    name = "traj_err"
    reference = "counterfactual"
    needs_ground_truth = True
    state = ("error", "pairs", "lost", "absent", "indistinct", "frames_missing")

    def __init__(self, objects: Sequence[dict[str, Any]], segmentation: str | Path | None) -> None:
        self.objects = affected_tracks(objects)
        self._segmentation = None if segmentation is None else SyncedVideo(segmentation)
        self._speed = {obj["id"]: _speed(obj) + 2.0 for obj in self.objects}
        self._previous: dict[int, np.ndarray] = {}
        self.error = ExactSum()
        self.pairs = self.lost = self.absent = self.indistinct = self.frames_missing = 0

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> TrajectoryAccumulator:
        """The clip's affected objects (``meta.json``) and counterfactual segmentation."""
        segmentation = clip.meta.get("segmentation")
        name = segmentation.get("counterfactual") if isinstance(segmentation, dict) else None
        path = None if not isinstance(name, str) or not (clip.path / name).is_file() else clip.path / name
        objects = clip.meta.get("objects")
        return cls(**{"objects": objects if isinstance(objects, list) else [], "segmentation": path, **options})

    def update(self, chunk: ScoreChunk) -> None:
        """Follow every affected object through the chunk's output frames."""
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        if self._segmentation is None or not self.objects:
            return
        ids = decode_segmentation(self._segmentation.frames(chunk.start, len(chunk.output)))
        for index in range(len(chunk.output)):
            for obj in self.objects:
                self._add(obj, chunk.start + index, chunk.output[index], chunk.counterfactual[index], ids[index])

    def _add(self, obj: dict, frame: int, output: np.ndarray, counterfactual: np.ndarray, ids: np.ndarray) -> None:
        """One (object, frame) pair: its error against the counterfactual centroid, or the lost penalty."""
        ys, xs = np.nonzero(ids == obj["id"])
        if len(xs) < MIN_PIXELS:
            self.absent += 1
            return
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        mask = ids[y0:y1, x0:x1] == obj["id"]
        centre = np.array([xs.mean(), ys.mean()])
        offset = centre - (x0, y0)
        factual = _centroid(obj["tracks"]["factual"], frame)
        corners = [centre] + [point for point in (factual, self._previous.get(obj["id"])) if point is not None]
        window = _window(np.array(corners) - offset, (x1 - x0, y1 - y0), self._speed[obj["id"]], output.shape)
        contrast = _contrast_around(counterfactual, ids == obj["id"], (x0, y0, x1, y1))
        if contrast <= 0:  # the object looks like its surroundings (or has none): nothing to match it by
            self.indistinct += 1
            return
        positions, weights, best = locate(output, counterfactual[y0:y1, x0:x1], mask, window, contrast)
        positions += offset
        self._previous[obj["id"]] = positions[int(np.argmax(weights))]
        self.pairs += 1
        if best > contrast / 2:
            self.lost += 1
            half_diagonal = 0.5 * math.hypot(x1 - x0, y1 - y0)
            self.error.add(max(half_diagonal, 0.0 if factual is None else float(np.linalg.norm(factual - centre))))
            return
        estimate = (weights[:, None] * positions).sum(axis=0) / weights.sum()
        self.error.add(float(np.linalg.norm(estimate - centre)))

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": mean error in pixels}`` (``traj_err``)."""
        return self.compute_metrics()["traj_err"]

    def compute_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """``traj_err`` and ``traj_lost`` in region ``affected``."""
        reason = None
        if self.frames_missing:
            reason = "needs the counterfactual video"
        elif not self.objects:
            reason = "meta.json lists no affected object with tracks in both worlds"
        elif self.pairs == 0 and self.indistinct:
            reason = f"every visible affected object looks like its surroundings ({self.indistinct} object-frames)"
        elif self._segmentation is None and self.pairs == 0:
            reason = "needs the suite's segmentation_counterfactual.mp4 (meta.json segmentation)"
        elif self.pairs == 0:
            reason = f"no affected object is visible in the counterfactual ({self.absent} object-frames)"
        if reason is not None:
            return {row: {"affected": MetricValue.nan(reason)} for row in _ROWS}
        note = (
            f"template-matched in the output, {len(self.objects)} affected objects, {self.pairs} object-frames, "
            f"{self.lost} lost (counted at the lost penalty), {self.absent} not visible in the counterfactual, "
            f"{self.indistinct} indistinct from their surroundings"
        )
        return {
            "traj_err": {"affected": MetricValue(self.error.value / self.pairs, note=note, count=self.pairs)},
            "traj_lost": {"affected": MetricValue(self.lost / self.pairs, note=note, count=self.pairs)},
        }


def _window(corners: np.ndarray, size: tuple[int, int], margin: float, shape: tuple) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` of the output crop holding the template at every corner, grown by ``margin``."""
    height, width = shape[:2]
    x0 = int(max(0, math.floor(corners[:, 0].min() - margin)))
    y0 = int(max(0, math.floor(corners[:, 1].min() - margin)))
    x1 = int(min(width, math.ceil(corners[:, 0].max() + margin) + size[0]))
    y1 = int(min(height, math.ceil(corners[:, 1].max() + margin) + size[1]))
    x0, y0 = min(x0, width - size[0]), min(y0, height - size[1])
    return x0, y0, max(x1, x0 + size[0]), max(y1, y0 + size[1])


def _contrast_around(frame: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """:func:`_contrast` on a crop of ``box`` grown by the ring width."""
    x0, y0, x1, y1 = box
    height, width = mask.shape
    crop = (slice(max(0, y0 - RING), min(height, y1 + RING)), slice(max(0, x0 - RING), min(width, x1 + RING)))
    return _contrast(frame[crop], mask[crop])


def trajectory_error(
    output: np.ndarray, counterfactual: np.ndarray, objects: Sequence[dict[str, Any]], ids: np.ndarray
) -> dict[str, MetricValue]:
    """``traj_err`` and ``traj_lost`` of whole ``(T, H, W, 3)`` uint8 videos, with the counterfactual's object ids
    ``(T, H, W)`` (-1 background) given directly."""
    from void_eval.quadmask import Quadmask

    output = np.asarray(output)
    accumulator = TrajectoryAccumulator(objects, None)
    mask = Quadmask(np.full(output.shape[:3], 255, np.uint8))
    chunk = ScoreChunk(start=0, output=output, input=output, mask=mask, counterfactual=np.asarray(counterfactual))
    for index in range(len(output)):
        for obj in accumulator.objects:
            accumulator._add(obj, index, output[index], chunk.counterfactual[index], np.asarray(ids[index]))
    return {row: values["affected"] for row, values in accumulator.compute_metrics().items()}
