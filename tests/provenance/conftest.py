"""Fixtures for provenance tests: dev PKIs, small media (toolkit fragmented mp4, a foreign single-mdat mp4, PNG,
JPEG), a clip folder, and signed copies. Session-scoped: keys and files are made once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from forensics.provenance.keys import DevPki, make_dev_pki
from tests.conftest import synthetic_scene

FRAMES, HEIGHT, WIDTH, FPS = 10, 48, 64, 10.0


@dataclass(frozen=True)
class Media:
    folder: Path
    clip: Path
    original_mp4: Path
    edited_mp4: Path
    foreign_mp4: Path
    original_png: Path
    edited_png: Path
    original_jpg: Path
    edited_jpg: Path


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> DevPki:
    return make_dev_pki(tmp_path_factory.mktemp("pki"), algorithm="es256")


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory) -> DevPki:
    return make_dev_pki(tmp_path_factory.mktemp("other_pki"), algorithm="es256")


def write_foreign_mp4(path: Path, frames: np.ndarray, fps: int) -> Path:
    """A plain (non-fragmented) mp4 as most other tools write it: moov at the end, one mdat."""
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def top_level_boxes(data: bytes) -> list[tuple[str, int, int]]:
    """(type, offset, size) of the top-level ISO BMFF boxes."""
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        kind = data[offset + 4 : offset + 8].decode("latin-1")
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        elif size == 0:
            size = len(data) - offset
        boxes.append((kind, offset, size))
        offset += size
    return boxes


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Media:
    from void_eval.quadmask import QuadLevel, Quadmask
    from void_eval.video import write_video

    folder = tmp_path_factory.mktemp("media")
    clip = folder / "clips" / "square"
    clip.mkdir(parents=True)
    video, removed, background = synthetic_scene(FRAMES, HEIGHT, WIDTH)
    write_video(clip / "input_video.mp4", video, FPS, kind="lossless")
    levels = np.where(removed, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8)
    shadow = np.roll(removed, 3, axis=1) & ~removed
    shadow[0] = False
    levels[shadow] = QuadLevel.AFFECTED
    Quadmask(levels).write(clip / "quadmask_0.mp4", FPS)
    (clip / "prompt.json").write_text(json.dumps({"bg": "a gradient wall"}))
    edited = np.repeat(background[None], FRAMES, axis=0)
    write_video(folder / "edited.mp4", edited, FPS, kind="h264")
    write_foreign_mp4(folder / "foreign.mp4", edited, int(FPS))
    for suffix in ("png", "jpg"):
        cv2.imwrite(str(folder / f"original.{suffix}"), cv2.cvtColor(video[0], cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(folder / f"edited.{suffix}"), cv2.cvtColor(background, cv2.COLOR_RGB2BGR))
    return Media(
        folder=folder,
        clip=clip,
        original_mp4=clip / "input_video.mp4",
        edited_mp4=folder / "edited.mp4",
        foreign_mp4=folder / "foreign.mp4",
        original_png=folder / "original.png",
        edited_png=folder / "edited.png",
        original_jpg=folder / "original.jpg",
        edited_jpg=folder / "edited.jpg",
    )


@pytest.fixture(scope="session")
def signed(media, pki, tmp_path_factory) -> dict[str, Path]:
    """Signed copies: mp4 (toolkit, with clip record), foreign mp4, png, jpeg."""
    from forensics.provenance.sign import sign_file

    out = tmp_path_factory.mktemp("signed")
    common = {"chain": pki.chain, "key": pki.key, "method": "telea"}
    return {
        "mp4": sign_file(
            media.edited_mp4, parent=media.original_mp4, out=out / "edited.mp4", clip=media.clip, **common
        ),
        "foreign": sign_file(media.foreign_mp4, parent=media.original_mp4, out=out / "foreign.mp4", **common),
        "png": sign_file(media.edited_png, parent=media.original_png, out=out / "edited.png", **common),
        "jpg": sign_file(media.edited_jpg, parent=media.original_jpg, out=out / "edited.jpg", **common),
    }


def write_intra_mp4(path: Path, *, frames: int, size: int = 512, seed: int = 0) -> Path:
    """A one-``mdat`` mp4 of lossless intra-only noise frames (two distinct frames, repeated): large fast.

    Each frame is about ``3 * size**2`` bytes, so ``frames=22, size=512`` gives a ~17 MB ``mdat``.
    """
    from fractions import Fraction

    rng = np.random.default_rng(seed)
    encoder = av.CodecContext.create("libx264rgb", "w")
    encoder.width, encoder.height, encoder.pix_fmt = size, size, "rgb24"
    encoder.time_base = Fraction(1, 25)
    encoder.options = {"qp": "0", "preset": "ultrafast", "keyint": "1"}
    packets = []
    for index in range(2):
        frame = av.VideoFrame.from_ndarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), format="rgb24")
        frame.pts = index
        packets += [bytes(packet) for packet in encoder.encode(frame)]
    packets += [bytes(packet) for packet in encoder.encode(None)]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264rgb", rate=25)
        stream.width, stream.height, stream.pix_fmt = size, size, "rgb24"
        stream.codec_context.extradata = encoder.extradata
        for index in range(frames):
            packet = av.Packet(packets[index % len(packets)])
            packet.stream, packet.time_base = stream, Fraction(1, 25)
            packet.pts = packet.dts = index
            packet.is_keyframe = True
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def large_foreign(tmp_path_factory) -> Path:
    """A ~17 MB one-mdat mp4 (14 frames of ~1.2 MB): above the 16 MiB from which c2pa would hold ~3.4x the box in
    memory, so signing presents it fragmented."""
    return write_intra_mp4(tmp_path_factory.mktemp("large") / "master.mp4", frames=14, size=512)
