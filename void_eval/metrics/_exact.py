"""An exactly rounded running sum, so that accumulators give the same bits whatever the chunking or merge order.

Floating-point addition is not associative: summing per-frame values chunk by chunk, or merging two workers'
sums, would change the last bits of a result. :class:`ExactSum` keeps Shewchuk's non-overlapping partials (the
algorithm behind :func:`math.fsum`), which represent the sum of every value added exactly; :attr:`ExactSum.value`
rounds it once.

Examples
--------
>>> a, b = ExactSum(), ExactSum()
>>> for x in (1e16, 1.0, -1e16):
...     a.add(x)
>>> b.add(1.0)
>>> a.value, sum([1e16, 1.0, -1e16])
(1.0, 0.0)
>>> a.merge(b); a.value
2.0
"""

from __future__ import annotations

import math


class ExactSum:
    """Exact sum of floats added in any order (a few partials of memory)."""

    __slots__ = ("_partials",)

    def __init__(self) -> None:
        self._partials: list[float] = []

    def add(self, x: float) -> None:
        """Add one value."""
        x = float(x)
        partials = self._partials
        index = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            high = x + y
            low = y - (high - x)
            if low:
                partials[index] = low
                index += 1
            x = high
        partials[index:] = [x]

    def merge(self, other: ExactSum) -> None:
        """Add everything ``other`` holds."""
        for value in list(other._partials):
            self.add(value)

    @property
    def value(self) -> float:
        """The sum, rounded once."""
        return math.fsum(self._partials)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactSum) and self.value == other.value

    def __repr__(self) -> str:
        return f"ExactSum({self.value!r})"
