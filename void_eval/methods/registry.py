"""The method registry: name -> method class, imported lazily.

Add a method with one line (``METHODS.add("name", "package.module:Class")``) or from another package through
the ``void_eval.methods`` entry-point group. :func:`get_method` builds an instance with keyword parameters.

Examples
--------
>>> "flowprop" in METHODS.names()
True
>>> get_method("copy").name
'copy'
"""

from __future__ import annotations

from typing import Any

from void_eval.methods.base import Method
from void_eval.registry import Registry

METHODS: Registry[type] = Registry("method", entry_point_group="void_eval.methods")

# Built-in methods (one line each; lazy, so nothing heavy is imported until used).
METHODS.add("copy", "void_eval.methods.copy:CopyMethod")
METHODS.add("oracle", "void_eval.methods.oracle:OracleMethod")
METHODS.add("telea", "void_eval.methods.inpaint:TeleaMethod")
METHODS.add("navier-stokes", "void_eval.methods.inpaint:NavierStokesMethod")
METHODS.add("flowprop", "void_eval.methods.flowprop:FlowPropMethod")
METHODS.add("median", "void_eval.methods.median:MedianMethod")
METHODS.add("precomputed", "void_eval.methods.precomputed:PrecomputedMethod")
METHODS.add("external", "void_eval.methods.external:ExternalMethod")
# VOID pipeline (issue 6) entries go below this line.
METHODS.add("void-pass1", "void_eval.void.passes:VoidPass1Method")
METHODS.add("void-pass2", "void_eval.void.passes:VoidPass2Method")

#: Methods that run on a CPU with no weights and no external files: what ``make demo`` benchmarks.
CPU_METHODS: tuple[str, ...] = ("copy", "oracle", "telea", "navier-stokes", "flowprop", "median")


def get_method(name: str, **params: Any) -> Method:
    """Build the method registered as ``name`` with keyword ``params``.

    Raises
    ------
    KeyError
        Unknown name (the message suggests close names).
    ValueError, TypeError
        Bad parameter values or unknown parameter names.
    """
    factory = METHODS.get(name)
    try:
        method = factory(**params)
    except TypeError as err:
        raise TypeError(f"method {name!r}: {err}") from err
    if not isinstance(method, Method):
        raise TypeError(f"method {name!r} ({factory!r}) does not follow the Method protocol")
    return method
