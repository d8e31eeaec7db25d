"""Quadmask: upstream quantisation, regions, conversions, model view, lossless files, streaming stats."""

from __future__ import annotations

import av
import numpy as np
import pytest

from void_eval.quadmask import (
    QuadLevel,
    Quadmask,
    QuadmaskStats,
    binarize_object_mask,
    iter_quadmask,
    quantize_quadmask,
    quantize_trimask,
    read_quadmask,
)


def _decode_red_independently(path) -> np.ndarray:
    """Channel R of every frame, decoded with PyAV directly (not through void_eval.video)."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24")[..., 0] for frame in container.decode(video=0)])


def _levels_by_digitize(values: np.ndarray) -> np.ndarray:
    """Upstream's cut points restated with np.digitize: bins (-inf,31], (31,95], (95,191], (191,inf)."""
    return np.array([0, 63, 127, 255], dtype=np.uint8)[np.digitize(values, [31, 95, 191], right=True)]


def test_quantisation_cut_points_match_upstream_on_every_value():
    values = np.arange(256)
    assert np.array_equal(quantize_quadmask(values), _levels_by_digitize(values))
    floats = np.array([31.0, 31.2, 95.0, 95.01, 191.0, 191.5])
    assert quantize_quadmask(floats).tolist() == [0, 63, 63, 127, 127, 255]


def test_trimask_cut_points():
    values = np.arange(256)
    expected = np.where(values < 64, 0, np.where(values <= 192, 127, 255))
    assert np.array_equal(quantize_trimask(values), expected)


@pytest.mark.parametrize(("clip", "has_overlap"), [("BigBen", False), ("ducky-float", True)])
def test_sample_masks_decode_to_exactly_the_four_levels(samples_root, clip, has_overlap):
    red = _decode_red_independently(samples_root / clip / "trimask_quadmask.mp4")
    assert set(np.unique(red).tolist()) <= {0, 63, 127, 255}
    mask = read_quadmask(samples_root / clip / "trimask_quadmask.mp4", chunk_size=7)
    assert np.array_equal(mask.levels, red)
    assert (mask.counts()[QuadLevel.OVERLAP] > 0) == has_overlap
    expected = {
        name: float(np.mean(red == value))
        for name, value in [("remove", 0), ("overlap", 63), ("affected", 127), ("keep", 255)]
    }
    assert mask.fractions() == pytest.approx(expected, abs=1e-12)


def test_resized_reading_matches_upstream_area_resize_then_quantise(samples_root):
    import torch
    import torch.nn.functional as F

    path = samples_root / "BigBen" / "trimask_quadmask.mp4"
    red = torch.from_numpy(_decode_red_independently(path)).float()
    upstream = F.interpolate(red[None], size=(96, 168), mode="area")[0].numpy()
    expected = _levels_by_digitize(upstream)
    ours = read_quadmask(path, size=(96, 168), chunk_size=16)
    assert np.array_equal(ours.levels, expected)


def test_regions_partition_and_derived_regions():
    levels = np.array([[[0, 63, 127, 255]]], dtype=np.uint8)
    mask = Quadmask(levels)
    assert mask.region("remove").tolist() == [[[True, False, False, False]]]
    assert mask.region("overlap").tolist() == [[[False, True, False, False]]]
    assert mask.region("affected").tolist() == [[[False, False, True, False]]]
    assert mask.region("keep").tolist() == [[[False, False, False, True]]]
    assert mask.region("remove_any").tolist() == [[[True, True, False, False]]]
    assert mask.region("affected_any").tolist() == [[[False, True, True, False]]]
    with pytest.raises(ValueError, match="unknown region"):
        mask.region("everything")


def test_boundary_band_is_within_width_of_the_remove_edge():
    levels = np.full((1, 40, 40), 255, dtype=np.uint8)
    levels[0, 15:25, 15:25] = 0
    band = Quadmask(levels, boundary_width=3).region("boundary")[0]
    from scipy import ndimage

    remove = levels[0] == 0
    outside = ndimage.distance_transform_cdt(~remove, metric="chessboard")
    inside = ndimage.distance_transform_cdt(remove, metric="chessboard")
    expected = (~remove & (outside <= 3)) | (remove & (inside <= 3))
    assert np.array_equal(band, expected)


def test_levels_are_validated():
    with pytest.raises(ValueError, match=r"found \[5\]"):
        Quadmask(np.full((1, 2, 2), 5, dtype=np.uint8))
    with pytest.raises(TypeError):
        Quadmask(np.zeros((1, 2, 2), dtype=np.int32))
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        Quadmask(np.zeros((2, 2), dtype=np.uint8))


def test_model_view_follows_upstream_per_pass():
    mask = Quadmask(np.array([[[0, 63, 127, 255]]], dtype=np.uint8))
    raw = mask.model_view(0)[0, 0]
    assert raw == pytest.approx([1.0, 192 / 255, 128 / 255, 0.0])
    assert mask.model_view(1)[0, 0] == pytest.approx([1.0, 1.0, 127 / 255, 0.0])
    assert mask.model_view(2)[0, 0].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_lossless_write_decodes_back_exactly(tmp_path):
    rng = np.random.default_rng(3)
    levels = rng.choice(np.array([0, 63, 127, 255], dtype=np.uint8), size=(9, 31, 45))
    path = Quadmask(levels).write(tmp_path / "quadmask_0.mp4", 12)
    assert np.array_equal(_decode_red_independently(path), levels)
    assert np.array_equal(read_quadmask(path).levels, levels)


def test_binary_object_masks_follow_upstream_threshold_and_dilation():
    from skimage.morphology import dilation

    rng = np.random.default_rng(0)
    raw = np.zeros((2, 50, 60), dtype=np.uint8)
    raw[:, 20:24, 30:33] = rng.integers(200, 256, (2, 4, 3))
    ours = binarize_object_mask(raw)
    # Upstream calls binary_dilation with np.ones((11, 11)); for a symmetric footprint dilation is the same.
    expected = np.stack([dilation(frame >= 240, footprint=np.ones((11, 11))) for frame in raw])
    assert np.array_equal(ours, expected)
    second = np.zeros_like(raw)
    second[:, 0:2, 0:2] = 255
    combined = Quadmask.from_binary([raw, second])
    assert np.array_equal(combined.region("remove"), expected | binarize_object_mask(second))
    assert set(np.unique(combined.levels).tolist()) <= {0, 255}


def test_from_counterfactual_marks_changes_outside_the_object_as_affected():
    factual = np.zeros((1, 10, 10, 3), dtype=np.uint8)
    counterfactual = factual.copy()
    removed = np.zeros((1, 10, 10), dtype=bool)
    removed[0, 2:4, 2:4] = True
    factual[0, 2:4, 2:4] = 200  # the object itself
    factual[0, 6:8, 2:4] = 30  # its shadow: differs by 30 > threshold
    factual[0, 0, 9] = 5  # codec-noise-sized difference: not affected
    behind = np.zeros_like(removed)
    behind[0, 3, 3] = True
    mask = Quadmask.from_counterfactual(factual, counterfactual, removed, threshold=12, caused_behind=behind)
    assert mask.region("remove_any").sum() == 4 and mask.region("overlap").sum() == 1
    assert np.array_equal(mask.region("affected")[0, 6:8, 2:4], np.ones((2, 2), bool))
    assert mask.region("affected").sum() == 4


def test_stats_are_independent_of_chunking(samples_root):
    path = samples_root / "ducky-float" / "trimask_quadmask.mp4"
    red = _decode_red_independently(path)
    rgb = np.repeat(red[..., None], 3, axis=3)
    whole, chunked = QuadmaskStats(), QuadmaskStats()
    whole.update(rgb)
    for start in range(0, len(rgb), 5):
        chunked.update(rgb[start : start + 5])
    assert whole.level_counts == chunked.level_counts and whole.frames == chunked.frames == 62
    assert whole.off_level_pixels == 0 and whole.colour_pixels == 0


def test_stats_flag_off_level_colour_and_first_frame_affected():
    rgb = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    rgb[0, 0, 0] = (127, 127, 127)
    rgb[1, 0, 0] = (200, 10, 10)
    rgb[1, 1, 1] = (100, 100, 100)
    stats = QuadmaskStats()
    stats.update(rgb)
    assert stats.affected_on_first_frame == 1
    assert stats.colour_pixels == 1
    assert stats.off_level_pixels == 2  # 200 and 100 are off the levels


def test_iter_quadmask_chunks_join_to_the_whole(samples_root):
    path = samples_root / "BigBen" / "trimask_quadmask.mp4"
    chunks = list(iter_quadmask(path, chunk_size=8))
    assert [len(chunk) for chunk in chunks] == [8] * 6 + [2]
    assert np.array_equal(Quadmask.concatenate(chunks).levels, read_quadmask(path).levels)


def test_from_counterfactual_dilation_grows_effects_but_never_rings_the_object():
    factual = np.zeros((1, 20, 20, 3), dtype=np.uint8)
    counterfactual = factual.copy()
    removed = np.zeros((1, 20, 20), dtype=bool)
    removed[0, 2:5, 2:5] = True
    factual[0, 2:5, 2:5] = 200
    factual[0, 14, 14] = 60  # one changed pixel far from the object
    mask = Quadmask.from_counterfactual(factual, counterfactual, removed, threshold=12, dilation=1)
    assert mask.region("affected").sum() == 9  # the 3x3 growth of the far pixel only
    assert not mask.region("affected")[0, 1:6, 1:6].any()


def test_boundary_is_computed_once_per_mask_and_read_only():
    levels = np.full((2, 20, 20), 255, dtype=np.uint8)
    levels[:, 5:10, 5:10] = 0
    mask = Quadmask(levels, boundary_width=2)
    first = mask.region("boundary")
    assert mask.region("boundary") is first and not first.flags.writeable
    assert np.array_equal(first, Quadmask(levels.copy(), boundary_width=2).region("boundary"))
