"""void-eval: judge AI video object removal.

The core types live in submodules and are imported on first use so that ``import void_eval`` stays cheap:
:mod:`void_eval.video` (streaming I/O), :mod:`void_eval.quadmask` (the 4-level mask),
:mod:`void_eval.clip` (clip folders).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("void-eval")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
