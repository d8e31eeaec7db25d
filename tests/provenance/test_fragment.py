"""Bounded-memory signing of one-mdat mp4s: the fragmented view keeps every packet and frame, and a large
foreign file is signed as a fragmented mp4 that both verifiers accept."""

from __future__ import annotations

import hashlib
import io
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from forensics.provenance.fragment import FRAGMENT_BYTES, FragmentedView, needs_fragmenting, top_level_boxes
from forensics.provenance.sign import sign_file
from forensics.provenance.verify import verify_file
from tests.provenance.conftest import write_foreign_mp4, write_intra_mp4
from void_eval.errors import InputError


def _with_audio(path: Path) -> Path:
    """Video (x264, B-frames) and AAC audio interleaved in one mdat, as a camera or editor writes them."""
    rng = np.random.default_rng(5)
    with av.open(str(path), "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=16000)
        audio.layout = "mono"
        for index in range(12):
            picture = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
            samples = (rng.standard_normal((1, 1600)) * 0.1).astype(np.float32)
            sound = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = 16000, index * 1600, Fraction(1, 16000)
            for packet in audio.encode(sound):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode():
                container.mux(packet)
    return path


def _packets(path: Path) -> dict[int, list[tuple]]:
    """Each stream's packets in order: timestamps, key flag, bytes (how streams interleave in the file may differ)."""
    streams: dict[int, list[tuple]] = {}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                item = (packet.pts, packet.dts, packet.is_keyframe, hashlib.md5(bytes(packet)).hexdigest())
                streams.setdefault(packet.stream.index, []).append(item)
    return streams


def _decoded(path: Path) -> dict[int, list[str]]:
    """Each stream's decoded frames (pictures or audio samples), hashed."""
    with av.open(str(path)) as container:
        indices = [stream.index for stream in container.streams]
    frames: dict[int, list[str]] = {}
    for index in indices:
        with av.open(str(path)) as container:
            decoded = container.decode(container.streams[index])
            frames[index] = [hashlib.md5(frame.to_ndarray().tobytes()).hexdigest() for frame in decoded]
    return frames


def _materialise(source: Path, target: Path, fragment_bytes: int) -> FragmentedView:
    view = FragmentedView(source, fragment_bytes=fragment_bytes)
    with open(target, "wb") as out:
        shutil.copyfileobj(view, out, 1 << 16)
    view.close()
    return view


@pytest.fixture(scope="module")
def sources(media, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("fragment")
    frames = np.random.default_rng(2).integers(0, 255, (14, 48, 64, 3), dtype=np.uint8)
    return {
        "b-frames": write_foreign_mp4(folder / "bframes.mp4", frames, 10),
        "audio+video": _with_audio(folder / "av.mp4"),
        "intra": write_intra_mp4(folder / "intra.mp4", frames=5, size=64),
    }


@pytest.mark.parametrize("kind", ["b-frames", "audio+video", "intra"])
@pytest.mark.parametrize("fragment_bytes", [1, 3000, FRAGMENT_BYTES])
def test_view_keeps_every_packet_and_decoded_frame(sources, tmp_path, kind, fragment_bytes):
    source = sources[kind]
    target = tmp_path / "fragmented.mp4"
    view = _materialise(source, target, fragment_bytes)
    kinds = [box.kind for box in top_level_boxes(target)]
    assert kinds[:3] == ["ftyp", "moov", "moof"] and kinds.count("moof") == view.fragments == kinds.count("mdat")
    assert view.size == target.stat().st_size
    if fragment_bytes == 1:
        assert view.fragments == view.samples  # one sample each
    assert _packets(target) == _packets(source)
    assert _decoded(target) == _decoded(source)


def test_view_reads_the_same_bytes_from_any_position(sources, tmp_path):
    target = tmp_path / "whole.mp4"
    _materialise(sources["audio+video"], target, 2000)
    whole = target.read_bytes()
    rng = np.random.default_rng(0)
    with FragmentedView(sources["audio+video"], fragment_bytes=2000) as view:
        for _ in range(200):
            start, count = int(rng.integers(0, len(whole) + 10)), int(rng.integers(0, 5000))
            view.seek(start)
            assert view.read(count) == whole[start : start + count]
        assert view.seek(-10, io.SEEK_END) == len(whole) - 10 and view.read() == whole[-10:]


def test_view_refuses_what_it_cannot_present(media, tmp_path):
    with pytest.raises(InputError, match="fragmented mp4 already"):
        FragmentedView(media.edited_mp4)  # the toolkit writes fragmented mp4s
    cut = tmp_path / "cut.mp4"
    data = media.foreign_mp4.read_bytes()
    boxes = {box.kind: box for box in top_level_boxes(media.foreign_mp4)}
    cut.write_bytes(data[: boxes["mdat"].offset] + data[boxes["moov"].offset :])  # samples gone, moov left
    with pytest.raises(InputError, match="malformed box|ended before its last sample"), FragmentedView(cut) as view:
        view.read()
    assert needs_fragmenting(media.foreign_mp4) is None  # small: c2pa may read its mdat whole


def test_a_large_one_mdat_file_is_signed_fragmented_with_the_same_samples(large_foreign, media, pki, tmp_path):
    big = needs_fragmenting(large_foreign)
    assert big is not None and big.kind == "mdat" and big.size > 16 << 20
    lines: list[str] = []
    out = sign_file(large_foreign, parent=media.original_mp4, chain=pki.chain, key=pki.key,
                    out=tmp_path / "signed.mp4", method="telea", echo=lines.append)  # fmt: skip
    assert any("signing it as a fragmented mp4" in line for line in lines)
    boxes = top_level_boxes(out)
    assert [box.kind for box in boxes[:4]] == ["ftyp", "uuid", "moov", "moof"]
    assert max(box.size for box in boxes) <= FRAGMENT_BYTES + 4096  # fragments of at most 4 MiB of samples
    result = verify_file(out, trust=pki.root)
    assert (result.state, result.worst_state, result.failures) == ("Trusted", "Trusted", [])
    assert [action["action"] for action in result.actions] == ["c2pa.opened", "c2pa.edited", "c2pa.repackaged"]
    assert "nothing re-encoded" in result.actions[-1]["description"]
    assert result.ingredients[0]["title"] == media.original_mp4.name  # the parent stays the original
    repackaged = result.removal["repackaged"]
    assert repackaged["from"] == {"name": "master.mp4", "bytes": large_foreign.stat().st_size, "largest_box": "mdat"}
    assert repackaged["samples"] == 14 and repackaged["fragments"] == [box.kind for box in boxes].count("moof") == 5
    assert _packets(out) == _packets(large_foreign)


def test_sidecar_of_a_large_file_says_what_it_costs(large_foreign, pki, tmp_path):
    lines: list[str] = []
    store = sign_file(large_foreign, parent=None, chain=pki.chain, key=pki.key, out=tmp_path / "master.c2pa",
                      sidecar=True, echo=lines.append)  # fmt: skip
    assert any("c2pa holds about 3.4x that in memory while signing a sidecar" in line for line in lines)
    assert verify_file(large_foreign, trust=pki.root, sidecar=store).state == "Trusted"


def test_a_large_file_that_cannot_be_repackaged_is_signed_as_it_is_and_says_so(large_foreign, pki, tmp_path):
    import struct

    odd = tmp_path / "odd.mp4"
    data = bytearray(large_foreign.read_bytes())
    at = data.find(b"stco", next(box.offset for box in top_level_boxes(large_foreign) if box.kind == "moov"))
    count, first, second, third = struct.unpack(">4I", data[at + 8 : at + 24])
    assert count == 14  # one sample per chunk; samples 1 and 3 are the same bytes: swapping them decodes the same
    data[at + 12 : at + 24] = struct.pack(">3I", third, second, first)  # stored out of decode order
    odd.write_bytes(bytes(data))
    lines: list[str] = []
    out = sign_file(odd, parent=None, chain=pki.chain, key=pki.key, out=tmp_path / "s.mp4", echo=lines.append)
    assert any("cannot be repackaged (samples of track 1 are not stored in decode order)" in line for line in lines)
    assert [box.kind for box in top_level_boxes(out)].count("mdat") == 1  # signed as it was
    assert verify_file(out, trust=pki.root).state == "Trusted"
