"""Reading ISO BMFF (mp4) boxes and a track's sample tables, without reading the samples.

:func:`top_level_boxes` lists the boxes of a file from their headers alone (a 2 GB ``mdat`` costs one seek).
:func:`parse_track` expands a ``trak`` box's sample tables (``stsz``, ``stco``/``co64``, ``stsc``, ``stts``,
``ctts``, ``stss``) into per-sample arrays: file offset, size, duration, composition offset, sync flag and sample
description, in decode order (about 25 bytes per sample, Python ``array`` only).

Examples
--------
>>> import io, struct
>>> data = struct.pack(">I4s", 16, b"ftyp") + b"isom" + bytes(4) + struct.pack(">I4s", 8, b"free")
>>> [(box.kind, box.offset, box.size) for box in iter_boxes(io.BytesIO(data), 0, len(data))]
[('ftyp', 0, 16), ('free', 16, 8)]
"""

from __future__ import annotations

import io
import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from void_eval.errors import InputError

#: The ``uuid`` box type C2PA stores its manifest in.
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_UNSUPPORTED_STBL = {"saiz": "encrypted samples", "saio": "encrypted samples", "senc": "encrypted samples"}
_UNSUPPORTED_STBL["stz2"] = "compact sample sizes (stz2)"


@dataclass(frozen=True)
class Box:
    """One box: its four-letter ``kind``, where it starts, its total ``size`` and the length of its header."""

    kind: str
    offset: int
    size: int
    header: int

    @property
    def end(self) -> int:
        """Offset just past the box."""
        return self.offset + self.size


def iter_boxes(stream, start: int, end: int) -> Iterator[Box]:
    """The boxes between ``start`` and ``end`` of a binary stream, reading only their headers."""
    offset = start
    while offset + 8 <= end:
        stream.seek(offset)
        head = stream.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", head[8:16])
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise InputError(getattr(stream, "name", "mp4"), f"malformed box at byte {offset}")
        yield Box(kind.decode("latin-1"), offset, size, header)
        offset += size


def top_level_boxes(path: str | Path) -> list[Box]:
    """The top-level boxes of an mp4 file (headers only)."""
    path = Path(path)
    with open(path, "rb") as stream:
        return list(iter_boxes(stream, 0, path.stat().st_size))


def children(data: bytes, start: int, end: int) -> list[Box]:
    return list(iter_boxes(io.BytesIO(data), start, end))


def full_box(kind: bytes, version: int, flags: int, body: bytes) -> bytes:
    return struct.pack(">I4sI", 12 + len(body), kind, (version << 24) | flags) + body


def _be_array(code: str, data: bytes) -> array:
    values = array(code, data)
    if sys.byteorder == "little":
        values.byteswap()
    return values


def be_bytes(values: array) -> bytes:
    if sys.byteorder == "little":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


@dataclass
class Track:
    """One track's samples in decode order: file offsets, sizes, durations, composition offsets, sync flags."""

    track_id: int
    offsets: array
    sizes: array
    durations: array
    composition: array | None
    sync: bytearray
    description: array


def _tables(data: bytes, stbl: Box, source: str) -> dict[str, bytes]:
    tables = {}
    for box in children(data, stbl.offset + stbl.header, stbl.end):
        if box.kind in _UNSUPPORTED_STBL:
            raise InputError(source, f"cannot present {_UNSUPPORTED_STBL[box.kind]} as a fragmented mp4")
        tables[box.kind] = data[box.offset + box.header + 4 : box.end]  # after version and flags
    return tables


def _runs(body: bytes, width: int) -> list[tuple[int, ...]]:
    (count,) = struct.unpack(">I", body[:4])
    values = _be_array("I", body[4 : 4 + 4 * width * count])
    return [tuple(values[index : index + width]) for index in range(0, len(values), width)]


def _expand(runs: list[tuple[int, int]], count: int, code: str = "I") -> array:
    values = array(code)
    for repeat, value in runs:
        values.extend(array(code, [value]) * repeat)
    if len(values) != count:
        raise ValueError(f"table covers {len(values)} samples, expected {count}")
    return values


def _sample_sizes(tables: dict[str, bytes]) -> array:
    size, count = struct.unpack(">II", tables["stsz"][:8])
    return array("I", [size]) * count if size else _be_array("I", tables["stsz"][8 : 8 + 4 * count])


def _chunk_offsets(tables: dict[str, bytes]) -> array:
    if "co64" in tables:
        (count,) = struct.unpack(">I", tables["co64"][:4])
        return _be_array("Q", tables["co64"][4 : 4 + 8 * count])
    (count,) = struct.unpack(">I", tables["stco"][:4])
    return array("Q", _be_array("I", tables["stco"][4 : 4 + 4 * count]))


def _sample_offsets(tables: dict[str, bytes], sizes: array) -> tuple[array, array]:
    """File offset and sample description index of every sample, from the chunk offsets and ``stsc``."""
    chunks = _chunk_offsets(tables)
    entries = _runs(tables["stsc"], 3)
    offsets, descriptions = array("Q"), array("I")
    sample = 0
    for index, (first, per_chunk, description) in enumerate(entries):
        last = entries[index + 1][0] - 1 if index + 1 < len(entries) else len(chunks)
        for chunk in range(first - 1, last):
            position = chunks[chunk]
            for _ in range(per_chunk):
                offsets.append(position)
                descriptions.append(description)
                position += sizes[sample]
                sample += 1
    if sample != len(sizes):
        raise ValueError(f"chunks hold {sample} samples, stsz lists {len(sizes)}")
    return offsets, descriptions


def parse_track(data: bytes, trak: Box, source: str) -> Track:
    boxes = {box.kind: box for box in children(data, trak.offset + trak.header, trak.end)}
    tkhd = boxes["tkhd"]
    version = data[tkhd.offset + tkhd.header]
    at = tkhd.offset + tkhd.header + (20 if version == 1 else 12)
    (track_id,) = struct.unpack(">I", data[at : at + 4])
    mdia = {box.kind: box for box in children(data, boxes["mdia"].offset + 8, boxes["mdia"].end)}
    minf = {box.kind: box for box in children(data, mdia["minf"].offset + 8, mdia["minf"].end)}
    tables = _tables(data, minf["stbl"], source)
    sizes = _sample_sizes(tables)
    offsets, descriptions = _sample_offsets(tables, sizes)
    durations = _expand(_runs(tables["stts"], 2), len(sizes))
    composition = None
    if "ctts" in tables:
        runs = [(count, value - (1 << 32) if value >= 1 << 31 else value) for count, value in _runs(tables["ctts"], 2)]
        composition = _expand(runs, len(sizes), "i")
    sync = bytearray(b"\x01") * len(sizes)
    if "stss" in tables:
        sync = bytearray(len(sizes))
        for (number,) in _runs(tables["stss"], 1):
            sync[number - 1] = 1
    return Track(track_id, offsets, sizes, durations, composition, sync, descriptions)


def is_c2pa_box(stream, box: Box) -> bool:
    if box.kind != "uuid":
        return False
    stream.seek(box.offset + box.header)
    return stream.read(16) == C2PA_UUID
