"""Handing the C heap's free pages back to the system between the steps of a large-frame scoring pass.

glibc keeps freed memory of medium-sized blocks (up to its adaptive mmap threshold, 32 MiB at most) in its heaps for
reuse; a pass over 4K frames frees and allocates hundreds of MB per frame in blocks of every size, and what one
metric freed often cannot serve the next metric's differently sized blocks, so the process's resident memory creeps
above what is live. ``malloc_trim(0)`` returns every free page of every heap to the system (the memory stays
allocatable). Measured on 6 frames of the 4K score_memory clip: peak RSS 1384 / 1363 -> 1334 / 1320 MB when called
before each metric's update, no measurable time (a few ms a call against ~4 s of scoring a 4K frame). A fixed low
mmap threshold would do the same but made a 720p LPIPS pair 190 -> 330 ms (every large block page-faulted anew).

Examples
--------
>>> release_free_heap()  # a no-op where the C library is not glibc
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

#: Frames of at least this many pixels (4K: 8.3 Mpx) get :func:`release_free_heap` between metric updates; at 1080p
#: and below the resident memory is far from any limit and the calls would only cost time.
RELEASE_HEAP_MIN_PIXELS = 4_000_000


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (musl, macOS, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    function = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if function is not None:
        function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
    return function


def release_free_heap() -> bool:
    """Return the heap's free pages to the system (glibc ``malloc_trim(0)``); ``False`` where that does not exist."""
    function = _malloc_trim()
    if function is None:
        return False
    function(0)
    return True
