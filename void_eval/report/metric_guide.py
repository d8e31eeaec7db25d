"""The report's metric guide: what each metric of a run measures, its direction and range, and the scenario
families of the run it applies to (from each metric's :class:`~void_eval.metrics.spec.MetricSpec`).

Examples
--------
>>> import pandas as pd
>>> results = pd.DataFrame({"metric": ["psnr", "traj_err", "traj_lost"],
...                         "scenario": ["occlusion", "support", "support"]})
>>> guide = metric_guide(results)
>>> list(guide.columns)
['metric', 'measures', 'direction, range', 'occlusion', 'support']
>>> guide.set_index("metric").loc["traj_err", ["occlusion", "support"]].tolist()
['n/a', '✓']
"""

from __future__ import annotations

import math

import pandas as pd

from void_eval.metrics.registry import spec_of_row
from void_eval.metrics.spec import MetricSpec

#: What a family column holds where a metric applies / does not (its rows are NaN there, with the reason).
APPLIES, NOT_APPLICABLE = "✓", "n/a"


def metric_guide(results: pd.DataFrame) -> pd.DataFrame:
    """One row per metric in ``results`` (tidy rows with ``metric`` and ``scenario``), in registry row order.

    Parameters
    ----------
    results : DataFrame
        The run's tidy results (``results.parquet``).

    Returns
    -------
    DataFrame
        Columns ``metric``, ``measures``, ``direction, range`` and one per scenario family of the run (``✓`` where
        the metric applies, ``n/a`` where its rows are NaN by design). Rows not reported by a registered metric
        (a plugin removed since) are left out.
    """
    families = sorted(str(family) for family in results["scenario"].dropna().unique())
    specs: dict[str, MetricSpec] = {}
    for row in dict.fromkeys(results["metric"]):
        try:
            spec = spec_of_row(str(row))
        except ValueError:
            continue
        specs.setdefault(spec.name, spec)
    records = []
    for spec in specs.values():
        record = {"metric": spec.name, "measures": spec.summary, "direction, range": _direction(spec)}
        record |= {family: APPLIES if spec.applies_to(family) else NOT_APPLICABLE for family in families}
        records.append(record)
    return pd.DataFrame(records, columns=["metric", "measures", "direction, range", *families])


def _direction(spec: MetricSpec) -> str:
    """``↑ [0, 1]`` style: the headline row's direction and range."""
    low, high = spec.value_range
    show = lambda value: "inf" if math.isinf(value) else f"{value:g}"  # noqa: E731
    return f"{'↑' if spec.higher_is_better else '↓'} [{show(low)}, {show(high)}]"
