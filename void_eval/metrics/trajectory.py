"""Trajectory error: where the affected objects are in the output vs where they are in the counterfactual.

Definition. ``meta.json`` (suite clips) lists ``objects`` with a ``role`` and an RGB ``color``. Each object whose
role is ``affected`` is located in every frame of the output **and** of the counterfactual by the same colour
detector, so that the detector's bias cancels:

- a pixel belongs to the object when the angle between its RGB vector and the object's colour is below
  ``max_angle`` degrees (default 8; shading scales RGB, so hue survives it) and its largest channel is at least
  ``min_brightness`` times the colour's largest channel (default 0.25, rejecting near-black pixels);
- the object is the largest 8-connected blob of matching pixels (stray background pixels of a similar hue do not
  move it); it is present in a frame when that blob has at least ``min_pixels`` pixels (default 12), and its
  position is the blob's centroid ``(x, y)``;
- in the output, a blob smaller than ``min_area_ratio`` (default 0.5) times the object's blob in the counterfactual
  frame counts as not found (a few background pixels of a similar hue are not the object).

``traj_err`` is the mean Euclidean distance in pixels between the output and counterfactual centroids over the
``(object, frame)`` pairs where the object is present in both. Frames where it is present in the counterfactual but
not found in the output are counted in the note (a removal that also erased the affected object). Range
[0, inf), lower is better; reported in region ``affected``. NaN with a reason when the clip has no affected object
with a colour, or no pair qualifies.

Examples
--------
>>> import numpy as np
>>> video = np.zeros((2, 40, 40, 3), np.uint8)
>>> video[:, 10:20, 10:20] = (40, 200, 40)
>>> moved = np.roll(video, 3, axis=2)
>>> objects = [{"id": 1, "role": "affected", "color": [40, 200, 40]}]
>>> trajectory_error(moved, video, objects).value
3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from void_eval.errors import InputError
from void_eval.metrics._exact import ExactSum
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk


def colour_centroid(
    frame: np.ndarray,
    colour: Sequence[float],
    *,
    max_angle: float = 8.0,
    min_brightness: float = 0.25,
    min_pixels: int = 12,
) -> tuple[float, float, int] | None:
    """``(x, y, area)`` of the largest blob of ``frame`` ``(H, W, 3)`` pixels matching ``colour``, or None."""
    reference = np.asarray(colour, dtype=np.float32)
    reference_norm = float(np.linalg.norm(reference))
    if reference_norm == 0:
        raise ValueError("cannot track a black object by colour")
    pixels = frame.astype(np.float32)
    norms = np.sqrt((pixels * pixels).sum(axis=-1))
    cosine = (pixels @ (reference / reference_norm)) / np.maximum(norms, 1e-6)
    matches = (cosine >= np.cos(np.deg2rad(max_angle))) & (pixels.max(axis=-1) >= min_brightness * reference.max())
    if int(matches.sum()) < min_pixels:
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(matches.astype(np.uint8), connectivity=8)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    if stats[largest, cv2.CC_STAT_AREA] < min_pixels:
        return None
    ys, xs = np.nonzero(labels == largest)
    return float(xs.mean()), float(ys.mean()), len(xs)


def affected_objects(objects: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``meta.json`` objects whose role is ``affected`` and that carry a colour."""
    return [obj for obj in objects if obj.get("role") == "affected" and obj.get("color") is not None]


class TrajectoryAccumulator(Accumulator):
    """Streaming ``traj_err`` (see the module docstring).

    Parameters
    ----------
    objects : sequence of dict
        ``meta.json``'s ``objects``; those with role ``affected`` and a ``color`` are tracked.
    max_angle, min_brightness, min_pixels : keyword-only
        Colour detector settings, see :func:`colour_centroid`.
    min_area_ratio : float, keyword-only
        Smallest output blob, relative to the counterfactual's, that still counts as the object.
    """

    name = "traj_err"
    reference = "counterfactual"
    needs_ground_truth = True
    state = ("distance_sum", "pairs", "lost", "absent", "frames_missing")

    def __init__(
        self,
        objects: Sequence[dict[str, Any]],
        *,
        max_angle: float = 8.0,
        min_brightness: float = 0.25,
        min_pixels: int = 12,
        min_area_ratio: float = 0.5,
    ) -> None:
        if not 0 <= min_area_ratio <= 1:
            raise ValueError(f"min_area_ratio must be in [0, 1], got {min_area_ratio}")
        self.min_area_ratio = min_area_ratio
        self.objects = affected_objects(objects)
        self.detector = dict(max_angle=max_angle, min_brightness=min_brightness, min_pixels=min_pixels)
        self.distance_sum = ExactSum()
        self.pairs = 0
        self.lost = 0
        self.absent = 0
        self.frames_missing = 0

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> TrajectoryAccumulator:
        """The accumulator for the objects listed in the clip's ``meta.json``."""
        objects = clip.meta.get("objects", [])
        if not isinstance(objects, list):
            raise InputError(clip.path / "meta.json", '"objects" must be a list')
        return cls(objects, **options)

    def update(self, chunk: ScoreChunk) -> None:
        """Locate each affected object in each frame of output and counterfactual; add the distances."""
        if chunk.counterfactual is None:
            self.frames_missing += len(chunk.output)
            return
        for index in range(len(chunk.output)):
            for obj in self.objects:
                reference = colour_centroid(chunk.counterfactual[index], obj["color"], **self.detector)
                if reference is None:
                    self.absent += 1
                    continue
                found = colour_centroid(chunk.output[index], obj["color"], **self.detector)
                if found is None or found[2] < self.min_area_ratio * reference[2]:
                    self.lost += 1
                    continue
                self.distance_sum.add(np.hypot(found[0] - reference[0], found[1] - reference[1]))
                self.pairs += 1

    def settings(self) -> tuple:
        return (tuple(sorted(self.detector.items())), self.min_area_ratio)

    def compute(self) -> dict[str, MetricValue]:
        """``{"affected": mean centroid distance in pixels}``."""
        if self.frames_missing:
            return {"affected": MetricValue.nan("needs the counterfactual video")}
        if not self.objects:
            return {"affected": MetricValue.nan("meta.json lists no affected object with a colour")}
        if self.pairs == 0:
            return {
                "affected": MetricValue.nan(
                    f"no affected object found in both videos ({self.lost} object-frames lost in the output, "
                    f"{self.absent} not visible in the counterfactual)"
                )
            }
        note = (
            f"colour-tracked centroids, {len(self.objects)} affected objects, {self.pairs} object-frames; "
            f"{self.lost} object-frames not found in the output, {self.absent} not visible in the counterfactual"
        )
        return {"affected": MetricValue(self.distance_sum.value / self.pairs, note=note, count=self.pairs)}


def trajectory_error(
    output: np.ndarray, counterfactual: np.ndarray, objects: Sequence[dict[str, Any]], **detector
) -> MetricValue:
    """``traj_err`` of whole ``(T, H, W, 3)`` uint8 videos in one call (same steps as the accumulator)."""
    from void_eval.quadmask import Quadmask

    output = np.asarray(output)
    accumulator = TrajectoryAccumulator(objects, **detector)
    mask = Quadmask(np.full(output.shape[:3], 255, np.uint8))
    accumulator.update(ScoreChunk(start=0, output=output, input=output, mask=mask, counterfactual=counterfactual))
    return accumulator.compute()["affected"]
