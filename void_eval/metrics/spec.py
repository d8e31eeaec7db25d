"""What a metric is, said once: :class:`MetricSpec`, read by ``score_clip``, the runner, the report and the CLI.

A spec names the metric, the factory that builds its accumulator, the rows it reports (each row a metric name
with its own direction and range: ``traj_err`` reports ``traj_err`` and ``traj_lost``, ``ewarp`` reports
``ewarp``, ``ewarp_cf`` and ``ewarp_diff``), the quadmask regions, what the output is compared against, whether
the counterfactual is needed, which suite scenario families it applies to (elsewhere its rows are NaN with the
reason) and, for the physics and temporal metrics, what the known-truth ladder may hold it to (``aspects``,
``temporal``; see ``benchmarks/physics_ladder.py``). Definitions of every built-in metric: ``docs/metrics.md``.

Examples
--------
>>> spec = MetricSpec(
...     name="frame_count", factory="collections:Counter", rows=(Row("frame_count", True, (0.0, float("inf"))),),
...     regions=("frame",), reference="output", needs_ground_truth=False, families=("collision",))
>>> spec.higher_is_better, spec.applies_to("collision"), spec.applies_to("real")
(True, True, False)
>>> spec.expected_rows("default", {})
[('frame_count', 'frame')]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from void_eval.metrics.base import Accumulator, Reference

#: Regions a result row may name (``docs/metrics.md``); ``frame`` is every pixel.
ROW_REGIONS: tuple[str, ...] = ("frame", "remove", "affected", "keep", "boundary")
#: Effects of the removed object a metric can judge (``MetricSpec.aspects``).
ASPECTS: tuple[str, ...] = ("objects", "shadow")


@dataclass(frozen=True)
class Row:
    """One named output of a metric: the ``metric`` column of its result rows, its direction and range."""

    metric: str
    higher_is_better: bool
    value_range: tuple[float, float]


@dataclass(frozen=True)
class MetricSpec:
    """One metric, declared once (see the module docstring).

    Attributes
    ----------
    name : str
        Registry name (what ``metrics=[...]`` and ``--metrics`` take).
    factory : str or callable
        ``"package.module:Class"`` (imported on first use) or the class; built by ``Class.from_clip(clip,
        preset=..., device=..., **options)`` when it has that classmethod, else ``Class(**options)``.
    rows : tuple of Row
        The rows it reports, the first one being the metric's headline.
    regions : tuple of str
        Regions of its rows (see :data:`ROW_REGIONS`).
    reference : {"counterfactual", "input", "output"}
        What the output is compared against (``output``: no reference).
    needs_ground_truth : bool
        Needs ``counterfactual.mp4``; without it the rows are NaN with a note.
    families : tuple of str or None
        Suite scenario families it applies to (``None``: every clip, real ones included).
    presets : tuple of (str, str or callable, tuple of str)
        ``(preset, factory, regions)`` where a named preset builds another accumulator (``propainter``: the classic
        protocol's PSNR and SSIM, region ``frame`` only).
    aspects : tuple of str
        Which of the removed object's effects the metric judges: ``objects`` (the affected objects' motion) and/or
        ``shadow`` (its shadow); both for the temporal metrics (they see any change); empty for metrics that judge
        no effect (fidelity, preservation, seam). The ladder benchmark holds a metric to the order only on rungs
        that degrade one of its aspects.
    temporal : bool
        A statistic of frame-to-frame change of one video (E_warp, flicker): blind by construction to a time
        shift of the truth and to a change that is the same in every frame; the ladder exempts those rungs.
    summary : str
        What it measures, in one sentence (the report's metric guide).
    """

    name: str
    factory: str | Callable[..., Accumulator]
    rows: tuple[Row, ...]
    regions: tuple[str, ...]
    reference: Reference
    needs_ground_truth: bool
    families: tuple[str, ...] | None = None
    presets: tuple[tuple[str, str | Callable[..., Accumulator], tuple[str, ...]], ...] = ()
    aspects: tuple[str, ...] = ()
    temporal: bool = False
    summary: str = ""

    def __post_init__(self) -> None:
        if set(self.aspects) - set(ASPECTS):
            raise ValueError(f"metric {self.name!r}: aspects must be among {ASPECTS}, got {self.aspects}")
        if not self.rows:
            raise ValueError(f"metric {self.name!r} declares no rows")
        unknown = [region for region in self.regions if region not in ROW_REGIONS]
        if unknown or not self.regions:
            raise ValueError(f"metric {self.name!r}: regions must be among {ROW_REGIONS}, got {self.regions}")
        for row in self.rows:
            low, high = row.value_range
            if not low <= high:
                raise ValueError(f"metric {self.name!r}: row {row.metric!r} has an empty range {row.value_range}")

    @property
    def higher_is_better(self) -> bool:
        """Direction of the headline row."""
        return self.rows[0].higher_is_better

    @property
    def value_range(self) -> tuple[float, float]:
        """Range of the headline row."""
        return self.rows[0].value_range

    def row(self, metric: str) -> Row:
        """The declared row named ``metric``."""
        for row in self.rows:
            if row.metric == metric:
                return row
        raise KeyError(f"metric {self.name!r} declares no row {metric!r}")

    def applies_to(self, family: str) -> bool:
        """Whether a clip of scenario family ``family`` (``"real"`` outside the suite) gets this metric."""
        return self.families is None or family in self.families

    def regions_for(self, preset: str, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Regions reported under ``preset`` with ``options`` (an explicit ``regions`` option wins)."""
        if "regions" in options:
            return tuple(options["regions"])
        return next((regions for name, _, regions in self.presets if name == preset), self.regions)

    def expected_rows(self, preset: str, options: Mapping[str, Any]) -> list[tuple[str, str]]:
        """``(metric, region)`` of every row this metric reports, in order."""
        return [(row.metric, region) for row in self.rows for region in self.regions_for(preset, options)]

    def build(self, clip: Any, *, preset: str, device: str, options: Mapping[str, Any]) -> Accumulator:
        """The accumulator for ``clip`` (see ``factory``; a preset may name another one)."""
        factory = _load(next((factory for name, factory, _ in self.presets if name == preset), self.factory))
        from_clip = getattr(factory, "from_clip", None)
        if from_clip is not None:
            return from_clip(clip, preset=preset, device=device, **options)
        return factory(**options)


def _load(factory: str | Callable[..., Any]) -> Callable[..., Any]:
    if not isinstance(factory, str):
        return factory
    module, _, attribute = factory.partition(":")
    return getattr(importlib.import_module(module), attribute)
