"""Advance several chunk streams together without keeping the previous chunks alive.

``zip`` reuses its result tuple: the previous items stay referenced by it until every stream has produced its next
item, so while a 4K clip's next chunk decodes, the previous input, mask, counterfactual and output chunks (~80 MB)
would still be in memory even after the caller dropped them. :func:`lockstep` builds a fresh list per step and
holds nothing of the last one while it asks the streams for the next.

Examples
--------
>>> [pair for pair in lockstep(iter([1, 2]), iter("ab"))]
[[1, 'a'], [2, 'b']]
>>> list(lockstep(iter([1, 2]), iter("a")))
Traceback (most recent call last):
...
ValueError: lockstep: stream 1 ended before stream 0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

_END = object()


def lockstep(*streams: Iterable[Any]) -> Iterator[list[Any]]:
    """``zip(*streams, strict=True)`` as lists, keeping no reference to one step's items while making the next.

    Raises
    ------
    ValueError
        The streams have different lengths.
    """
    iterators = [iter(stream) for stream in streams]
    while True:
        items: list[Any] = []
        for iterator in iterators:
            items.append(next(iterator, _END))
        ended = [index for index, item in enumerate(items) if item is _END]
        if len(ended) == len(items):
            return
        if ended:
            running = next(index for index, item in enumerate(items) if item is not _END)
            raise ValueError(f"lockstep: stream {ended[0]} ended before stream {running}")
        yield items
        del items
