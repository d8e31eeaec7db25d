"""lockstep: zip(strict=True) that lets the previous chunks go before the next ones are made."""

from __future__ import annotations

import doctest
import gc
import weakref

import pytest

import void_eval.lockstep
from void_eval.lockstep import lockstep


class Chunk:
    """Stands for a decoded chunk; weakly referenceable."""


def _stream(alive_when_making_next: list[bool], count: int):
    previous = None
    for _ in range(count):
        if previous is not None:
            gc.collect()
            alive_when_making_next.append(previous() is not None)
        chunk = Chunk()
        previous = weakref.ref(chunk)
        yield chunk
        del chunk


@pytest.mark.parametrize("combine", [lockstep, lambda *streams: zip(*streams, strict=True)])
def test_previous_chunks_are_released_before_the_next_are_made(combine):
    seen: list[bool] = []
    for parts in combine(_stream(seen, 4), _stream(seen, 4)):
        assert len(parts) == 2
        del parts
    expected_alive = combine is not lockstep  # zip's reused result tuple keeps them: the reason lockstep exists
    assert seen and all(alive == expected_alive for alive in seen)


def test_unequal_lengths_are_an_error_and_equal_ones_give_every_step():
    assert list(lockstep([1, 2, 3], "abc", [None] * 3)) == [[1, "a", None], [2, "b", None], [3, "c", None]]
    with pytest.raises(ValueError, match="stream 0 ended before stream 1"):
        list(lockstep([1], [1, 2]))
    assert list(lockstep()) == []


def test_doctests():
    result = doctest.testmod(void_eval.lockstep, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
