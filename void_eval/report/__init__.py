"""Benchmark reports: leaderboard with CIs, breakdown plots, frame strips, run times — HTML and Markdown.

:func:`void_eval.report.build.build_report` writes ``RUN_DIR/report/index.html`` (self-contained) and
``report.md``; :mod:`~void_eval.report.tables`, :mod:`~void_eval.report.plots` and :mod:`~void_eval.report.strips`
make the parts and can be used alone (the benchmark notebook does).
"""
