"""Free heap pages go back to the system (glibc malloc_trim), and score_clip does it between metrics at 4K only."""

from __future__ import annotations

import numpy as np
import pytest

import void_eval.heap as heap


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_freed_medium_blocks_stop_counting_as_resident_memory() -> None:
    if heap._malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    # glibc serves blocks above its mmap threshold (128 KiB at first) by mmap, but raises the threshold to the
    # size of an mmapped block once one is freed: after this, 2 MB blocks come from the heap
    np.ones(2**19 + 2**12, np.float32)
    # 2 MB heap blocks freed while every other one stays: the heap cannot shrink from its top, only trim gives
    # their pages back
    blocks = [np.ones(2**19, np.float32) for _ in range(100)]
    del blocks[::2]
    before = _resident_mb()
    assert heap.release_free_heap() is True
    assert _resident_mb() < before - 50  # ~100 MB of free blocks were resident
    assert sum(float(block[0]) for block in blocks) == 50


def test_score_clip_releases_the_heap_before_each_metric_only_for_large_frames(monkeypatch, tmp_path) -> None:
    import void_eval.metrics.score as score
    from tests.metrics._scenes import write_physics_clip
    from void_eval.video import read_video, write_video

    folder = write_physics_clip(tmp_path / "push", frames=4)
    output = tmp_path / "out.mp4"
    frames = read_video(folder / "counterfactual.mp4")
    write_video(output, frames, 12, kind="lossless")
    calls = []
    monkeypatch.setattr(score, "release_free_heap", lambda: calls.append(1))
    metrics = ["psnr", "flicker"]
    score.score_clip(folder, output, metrics=metrics, chunk_size=2)
    assert calls == []  # small frames: never
    monkeypatch.setattr(score, "RELEASE_HEAP_MIN_PIXELS", frames.shape[1] * frames.shape[2])
    score.score_clip(folder, output, metrics=metrics, chunk_size=2)
    assert len(calls) == 2 * len(metrics)  # two chunks, before each metric's update
