"""Hostile videos: files cut short blame themselves, declared frame sizes are capped, resizing streams per frame."""

from __future__ import annotations

import json
import tracemalloc

import av
import numpy as np
import pytest

from void_eval.cli import main
from void_eval.errors import InputError
from void_eval.video import (
    DEFAULT_MAX_PIXELS,
    MAX_PIXELS_ENV,
    VideoReader,
    max_frame_pixels,
    probe,
    resize_frames,
    write_video,
)


def _noise(frames: int, height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def _faststart(path, frames: np.ndarray) -> None:
    """A plain (not fragmented) mp4 with its index first, as most tools write them."""
    with av.open(str(path), "w", options={"movflags": "faststart"}) as container:
        stream = container.add_stream("libx264", rate=12)
        stream.height, stream.width, stream.pix_fmt = frames.shape[1], frames.shape[2], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())


def _cut(path, fraction: float):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("layout", ["fragmented", "faststart"])
def test_a_video_cut_short_is_reported_as_truncated(tmp_path, layout, fraction):
    frames = _noise(25, 48, 64)
    path = tmp_path / "cut.mp4"
    if layout == "fragmented":
        write_video(path, frames, 12)
    else:
        _faststart(path, frames)
    assert probe(path).frames == 25
    with pytest.raises(InputError) as err:
        probe(_cut(path, fraction))
    message = str(err.value)
    assert message.startswith(f"{path}: truncated: read ") and message.endswith("frames (the file ends early)")
    read, declared = (int(word) for word in message.split("read ")[1].split(" frames")[0].split(" of "))
    assert read < 25 and read < declared and (layout == "fragmented" or declared == 25)


def test_clip_check_and_score_blame_the_truncated_file(make_clip, tmp_path, capsys):
    clip = make_clip("cut", frames=25)
    good_output = write_video(tmp_path / "output.mp4", _noise(25, 48, 64), 12, kind="lossless")
    _cut(clip / "input_video.mp4", 0.5)
    assert main(["clip", "check", str(clip), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)[0]
    assert len(report["errors"]) == 1 and report["errors"][0].startswith(f"{clip / 'input_video.mp4'}: truncated: ")
    assert main(["score", str(clip), str(good_output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {clip / 'input_video.mp4'}: truncated: read ") and len(err.splitlines()) == 1

    fine = make_clip("fine", frames=25)
    cut_output = _cut(write_video(tmp_path / "cut_output.mp4", _noise(25, 48, 64), 12, kind="lossless"), 0.5)
    assert main(["score", str(fine), str(cut_output)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {cut_output}: truncated: read ") and len(err.splitlines()) == 1


def test_declared_frame_size_is_capped(tmp_path, monkeypatch, make_clip, capsys):
    assert max_frame_pixels() == DEFAULT_MAX_PIXELS == 7680 * 4320
    path = write_video(tmp_path / "big.mp4", _noise(2, 48, 64), 12)
    monkeypatch.setenv(MAX_PIXELS_ENV, str(48 * 64 - 1))
    with pytest.raises(InputError) as err:
        probe(path)
    assert str(err.value) == (
        f"{path}: declares 64x48 frames (3,072 pixels), above the limit of 3,071 pixels "
        f"(set {MAX_PIXELS_ENV} to raise it)"
    )
    monkeypatch.setenv(MAX_PIXELS_ENV, str(48 * 64))
    assert probe(path).frames == 2
    for bad in ("lots", "0", "-5"):
        monkeypatch.setenv(MAX_PIXELS_ENV, bad)
        with pytest.raises(InputError, match=f"^{MAX_PIXELS_ENV}: must be a positive whole number of pixels"):
            probe(path)

    clip = make_clip("small", frames=4, height=24, width=32)
    bomb = write_video(tmp_path / "bomb.mp4", np.zeros((4, 96, 128, 3), np.uint8), 12)  # a few KB of flat frames
    monkeypatch.setenv(MAX_PIXELS_ENV, str(24 * 32 * 4))
    assert main(["score", str(clip), str(bomb), "--resize-to-input"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: {bomb}: declares 128x96 frames (12,288 pixels), above the limit of 3,072 pixels " + (
        f"(set {MAX_PIXELS_ENV} to raise it)\n"
    )


def test_resizing_happens_frame_by_frame_while_decoding(tmp_path):
    height, width, count = 512, 512, 16
    frames = np.broadcast_to(np.linspace(0, 255, width, dtype=np.uint8)[None, None, :, None], (count, height, width, 3))
    path = write_video(tmp_path / "large.mp4", np.ascontiguousarray(frames), 12)
    reader = VideoReader(path, size=(24, 32))
    tracemalloc.start()
    try:
        chunks = [chunk for chunk in reader.chunks(count)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    one_frame = height * width * 3
    assert peak < 3 * one_frame, f"peak {peak / 1e6:.1f} MB: the chunk was held at full size ({one_frame / 1e6:.2f} MB)"
    resized = np.concatenate(chunks)
    assert resized.shape == (count, 24, 32, 3)
    assert np.array_equal(resized, resize_frames(VideoReader(path).read(), (24, 32)))
