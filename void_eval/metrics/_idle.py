"""Objects too costly to make per call (OpenCV DIS instances, scratch buffers), lent to one thread at a time.

Examples
--------
>>> idle: list[list[int]] = []
>>> with borrowed(idle, list) as scratch:  # none idle yet: a new one
...     scratch.append(1)
>>> idle
[[1]]
>>> with borrowed(idle, list, keep=False) as fresh:  # a new one, not put back
...     pass
>>> len(idle)
1
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def borrowed(idle: list[T], make: Callable[[], T], *, keep: bool = True) -> Iterator[T]:
    """An object from ``idle`` (a new one from ``make`` when none is free), put back after the block if ``keep``.

    Safe across threads without a lock: ``list.pop`` and ``list.append`` are atomic, so no two threads hold the same
    object, and there are as many objects as were ever in use at once. ``keep=False`` lends a new object that is
    dropped after the block (when keeping its memory would cost more than making it again).
    """
    item = None
    if keep:
        try:
            item = idle.pop()
        except IndexError:
            pass
    if item is None:
        item = make()
    try:
        yield item
    finally:
        if keep:
            idle.append(item)
