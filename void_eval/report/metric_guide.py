"""The report's metric guide: what each metric of a run measures, its direction and range, and the scenario
families of the run it applies to (from each metric's :class:`~void_eval.metrics.spec.MetricSpec`).

Examples
--------
>>> import pandas as pd
>>> results = pd.DataFrame({"metric": ["psnr", "psnr", "traj_err", "traj_lost"],
...                         "reference": ["counterfactual", "input", "counterfactual", "counterfactual"],
...                         "scenario": ["occlusion", "occlusion", "support", "support"]})
>>> guide = metric_guide(results)
>>> list(guide.columns)
['metric', 'measures', 'direction, range', 'occlusion', 'support']
>>> guide["metric"].tolist()  # psnr against the input is the preservation metric's row
['psnr', 'traj_err', 'preservation']
>>> guide.set_index("metric").loc["traj_err", ["occlusion", "support"]].tolist()
['n/a', '✓']
"""

from __future__ import annotations

import math

import pandas as pd

from void_eval.metrics.registry import DEFAULT_METRICS, METRICS, get_spec
from void_eval.metrics.spec import MetricSpec

#: What a family column holds where a metric applies / does not (its rows are NaN there, with the reason).
APPLIES, NOT_APPLICABLE = "✓", "n/a"


def metric_guide(results: pd.DataFrame) -> pd.DataFrame:
    """One row per metric in ``results`` (tidy rows with ``metric``, ``reference`` and ``scenario``).

    Parameters
    ----------
    results : DataFrame
        The run's tidy results (``results.parquet``).

    Returns
    -------
    DataFrame
        Columns ``metric``, ``measures``, ``direction, range`` and one per scenario family of the run (``✓`` where
        the metric applies, ``n/a`` where its rows are NaN by design), in the default metrics' order. A metric is
        listed when one of its rows appears with its reference (``psnr`` against the input is ``preservation``'s).
    """
    families = sorted(str(family) for family in results["scenario"].dropna().unique())
    if "reference" in results:
        present = set(zip(results["metric"], results["reference"], strict=True))
    else:  # rows without their reference: match on the row name alone
        present = {(metric, None) for metric in results["metric"]}
    records = []
    for spec in _specs():
        reference = spec.reference if "reference" in results else None
        if not any((row.metric, reference) in present for row in spec.rows):
            continue
        record = {"metric": spec.name, "measures": spec.summary, "direction, range": _direction(spec)}
        record |= {family: APPLIES if spec.applies_to(family) else NOT_APPLICABLE for family in families}
        records.append(record)
    return pd.DataFrame(records, columns=["metric", "measures", "direction, range", *families])


def _specs() -> list[MetricSpec]:
    """Every registered spec, the default metrics first in their row order."""
    names = list(dict.fromkeys([*DEFAULT_METRICS, *METRICS.names()]))
    return [get_spec(name) for name in names]


def _direction(spec: MetricSpec) -> str:
    """``↑ [0, 1]`` style: the headline row's direction and range."""
    low, high = spec.value_range
    show = lambda value: "inf" if math.isinf(value) else f"{value:g}"  # noqa: E731
    return f"{'↑' if spec.higher_is_better else '↓'} [{show(low)}, {show(high)}]"
