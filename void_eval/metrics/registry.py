"""The metric registry: metric name -> accumulator class (imported lazily on first use).

Built-in entries cover every metric of :func:`void_eval.metrics.score.score_clip`; packages can add their own
through the ``void_eval.metrics`` entry-point group. A third-party accumulator class is built by
``Class.from_clip(clip, preset=..., device=...)`` when it defines that classmethod, else by ``Class()``.

Examples
--------
>>> "ewarp" in METRICS.names(), METRICS.get("flicker").__name__
(True, 'FlickerAccumulator')
"""

from __future__ import annotations

from void_eval.registry import Registry

METRICS: Registry = Registry("metric", entry_point_group="void_eval.metrics")

#: Full-reference fidelity against the counterfactual (helper D1's modules).
METRICS.add("psnr", "void_eval.metrics.psnr:PsnrAccumulator")
METRICS.add("ssim", "void_eval.metrics.ssim:SsimAccumulator")
METRICS.add("lpips", "void_eval.metrics.lpips:LpipsAccumulator")
#: Temporal consistency of the output.
METRICS.add("ewarp", "void_eval.metrics.ewarp:EwarpAccumulator")
METRICS.add("flicker", "void_eval.metrics.flicker:FlickerAccumulator")
#: Physical plausibility against the counterfactual.
METRICS.add("cf_score", "void_eval.metrics.cf_score:CfScoreAccumulator")
METRICS.add("motion_iou", "void_eval.metrics.motion_iou:MotionIouAccumulator")
METRICS.add("traj_err", "void_eval.metrics.trajectory:TrajectoryAccumulator")
METRICS.add("shadow_residual", "void_eval.metrics.shadow:ShadowResidualAccumulator")
#: No-reference checks against the input.
METRICS.add("preservation", "void_eval.metrics.preservation:PreservationAccumulator")
METRICS.add("seam", "void_eval.metrics.seam:SeamAccumulator")
