"""A seekable output stream whose writes happen in a helper thread, so writing overlaps the caller's work.

c2pa signs through Python stream callbacks: it writes the signed file in 8 KiB pieces from the thread that also
reads and hashes. :class:`BackgroundWriter` gathers those pieces into blocks of ``block_bytes`` and hands the blocks
to one helper thread that writes them to the real file; the system call releases the GIL, so the kernel's
page-cache work for the output runs on the second core while c2pa goes on reading and hashing. Memory stays bounded:
at most ``depth`` blocks wait in the queue (plus the one being filled and the one being written).

Anything that needs the file's true state (``seek``, ``read``, ``flush``, ``close``) first waits until every queued
block is written, so the stream behaves exactly like the file it wraps; a write error in the helper thread is
raised by the next call (and by :meth:`close`), never lost.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryFile() as raw, BackgroundWriter(raw, block_bytes=4) as sink:
...     _ = sink.write(b"abcdef")
...     _ = sink.seek(1)
...     _ = sink.write(b"X")
...     _ = sink.seek(0)
...     sink.read()
b'aXcdef'
"""

from __future__ import annotations

import queue
import threading
from typing import IO


class BackgroundWriter:
    """Wrap a binary file (open for reading and writing) so that its writes run in a helper thread.

    Parameters
    ----------
    raw : binary file object
        The destination, opened ``w+b``; best unbuffered (``buffering=0``), since blocks are already large.
    block_bytes : int, keyword-only
        Size of the blocks handed to the helper thread (>= 1; default 1 MiB).
    depth : int, keyword-only
        Most blocks waiting at once (>= 1; default 4): bounds the memory to about ``(depth + 2) * block_bytes``
        (waiting, being filled, being written).
    """

    def __init__(self, raw: IO[bytes], *, block_bytes: int = 1 << 20, depth: int = 4) -> None:
        if block_bytes < 1:
            raise ValueError(f"block_bytes must be >= 1, got {block_bytes}")
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.raw = raw
        self.block_bytes = block_bytes
        self.error: BaseException | None = None
        self._block = bytearray()
        self._position = raw.tell()
        self._queue: queue.Queue[bytearray | None] = queue.Queue(depth)
        self._closed = False
        self._discard = False
        self._thread = threading.Thread(target=self._drain_queue, name="c2pa-output-writer", daemon=True)
        self._thread.start()

    def _drain_queue(self) -> None:
        while True:
            block = self._queue.get()
            try:
                if block is None:
                    return
                if self.error is None and not self._discard:  # after a failure or abort the output is void
                    self._write_all(block)
            except BaseException as err:  # handed to the caller's thread by _raise_pending
                self.error = err
            finally:
                self._queue.task_done()

    def _write_all(self, block: bytearray) -> None:
        view = memoryview(block)
        while view:
            written = self.raw.write(view)
            if not written:
                raise OSError(f"short write to {getattr(self.raw, 'name', 'the output')}")
            view = view[written:]

    def _raise_pending(self) -> None:
        if self.error is not None:
            raise self.error

    def _sync(self) -> None:
        """Queue the partial block and wait until the helper thread has written everything."""
        self._raise_pending()
        if self._block:
            self._queue.put(self._block)
            self._block = bytearray()
        self._queue.join()
        self._raise_pending()

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Append ``data`` at the current position (written by the helper thread); returns ``len(data)``."""
        if self._closed:
            raise ValueError("write to a closed BackgroundWriter")
        self._raise_pending()
        self._block += data
        self._position += len(data)
        if len(self._block) >= self.block_bytes:
            self._queue.put(self._block)
            self._block = bytearray()
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` (after writing everything queued); returns the new position."""
        self._sync()
        self._position = self.raw.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        """The logical position: where the next write lands."""
        return self._position

    def read(self, size: int = -1) -> bytes:
        """Read from the file as written so far."""
        self._sync()
        data = self.raw.read(size)
        self._position += len(data)
        return data

    def readinto(self, buffer) -> int:
        """Read into ``buffer`` from the file as written so far."""
        self._sync()
        count = self.raw.readinto(buffer) or 0
        self._position += count
        return count

    def flush(self) -> None:
        """Write everything queued, then flush the wrapped file."""
        self._sync()
        self.raw.flush()

    def close(self) -> None:
        """Write everything queued and stop the helper thread (raises a write error that happened meanwhile)."""
        if self._closed:
            return
        try:
            self._sync()
        finally:
            self._stop()

    def abort(self) -> None:
        """Stop the helper thread without raising; queued data may be dropped (the output is being discarded)."""
        if self._closed:
            return
        self._discard = True
        self._stop()

    def _stop(self) -> None:
        self._closed = True
        self._block = bytearray()
        self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
