"""An mp4 with one large ``mdat``, seen as a fragmented mp4 with the same samples: signing in bounded memory.

c2pa reads the largest top-level box of an mp4 whole (and holds about 3.4 times its size) while it signs. Most tools
write one ``mdat`` holding every sample, so a 2 GB master would need gigabytes of memory. :class:`FragmentedView`
presents such a file to c2pa as a *fragmented* mp4 without re-encoding anything and without writing a copy:

- ``ftyp`` as it was, then the ``moov`` with its sample tables emptied (``stts``, ``stsc``, ``stsz``, ``stco``
  with no entries; ``ctts``, ``stss``, ``sdtp``, ``sbgp`` dropped) and an ``mvex`` with one ``trex`` per track;
- then fragments of about ``fragment_bytes`` each: a ``moof`` (``mfhd``; per track a ``traf`` with ``tfhd``
  (default-base-is-moof), ``tfdt`` (the decode time of its first sample) and a ``trun`` listing each sample's
  duration, size, sync flag and composition offset) and an ``mdat`` with those samples' bytes.

The samples keep their bytes, order, decode and composition times and sync flags, so a decoder shows the same frames
(the tests compare every packet and every decoded frame). Sample bytes are read from the original file when c2pa
asks for them; only the new boxes live in memory (about 12-16 bytes per sample). Other top-level boxes (``udta``,
``meta``, ...) follow the ``moov``; ``free``/``skip``/``wide`` and an old C2PA manifest box are dropped.

Not handled (an :class:`~void_eval.errors.InputError` says so): files that are fragmented already, encrypted
samples (``saiz``/``saio``/``senc``), compact sample sizes (``stz2``), samples of a track stored out of order.

Examples
--------
>>> import io, tempfile, numpy as np
>>> from pathlib import Path
>>> import av
>>> path = Path(tempfile.mkdtemp()) / "plain.mp4"
>>> with av.open(str(path), "w", format="mp4") as container:
...     stream = container.add_stream("libx264", rate=10)
...     stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
...     for index in range(5):
...         frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), index * 40, np.uint8), format="rgb24")
...         for packet in stream.encode(frame):
...             container.mux(packet)
...     for packet in stream.encode():
...         container.mux(packet)
>>> [box.kind for box in top_level_boxes(path)][-2:]
['mdat', 'moov']
>>> view = FragmentedView(path, fragment_bytes=1)
>>> data = view.read()
>>> [box.kind for box in iter_boxes(io.BytesIO(data), 0, len(data))][:4], view.fragments, view.samples
(['ftyp', 'moov', 'moof', 'mdat'], 5, 5)
"""

from __future__ import annotations

import bisect
import io
import struct
from array import array
from collections.abc import Iterator
from pathlib import Path

from forensics.provenance.mp4_boxes import (
    Box,
    Track,
    be_bytes,
    children,
    full_box,
    is_c2pa_box,
    iter_boxes,
    parse_track,
    top_level_boxes,
)
from void_eval.errors import InputError

__all__ = [
    "FRAGMENT_BYTES",
    "LARGEST_BOX_BYTES",
    "FragmentedView",
    "iter_boxes",
    "needs_fragmenting",
    "top_level_boxes",
]

#: Repackage when the largest top-level box is bigger than this (c2pa would hold ~3.4x it in memory).
LARGEST_BOX_BYTES = 16 << 20
#: Target payload of one fragment (a sample larger than this gets a fragment of its own).
FRAGMENT_BYTES = 4 << 20
_DROPPED_TOP = {"free", "skip", "wide", "mdat", "moov", "ftyp"}
_CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl"}
_DROPPED_STBL = {"ctts", "stss", "stps", "sdtp", "sbgp", "cslg"}
_SYNC, _NON_SYNC = 0x02000000, 0x01010000  # trun sample flags: depends on nothing / depends on others, non-sync


def needs_fragmenting(path: str | Path, *, limit: int | None = None) -> Box | None:
    """The box that makes ``path`` worth presenting fragmented (largest, over ``limit``, default
    :data:`LARGEST_BOX_BYTES`), else ``None``.

    ``None`` also for a file that is fragmented already (it has ``moof`` boxes) or has no ``moov``.
    """
    boxes = top_level_boxes(path)
    kinds = {box.kind for box in boxes}
    if "moof" in kinds or "moov" not in kinds:
        return None
    largest = max(boxes, key=lambda box: box.size)
    return largest if largest.size > (LARGEST_BOX_BYTES if limit is None else limit) else None


def _empty_stbl(data: bytes, stbl: Box) -> bytes:
    parts = []
    for box in children(data, stbl.offset + stbl.header, stbl.end):
        if box.kind in ("stts", "stsc", "stco", "co64"):
            parts.append(full_box(b"stco" if box.kind == "co64" else box.kind.encode(), 0, 0, bytes(4)))
        elif box.kind == "stsz":
            parts.append(full_box(b"stsz", 0, 0, bytes(8)))
        elif box.kind not in _DROPPED_STBL:
            parts.append(data[box.offset : box.end])
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), b"stbl") + body


def _rebuild(data: bytes, box: Box, tail: bytes = b"") -> bytes:
    """``box`` with every ``stbl`` inside emptied (containers rebuilt around it) and ``tail`` appended."""
    if box.kind == "stbl":
        return _empty_stbl(data, box)
    if box.kind not in _CONTAINERS:
        return data[box.offset : box.end]
    body = b"".join(_rebuild(data, child) for child in children(data, box.offset + box.header, box.end)) + tail
    return struct.pack(">I4s", 8 + len(body), box.kind.encode()) + body


def _mvex(tracks: list[Track]) -> bytes:
    trex = b"".join(full_box(b"trex", 0, 0, struct.pack(">5I", track.track_id, 1, 0, 0, 0)) for track in tracks)
    return struct.pack(">I4s", 8 + len(trex), b"mvex") + trex


def _merged_samples(tracks: list[Track], source: str) -> Iterator[tuple[int, int, int]]:
    """``(file offset, track index, sample index)`` of every sample, in file order (tracks merged lazily)."""
    import heapq

    for track in tracks:
        if any(track.offsets[sample] > track.offsets[sample + 1] for sample in range(len(track.offsets) - 1)):
            raise InputError(source, f"samples of track {track.track_id} are not stored in decode order")
    return heapq.merge(*(_samples_of(index, track) for index, track in enumerate(tracks)))


def _samples_of(index: int, track: Track) -> Iterator[tuple[int, int, int]]:
    for sample, offset in enumerate(track.offsets):
        yield offset, index, sample


def _group(tracks: list[Track], fragment_bytes: int, source: str) -> Iterator[dict[int, list[int]]]:
    """Fragments as ``{track index: [first sample, end sample]}`` in file order, each holding at most
    ``fragment_bytes`` of samples (or one larger sample).

    A fragment also ends where a track changes sample description (a ``tfhd`` names one per track and fragment).
    """
    current: dict[int, list[int]] = {}
    size = 0
    for _, index, sample in _merged_samples(tracks, source):
        track = tracks[index]
        span = current.get(index)
        changed = span is not None and track.description[sample] != track.description[span[0]]
        if current and (size + track.sizes[sample] > fragment_bytes or changed):
            yield current
            current, size, span = {}, 0, None
        if span is None:
            current[index] = [sample, sample + 1]
        else:
            span[1] = sample + 1
        size += track.sizes[sample]
    if current:
        yield current


def _trun_samples(track: Track, first: int, end: int) -> bytes:
    width = 4 if track.composition is not None else 3
    values = array("I", bytes(4 * width * (end - first)))
    values[0::width] = track.durations[first:end]
    values[1::width] = track.sizes[first:end]
    values[2::width] = array("I", (_SYNC if flag else _NON_SYNC for flag in track.sync[first:end]))
    if track.composition is not None:
        values[3::width] = array("I", (value & 0xFFFFFFFF for value in track.composition[first:end]))
    return be_bytes(values)


def _data_runs(track: Track, first: int, end: int) -> list[tuple[int, int]]:
    """The samples' bytes as ``(file offset, length)`` runs, neighbouring samples merged."""
    runs: list[list[int]] = []
    for sample in range(first, end):
        offset, size = track.offsets[sample], track.sizes[sample]
        if runs and runs[-1][0] + runs[-1][1] == offset:
            runs[-1][1] += size
        elif size:
            runs.append([offset, size])
    return [(offset, size) for offset, size in runs]


def _fragment(tracks, spans, sequence: int, decode_times: list[int]) -> tuple[bytes, list[tuple[int, int]]]:
    """One fragment: ``moof`` + ``mdat`` header bytes, and the ``mdat`` payload as file runs."""
    trafs, payloads = [], []
    for index in sorted(spans):
        track, (first, end) = tracks[index], spans[index]
        samples = _trun_samples(track, first, end)
        negative = track.composition is not None and min(track.composition[first:end]) < 0
        flags = 0x000701 | (0x000800 if track.composition is not None else 0)
        tfhd = full_box(b"tfhd", 0, 0x020002, struct.pack(">II", track.track_id, track.description[first]))
        tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", decode_times[index]))
        trafs.append((tfhd + tfdt, 1 if negative else 0, flags, end - first, samples))
        payloads.append(sum(track.sizes[first:end]))
        decode_times[index] += sum(track.durations[first:end])
    traf_sizes = [8 + len(head) + 20 + len(samples) for head, _, _, _, samples in trafs]
    moof_size = 8 + 16 + sum(traf_sizes)
    total = sum(payloads)
    mdat_header = (
        struct.pack(">I4s", 8 + total, b"mdat")
        if total + 8 < 1 << 32
        else (struct.pack(">I4sQ", 1, b"mdat", 16 + total))
    )
    parts = [struct.pack(">I4s", moof_size, b"moof"), full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))]
    data_offset = moof_size + len(mdat_header)
    for (head, version, flags, count, samples), traf_size, payload in zip(trafs, traf_sizes, payloads, strict=True):
        trun = full_box(b"trun", version, flags, struct.pack(">Ii", count, data_offset) + samples)
        parts += [struct.pack(">I4s", traf_size, b"traf"), head, trun]
        data_offset += payload
    runs = [run for index in sorted(spans) for run in _data_runs(tracks[index], *spans[index])]
    return b"".join(parts) + mdat_header, runs


class FragmentedView(io.RawIOBase):
    """A read-only, seekable stream of ``path`` as a fragmented mp4 (see the module docstring).

    Parameters
    ----------
    path : str or Path
        A non-fragmented mp4 (``moov`` + ``mdat``).
    fragment_bytes : int, keyword-only
        Target sample bytes per fragment.

    Attributes
    ----------
    size : int
        Length of the fragmented stream in bytes.
    fragments, samples : int
        How many fragments and samples it has.

    Raises
    ------
    InputError
        A file it cannot present (see the module docstring), or a malformed one.
    """

    def __init__(self, path: str | Path, *, fragment_bytes: int = FRAGMENT_BYTES) -> None:
        super().__init__()
        if fragment_bytes < 1:
            raise ValueError(f"fragment_bytes must be >= 1, got {fragment_bytes}")
        self.path = Path(path)
        self._starts: list[int] = []
        self._sources: list[bytes | tuple[int, int]] = []
        self.size = 0
        self.samples = 0
        self.fragments = 0
        try:
            self._plan(fragment_bytes)
        except InputError:
            raise
        except (KeyError, ValueError, struct.error, IndexError) as err:
            raise InputError(self.path, f"cannot read its sample tables ({type(err).__name__}: {err})") from err
        self._raw = open(self.path, "rb", buffering=0)  # closed by close()
        self._position = 0

    def _add(self, source: bytes | tuple[int, int]) -> None:
        length = len(source) if isinstance(source, bytes) else source[1]
        if length:
            self._starts.append(self.size)
            self._sources.append(source)
            self.size += length

    def _plan(self, fragment_bytes: int) -> None:
        source = str(self.path)
        boxes = top_level_boxes(self.path)
        kinds = [box.kind for box in boxes]
        if "moof" in kinds:
            raise InputError(self.path, "is a fragmented mp4 already")
        if kinds[:1] != ["ftyp"] or "moov" not in kinds:
            raise InputError(self.path, "is not an mp4 with ftyp first and a moov box")
        moov = boxes[kinds.index("moov")]
        with open(self.path, "rb") as stream:
            stream.seek(moov.offset)
            data = stream.read(moov.size)
            stream.seek(boxes[0].offset)
            self._add(stream.read(boxes[0].size))
            kept = [box for box in boxes if box.kind not in _DROPPED_TOP and not is_c2pa_box(stream, box)]
        local = Box("moov", 0, moov.size, moov.header)
        inside = children(data, local.header, local.end)
        if any(child.kind == "mvex" for child in inside):
            raise InputError(self.path, "is a fragmented mp4 already (its moov has an mvex box)")
        tracks = [parse_track(data, child, source) for child in inside if child.kind == "trak"]
        self._add(_rebuild(data, local, tail=_mvex(tracks)))
        for box in kept:
            self._add((box.offset, box.size))
        decode_times = [0] * len(tracks)
        for sequence, spans in enumerate(_group(tracks, fragment_bytes, source), start=1):
            head, runs = _fragment(tracks, spans, sequence, decode_times)
            self._add(head)
            for run in runs:
                self._add(run)
            self.fragments = sequence
        self.samples = sum(len(track.sizes) for track in tracks)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"negative seek position {base + offset}")
        self._position = base + offset
        return self._position

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self.size:
            segment = bisect.bisect_right(self._starts, self._position) - 1
            skip = self._position - self._starts[segment]
            source = self._sources[segment]
            if isinstance(source, bytes):
                count = min(len(view) - done, len(source) - skip)
                view[done : done + count] = source[skip : skip + count]
            else:
                count = min(len(view) - done, source[1] - skip)
                self._raw.seek(source[0] + skip)
                count = self._raw.readinto(view[done : done + count]) or 0
                if count == 0:
                    raise InputError(self.path, "ended before its last sample (was it cut short?)")
            done += count
            self._position += count
        return done

    def close(self) -> None:
        raw = getattr(self, "_raw", None)
        if raw is not None:
            raw.close()
        super().close()
