"""Counterfactual physics suite: clips with ground truth for "the scene as if the object never existed".

Each clip is one pybullet scene simulated twice, with and without the removed object, rendered with TinyRenderer
(cast shadows, per-object segmentation), and written as a clip folder with ``input_video.mp4``,
``counterfactual.mp4``, ``quadmask_0.mp4``, segmentation and shadow masks and ``meta.json``.

Examples
--------
>>> from void_eval.suite import make_suite
>>> paths = make_suite("suite_out", preset="demo", seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAMILIES", "PRESETS", "make_suite"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from void_eval.suite import make

        return getattr(make, name)
    raise AttributeError(f"module 'void_eval.suite' has no attribute {name!r}")
