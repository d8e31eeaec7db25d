"""Removal methods: baselines (copy, oracle, telea, navier-stokes, flowprop, median), precomputed outputs, VOID.

See :mod:`void_eval.methods.base` for the contract and :mod:`void_eval.methods.registry` for the names.
"""
