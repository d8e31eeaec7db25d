"""Metrics: per-region fidelity, temporal consistency, physical plausibility and no-reference checks.

See :mod:`void_eval.metrics.base` for the contract every metric follows.
"""
