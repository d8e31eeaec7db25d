"""The metric registry: one :class:`~void_eval.metrics.spec.MetricSpec` per metric name.

Built-in entries cover every metric of :func:`void_eval.metrics.score.score_clip` (definitions in
``docs/metrics.md``); their accumulators are imported only when built. Packages add their own through the
``void_eval.metrics`` entry-point group, whose entries point at a ``MetricSpec``.

Examples
--------
>>> spec = get_spec("traj_err")
>>> [(row.metric, row.higher_is_better) for row in spec.rows], spec.aspects
([('traj_err', False), ('traj_lost', False)], ('objects',))
>>> get_spec("lpips").higher_is_better, get_spec("flicker").reference
(False, 'output')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from void_eval.metrics.spec import ROW_REGIONS, MetricSpec, Row
from void_eval.metrics.truth_pair import temporal_rows
from void_eval.registry import Registry

METRICS: Registry[MetricSpec] = Registry("metric", entry_point_group="void_eval.metrics")
_FIDELITY = ROW_REGIONS
#: Families with affected objects that move in one world and not the other (trajectories apply there).
TRAJECTORY_FAMILIES = ("support", "collision", "chain")
_EFFECTS = ("objects", "shadow")
_PSNR = Row("psnr", True, (0.0, math.inf))
_SSIM = Row("ssim", True, (-1.0, 1.0))


def _add(name: str, factory: str, rows: tuple[Row, ...], regions: tuple[str, ...], reference: Any, **extra) -> None:
    """Register a built-in: it needs the counterfactual exactly when it compares against it."""
    needs = reference == "counterfactual"
    METRICS.add(name, MetricSpec(name, f"void_eval.metrics.{factory}", rows, regions, reference, needs, **extra))


# full-reference fidelity against the counterfactual
_add(
    "psnr",
    "psnr:PsnrAccumulator",
    (_PSNR,),
    _FIDELITY,
    "counterfactual",
    presets=(("propainter", "void_eval.metrics.propainter:PropainterPsnr", ("frame",)),),
    summary="pixel fidelity to the counterfactual (peak signal-to-noise ratio, dB) per quadmask region",
)
_add(
    "ssim",
    "ssim:SsimAccumulator",
    (_SSIM,),
    _FIDELITY,
    "counterfactual",
    presets=(("propainter", "void_eval.metrics.propainter:PropainterSsim", ("frame",)),),
    summary="structural similarity to the counterfactual (Gaussian 11x11 SSIM) per quadmask region",
)
_add(
    "lpips",
    "lpips:LpipsAccumulator",
    (Row("lpips", False, (0.0, math.inf)),),
    _FIDELITY,
    "counterfactual",
    summary="perceptual distance to the counterfactual (LPIPS, AlexNet) per quadmask region",
)
# temporal consistency of the output, next to the counterfactual's own value and the distance between the two
_TEMPORAL = {"temporal": True, "aspects": _EFFECTS}
_add(
    "ewarp",
    "ewarp:EwarpAccumulator",
    temporal_rows("ewarp", False, 3.0),
    ("frame", "remove"),
    "output",
    **_TEMPORAL,
    summary=(
        "temporal consistency: error of each frame warped along the optical flow to the next; _diff is the "
        "distance to the counterfactual's own value, so a frozen fill does not win"
    ),
)
_add(
    "flicker",
    "flicker:FlickerAccumulator",
    temporal_rows("flicker", True, 1.0),
    ("frame", "remove"),
    "output",
    **_TEMPORAL,
    summary=(
        "temporal stability (VBench flicker, 1 = no change between frames); _diff is the distance to the "
        "counterfactual's own value"
    ),
)
# physical plausibility against the counterfactual
_add(
    "cf_score",
    "cf_score:CfScoreAccumulator",
    (Row("cf_score", True, (0.0, 1.0)),),
    ("affected",),
    "counterfactual",
    aspects=_EFFECTS,
    summary=(
        "whether the affected region is closer to the counterfactual than to the input, per frame (1: as if "
        "the object never existed, 0: its effects left)"
    ),
)
_add(
    "motion_agreement",
    "motion:MotionAgreementAccumulator",
    (Row("motion_agreement", True, (0.0, 1.0)),),
    ("affected",),
    "counterfactual",
    aspects=_EFFECTS,
    summary=(
        "whether the affected region moves as in the counterfactual: cumulative motion, proportional and "
        "timed (1: the truth's motion, 0: the input's)"
    ),
)
_add(
    "traj_err",
    "trajectory:TrajectoryAccumulator",
    (Row("traj_err", False, (0.0, math.inf)), Row("traj_lost", False, (0.0, 1.0))),
    ("affected",),
    "counterfactual",
    families=TRAJECTORY_FAMILIES,
    aspects=("objects",),
    summary=(
        "distance (px) between each affected object in the output (tracked from where it starts) and in the "
        "counterfactual; traj_lost is the share of object-frames lost"
    ),
)
_add(
    "shadow_residual",
    "shadow:ShadowResidualAccumulator",
    (Row("shadow_residual", False, (0.0, math.inf)),),
    ("affected",),
    "counterfactual",
    aspects=("shadow",),
    summary=(
        "how much of the removed object's shadow is left: luminance error against the counterfactual inside "
        "the shadow, relative to its depth (0 gone, 1 left in place)"
    ),
)
# no-reference checks against the input
_add(
    "preservation",
    "preservation:PreservationAccumulator",
    (_PSNR, _SSIM),
    ("keep",),
    "input",
    summary="whether the keep region is left as in the input (PSNR and SSIM against the input)",
)
_add(
    "seam",
    "seam:SeamAccumulator",
    (Row("seam", False, (0.0, math.inf)),),
    ("boundary",),
    "output",
    summary="visible seams: luma gradient along the edge of the remove region",
)

#: Metrics :func:`~void_eval.metrics.score.score_clip` runs by default, in row order: every built-in.
DEFAULT_METRICS: tuple[str, ...] = (
    "psnr",
    "ssim",
    "lpips",
    "ewarp",
    "flicker",
    "cf_score",
    "motion_agreement",
    "traj_err",
    "shadow_residual",
    "preservation",
    "seam",
)


def get_spec(name: str) -> MetricSpec:
    """The spec registered as ``name``.

    Raises
    ------
    ValueError
        Unknown name (the message suggests close ones).
    TypeError
        A plugin entry point that does not lead to a ``MetricSpec``.
    """
    try:
        spec = METRICS.get(name)
    except KeyError as err:
        raise ValueError(str(err.args[0])) from err
    if not isinstance(spec, MetricSpec):
        raise TypeError(f"metric {name!r} is registered as {type(spec).__name__}, not a MetricSpec")
    return spec


def spec_of_row(metric: str, names: Sequence[str] | None = None) -> MetricSpec:
    """The spec (among ``names``, default every registered metric) that reports result row ``metric``.

    Raises
    ------
    ValueError
        No such row.
    """
    for name in METRICS.names() if names is None else names:
        spec = get_spec(name)
        if any(row.metric == metric for row in spec.rows):
            return spec
    raise ValueError(f"no metric reports a row {metric!r}")


def row_infos(names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per result-row metric name, what the specs of ``names`` say of it (run.json's ``metric_info``).

    Raises
    ------
    ValueError
        Two metrics give one row name opposite directions.
    """
    infos: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = get_spec(name)
        for row in spec.rows:
            info = {
                "higher_is_better": row.higher_is_better,
                "value_range": [float(row.value_range[0]), float(row.value_range[1])],
                "metric": spec.name,
                "reference": spec.reference,
                "needs_ground_truth": spec.needs_ground_truth,
                "families": None if spec.families is None else list(spec.families),
                "aspects": list(spec.aspects),
                "temporal": spec.temporal,
            }
            earlier = infos.setdefault(row.metric, info)
            if earlier["higher_is_better"] != row.higher_is_better:
                raise ValueError(f"row {row.metric!r}: {earlier['metric']} and {spec.name} disagree on its direction")
    return infos
