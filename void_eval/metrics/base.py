"""The contract every metric follows: a streaming accumulator whose state is declared once, merged once.

An accumulator is fed :class:`ScoreChunk` s in frame order (any chunk size), adds raw sums and counts in
``update`` and reduces once in ``compute``. Chunked accumulation equals one call on the whole clip exactly, and
:meth:`Accumulator.merge` of per-worker accumulators equals one accumulator over all the data: each subclass lists
the attributes that hold its sums in ``state`` and :meth:`Accumulator.merge` adds them (numbers, :class:`ExactSum`,
lists, :class:`~void_eval.metrics.regions.RegionSums`, dicts of those), so no metric writes its own merge.

A :class:`ScoreChunk` also carries what several metrics of one chunk need (region masks, grey frames, frames on a
device): :meth:`ScoreChunk.shared` computes each once per chunk.

Examples
--------
>>> value = MetricValue.nan("region 'affected' is empty in every frame")
>>> value.value != value.value, value.note
(True, "region 'affected' is empty in every frame")
>>> from void_eval.metrics._exact import ExactSum
>>> first, second = ExactSum(), ExactSum()
>>> first.add(0.25); second.add(0.5)
>>> merged({"sum": first, "frames": 2, "skipped": [3]}, {"sum": second, "frames": 5, "skipped": [9]})
{'sum': ExactSum(0.75), 'frames': 7, 'skipped': [3, 9]}
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np

from void_eval.quadmask import Quadmask

Reference = Literal["counterfactual", "input", "output"]
T = TypeVar("T")


@dataclass(frozen=True)
class MetricValue:
    """One reduced value with what was averaged and any caveat; NaN always carries a reason in ``note``."""

    value: float
    note: str = ""
    count: int = 0

    @classmethod
    def nan(cls, reason: str) -> MetricValue:
        return cls(value=math.nan, note=reason, count=0)


@dataclass(frozen=True)
class ScoreChunk:
    """Frames ``[start, start + T)`` of one clip, aligned across streams: all ``(T, H, W, 3)`` uint8."""

    start: int
    output: np.ndarray
    input: np.ndarray
    mask: Quadmask
    counterfactual: np.ndarray | None = None
    _shared: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def stream(self, name: str) -> np.ndarray | None:
        """The ``output``, ``input`` or ``counterfactual`` frames (``None`` when the clip has no counterfactual)."""
        if name not in ("output", "input", "counterfactual"):
            raise ValueError(f"unknown stream {name!r}; expected output, input or counterfactual")
        return getattr(self, name)

    def shared(self, key: Any, make: Callable[[], T]) -> T:
        """``make()``, computed once per chunk for every metric that asks with the same ``key``."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def region(self, name: str) -> np.ndarray:
        """Boolean ``(T, H, W)`` pixels of quadmask region ``name`` (computed once per chunk)."""
        return self.shared(("region", name), lambda: self.mask.region(name))

    def on_device(self, stream: str, device: str) -> Any:
        """The stream's frames as a ``(T, H, W, 3)`` uint8 torch tensor on ``device`` (uploaded once per chunk)."""

        def upload() -> Any:
            import torch

            return torch.from_numpy(np.ascontiguousarray(self.stream(stream))).to(device)

        return self.shared(("device", stream, device), upload)


def merged(mine: Any, theirs: Any) -> Any:
    """``mine`` with ``theirs`` added: numbers add, sums merge, lists concatenate, dicts merge key by key."""
    if mine is None or isinstance(mine, bool | tuple):  # flags and first-seen facts
        return mine or theirs
    if isinstance(mine, int | float):
        return mine + theirs
    if isinstance(mine, list):
        return mine + theirs
    if isinstance(mine, dict):
        return {key: merged(value, theirs[key]) for key, value in mine.items()}
    if hasattr(mine, "merge"):  # ExactSum, RegionSums, accumulators
        mine.merge(theirs)
        return mine
    raise TypeError(f"no rule to merge state of type {type(mine).__name__}")


class Accumulator:
    """Base of every metric's streaming form (see the module docstring).

    Subclasses set ``name``, list their summed attributes in ``state``, return what must match for a merge in
    :meth:`settings`, and implement ``update`` and ``compute``. A metric reporting several rows (e.g.
    ``traj_err`` and ``traj_lost``) overrides :meth:`compute_metrics`.

    Attributes
    ----------
    name : str
        Metric name (its :class:`~void_eval.metrics.spec.MetricSpec`'s).
    reference : {"counterfactual", "input", "output"}
        What the output is compared against (``output`` for no-reference metrics).
    needs_ground_truth : bool
        True when this instance needs ``counterfactual.mp4``.
    """

    name: str = ""
    reference: Reference = "output"
    needs_ground_truth: bool = False
    state: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> Accumulator:
        """The accumulator for ``clip`` (metrics that read the clip's files or meta override this)."""
        return cls(**options)

    def settings(self) -> tuple:
        """What two accumulators must share to be merged."""
        return ()

    def update(self, chunk: ScoreChunk) -> None:  # pragma: no cover - abstract
        """Add one chunk's raw sums and counts."""
        raise NotImplementedError

    def compute(self) -> dict[str, MetricValue]:  # pragma: no cover - abstract
        """Reduce once: region name -> value of the metric's first row."""
        raise NotImplementedError

    def compute_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """Every row: metric row name -> region -> value."""
        return {self.name: self.compute()}

    def merge(self, other: Accumulator) -> None:
        """Add another accumulator's sums (from another worker over other frames or clips)."""
        self.check_mergeable(other)
        self.merge_state(other)

    def check_mergeable(self, other: Accumulator) -> None:
        """Raise unless ``other`` is the same metric with the same :meth:`settings`."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        if other.settings() != self.settings():
            raise ValueError(f"cannot merge {self.name} accumulators with different settings")

    def merge_state(self, other: Accumulator) -> None:
        """Add ``other``'s value of every attribute named in ``state``."""
        for attribute in self.state:
            setattr(self, attribute, merged(getattr(self, attribute), getattr(other, attribute)))
