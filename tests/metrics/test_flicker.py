"""Flicker: VBench's formula against a direct computation, regions, chunking and merging."""

from __future__ import annotations

import numpy as np
import pytest

from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.flicker import FlickerAccumulator, flicker_score
from void_eval.quadmask import Quadmask


def vbench_reference(video: np.ndarray) -> float:
    """VBench temporal_flickering as written there: mean of per-pair mean absdiff, then (255 - m) / 255."""
    import cv2

    means = [np.mean(cv2.absdiff(video[t], video[t + 1])) for t in range(len(video) - 1)]
    return (255.0 - np.mean(means)) / 255.0


@pytest.fixture
def video_and_mask():
    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (7, 24, 32, 3), dtype=np.uint8)
    levels = np.full((7, 24, 32), 255, np.uint8)
    for t in range(7):
        levels[t, 5:12, 2 + 3 * t : 8 + 3 * t] = 0
    levels[4] = 255  # a frame with no remove pixels
    return video, Quadmask(levels)


def test_frame_matches_vbench(video_and_mask) -> None:
    video, mask = video_and_mask
    value = flicker_score(video, mask)["frame"]
    assert value.value == pytest.approx(vbench_reference(video), abs=1e-12)
    assert value.count == 6


def test_remove_region_uses_union_of_both_frames(video_and_mask) -> None:
    video, mask = video_and_mask
    remove = mask.region("remove_any")
    means = []
    for t in range(6):
        union = remove[t] | remove[t + 1]
        if union.any():
            diff = np.abs(video[t].astype(int) - video[t + 1].astype(int))[union]
            means.append(diff.mean())
    value = flicker_score(video, mask)["remove"]
    assert value.value == pytest.approx((255 - np.mean(means)) / 255, abs=1e-12)
    assert value.count == len(means) == 6  # frame 4's pairs still see frame 3's / 5's remove pixels


def test_steady_video_scores_one_and_empty_region_is_nan() -> None:
    video = np.full((3, 8, 8, 3), 90, np.uint8)
    result = flicker_score(video, Quadmask(np.full((3, 8, 8), 255, np.uint8)))
    assert result["frame"].value == 1.0
    assert np.isnan(result["remove"].value) and "empty" in result["remove"].note
    assert np.isnan(flicker_score(video[:1])["frame"].value)


def test_chunked_and_merged_equal_one_shot(video_and_mask) -> None:
    video, mask = video_and_mask
    expected = flicker_score(video, mask)
    for size in (1, 2, 5):
        accumulator = FlickerAccumulator()
        for start in range(0, 7, size):
            accumulator.update(
                ScoreChunk(start, video[start : start + size], video[start : start + size], mask[start : start + size])
            )
        assert accumulator.compute() == expected
    first, second = FlickerAccumulator(), FlickerAccumulator()
    first.update(ScoreChunk(0, video[:4], video[:4], mask[:4]))
    second.update(ScoreChunk(4, video[4:], video[4:], mask[4:]))
    second_copy = FlickerAccumulator()
    second_copy.update(ScoreChunk(4, video[4:], video[4:], mask[4:]))
    first.merge(second)
    assert first.compute() == expected
    second_copy.merge(FlickerAccumulator())  # merging an empty accumulator changes nothing
    reverse = FlickerAccumulator()
    reverse.update(ScoreChunk(0, video[:4], video[:4], mask[:4]))
    second_copy.merge(reverse)  # the earlier half merged into the later one
    assert second_copy.compute() == expected


def test_out_of_order_chunks_are_refused(video_and_mask) -> None:
    video, mask = video_and_mask
    accumulator = FlickerAccumulator()
    accumulator.update(ScoreChunk(0, video[:2], video[:2], mask[:2]))
    with pytest.raises(ValueError, match="frame order"):
        accumulator.update(ScoreChunk(3, video[3:], video[3:], mask[3:]))


def test_first_frame_is_kept_packed_and_unpacks_exactly(video_and_mask) -> None:
    from void_eval.metrics._temporal import PACK_MIN_BYTES, PackedArray

    rng = np.random.default_rng(0)
    for array in (
        rng.integers(0, 256, (5, 7, 3), dtype=np.uint8),
        rng.random((3, 13)) > 0.5,  # 39 bits: a partial last byte
        rng.normal(size=(4, 6)).astype(np.float32),
    ):
        back = PackedArray.pack(array).unpack()
        assert back.dtype == array.dtype and back.shape == array.shape
        np.testing.assert_array_equal(back, array)
        assert back.flags.writeable
    # numbers: a plain copy up to PACK_MIN_BYTES (zlib costs more time than the bytes are worth), zlib above
    small = np.zeros(PACK_MIN_BYTES, np.uint8)
    large = np.concatenate([small, rng.integers(0, 4, 1000, dtype=np.uint8)])
    assert PackedArray.pack(small).encoding == "raw" and len(PackedArray.pack(small).data) == small.nbytes
    packed = PackedArray.pack(large)
    assert packed.encoding == "zlib" and len(packed.data) < large.nbytes // 100
    np.testing.assert_array_equal(packed.unpack(), large)
    video, mask = video_and_mask
    accumulator = FlickerAccumulator()
    accumulator.update(ScoreChunk(0, video, video, mask))
    frame, remove = accumulator._first
    assert isinstance(frame, PackedArray) and isinstance(remove, PackedArray)
    np.testing.assert_array_equal(frame.unpack(), video[0])
    np.testing.assert_array_equal(remove.unpack(), mask[:1].region("remove_any")[0])
