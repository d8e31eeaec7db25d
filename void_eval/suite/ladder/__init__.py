"""Known-truth ladder: output videos of a suite clip whose quality is known by construction.

From any suite clip (``void-eval suite make``) the ladder writes the perfect output (the counterfactual), the worst
(the input) and partial cases between them: the affected objects' motion delayed, a half-strength ghost of the
removed interaction, the clip half edited, a residual shadow, a frozen fill (:mod:`void_eval.suite.ladder.rungs`).
A metric that judges physical plausibility must order them: ``benchmarks/physics_ladder.py`` checks that.

Examples
--------
>>> from void_eval.suite.ladder import make_ladder
>>> manifest = make_ladder("suite/002_support", "ladder/002_support")  # doctest: +SKIP
>>> [rung["name"] for rung in manifest["rungs"]]  # doctest: +SKIP
['counterfactual', 'delay_2', 'delay_4', 'delay_8', 'ghost', 'half', 'shadow_30', 'frozen', 'input']
"""

from __future__ import annotations

from typing import Any

__all__ = ["LADDER_FILE", "ladder_rungs", "make_ladder", "make_suite_ladders"]


def __getattr__(name: str) -> Any:
    if name in ("LADDER_FILE", "make_ladder", "make_suite_ladders"):
        from void_eval.suite.ladder import make

        return getattr(make, name)
    if name == "ladder_rungs":
        from void_eval.suite.ladder.rungs import ladder_rungs

        return ladder_rungs
    raise AttributeError(f"module 'void_eval.suite.ladder' has no attribute {name!r}")
