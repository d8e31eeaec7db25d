"""The benchmark runner: plan methods x clips, run and score each cell under a cache key, gather tidy results.

:mod:`~void_eval.runner.plan` (what to do), :mod:`~void_eval.runner.cache` (keys and the cell store),
:mod:`~void_eval.runner.cell` (one cell: run + score), :mod:`~void_eval.runner.engine_local` and
:mod:`~void_eval.runner.engine_ray` (where cells execute), :mod:`~void_eval.runner.run` (the whole run),
:mod:`~void_eval.runner.results` (tidy tables, provenance, aggregates with bootstrap CIs).
"""
