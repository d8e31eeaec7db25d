"""A no-reference temporal metric of the output next to the same metric of the counterfactual, and their distance.

E_warp and flicker judge one video's frame-to-frame change. Raw, they reward stillness: a frozen fill (no motion
at all) beats the ground truth itself, whose objects move. Where the clip has a counterfactual, each temporal
metric ``m`` therefore reports three rows:

- ``m``: the output's own value (what the raw number rewards: E_warp, frames predictable from their neighbours
  along optical flow; flicker, small frame-to-frame differences);
- ``m_cf``: the counterfactual's own value, the temporal behaviour of the truth;
- ``m_diff = |m - m_cf|``, lower is better: how far the output's temporal behaviour is from the truth's. It
  rewards matching the truth's motion, not stillness. Both statistics are blind by construction to a time shift of
  the truth (a delay) and to a change that is the same in every frame (a still residual shadow).

The counterfactual's value does not depend on the output, so it is computed once per clip and kept for the process
(keyed by the counterfactual and quadmask files' path, size and modification time, and the metric's settings):
scoring several outputs of one clip in one process pays for it once. Without a counterfactual the ``_cf`` and
``_diff`` rows are NaN with the reason.

Examples
--------
>>> import numpy as np
>>> from void_eval.metrics.base import ScoreChunk
>>> from void_eval.metrics.flicker import FlickerAccumulator
>>> from void_eval.quadmask import Quadmask
>>> truth = np.zeros((3, 4, 4, 3), np.uint8); truth[1] = 30; truth[2] = 60  # the truth brightens
>>> frozen = np.zeros_like(truth)
>>> paired = TruthPaired(FlickerAccumulator(regions=("frame",)), FlickerAccumulator(regions=("frame",)))
>>> paired.update(ScoreChunk(0, frozen, truth, Quadmask(np.full((3, 4, 4), 255, np.uint8)), truth))
>>> rows = paired.compute_metrics()
>>> [round(rows[name]["frame"].value, 4) for name in ("flicker", "flicker_cf", "flicker_diff")]
[1.0, 0.8824, 0.1176]
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.metrics.spec import Row

#: Per (metric class, settings, counterfactual and quadmask file identities): the counterfactual's own values.
_TRUTH_VALUES: dict[tuple, dict[str, MetricValue]] = {}
_MAX_CACHED = 256
_CF_NOTE = "counterfactual scored in the output's place: "


def temporal_rows(metric: str, higher_is_better: bool, high: float) -> tuple[Row, Row, Row]:
    """The rows of a temporal metric: its value, the counterfactual's (``_cf``) and their distance (``_diff``)."""
    return (
        Row(metric, higher_is_better, (0.0, high)),
        Row(f"{metric}_cf", higher_is_better, (0.0, high)),
        Row(f"{metric}_diff", False, (0.0, high)),
    )


def _file_identity(path: Path | None) -> tuple | None:
    if path is None:
        return None
    stat = Path(path).stat()
    return (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


class TruthPaired(Accumulator):
    """``own`` fed the output, ``truth`` (same class and settings) fed the counterfactual as its output.

    Parameters
    ----------
    own : Accumulator
        The temporal metric of the output.
    truth : Accumulator or None
        The same metric for the counterfactual; None when the clip has none, or when ``cached`` holds its values.
    cached : dict, optional
        The counterfactual's values from an earlier output of the same clip.
    key : tuple, optional
        Where to keep the counterfactual's values once computed over ``frames`` frames.
    frames : int, optional
        Length of the clip (values of a partial pass are not kept).
    """

    state = ("own", "truth")

    def __init__(
        self,
        own: Accumulator,
        truth: Accumulator | None,
        *,
        cached: dict[str, MetricValue] | None = None,
        key: tuple | None = None,
        frames: int | None = None,
    ) -> None:
        self.own, self.truth, self.cached = own, truth, cached
        self.name, self.reference = own.name, own.reference
        self.needs_ground_truth = own.needs_ground_truth
        self.key, self.frames = key, frames

    @classmethod
    def pair(cls, factory: type[Accumulator], clip: Any, options: dict[str, Any]) -> TruthPaired:
        """``factory(**options)`` for the output and, when ``clip`` has a counterfactual, for it (or its cached
        values)."""
        own = factory(**options)
        if clip.counterfactual_path is None:
            return cls(own, None)
        key = (
            factory.__qualname__,
            repr(own.settings()),
            _file_identity(clip.counterfactual_path),
            _file_identity(clip.input_path),  # flow may come from the input (E_warp's flow_source)
            tuple(_file_identity(path) for path in clip.mask_files),
        )
        if key in _TRUTH_VALUES:
            return cls(own, None, cached=_TRUTH_VALUES[key])
        return cls(own, factory(**options), key=key, frames=clip.frames)

    def settings(self) -> tuple:
        return self.own.settings()

    def __getattr__(self, name: str) -> Any:
        """What the output's own accumulator says of itself (``describe`` of E_warp: its flow provenance)."""
        own = self.__dict__.get("own")
        if own is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(own, name)

    def update(self, chunk: ScoreChunk) -> None:
        """Feed the output to ``own`` and the counterfactual (as output) to ``truth``."""
        self.own.update(chunk)
        if self.truth is None or chunk.counterfactual is None:
            return
        truth_chunk = ScoreChunk(chunk.start, chunk.counterfactual, chunk.input, chunk.mask, chunk.counterfactual)
        truth_chunk._shared.update({key: value for key, value in chunk._shared.items() if key[0] == "region"})
        self.truth.update(truth_chunk)

    def compute(self) -> dict[str, MetricValue]:
        """The output's own values."""
        return self.own.compute()

    def _truth_values(self) -> dict[str, MetricValue] | None:
        if self.cached is not None:
            return self.cached
        if self.truth is None or getattr(self.truth, "start", None) is None:
            return None
        values = self.truth.compute()
        if self.key is not None and self.truth.start == 0 and self.truth.end == self.frames:
            if len(_TRUTH_VALUES) >= _MAX_CACHED:
                _TRUTH_VALUES.pop(next(iter(_TRUTH_VALUES)))
            _TRUTH_VALUES[self.key] = values
        return values

    def compute_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """Rows ``m``, ``m_cf`` and ``m_diff`` per region (see the module docstring)."""
        own = self.own.compute()
        truth = self._truth_values()
        if truth is None:
            missing = MetricValue.nan("needs the counterfactual video")
            return {
                self.name: own,
                f"{self.name}_cf": dict.fromkeys(own, missing),
                f"{self.name}_diff": dict.fromkeys(own, missing),
            }
        difference = {}
        for region, value in own.items():
            distance = abs(value.value - truth[region].value)
            if distance != distance:  # NaN on either side
                reason = value.note if value.value != value.value else f"counterfactual: {truth[region].note}"
                difference[region] = MetricValue.nan(reason)
            else:
                note = f"|output - counterfactual| = |{value.value:.4g} - {truth[region].value:.4g}|"
                difference[region] = MetricValue(distance, note=note, count=value.count)
        # the counterfactual was scored in the output's place: "output" in its note means the counterfactual
        truth = {region: replace(value, note=f"{_CF_NOTE}{value.note}") for region, value in truth.items()}
        return {self.name: own, f"{self.name}_cf": truth, f"{self.name}_diff": difference}
