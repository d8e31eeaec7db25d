"""Mask semantics per pass, quantisation cut points, binary masks, and the real BigBen quadmask."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from void_eval.clip import Clip
from void_eval.void.conditioning import (
    binary_model_view,
    conditioning_from_arrays,
    load_conditioning,
    quadmask_model_view,
    quantise_quadmask_values,
    snap_mask,
)


def test_levels_map_to_upstream_model_values_and_snap_per_pass():
    red = np.array([0, 63, 127, 255], np.uint8)[None, None].repeat(2, axis=1)
    view = quadmask_model_view(red, size=(2, 4))[0, 0, 0, 0]
    np.testing.assert_allclose(view.numpy(), [1.0, 192 / 255, 128 / 255, 0.0], rtol=1e-6)
    pass1 = snap_mask(view, pass_=1)
    np.testing.assert_allclose(pass1.numpy(), [1.0, 1.0, 127 / 255, 0.0], rtol=1e-6)  # overlap -> remove
    pass2 = snap_mask(view, pass_=2)
    np.testing.assert_array_equal(pass2.numpy(), [1.0, 1.0, 1.0, 0.0])  # affected -> remove too
    with pytest.raises(ValueError):
        snap_mask(view, pass_=3)


def test_quantisation_cut_points_are_upstreams():
    values = torch.tensor([0, 31, 31.01, 95, 95.01, 191, 191.01, 255])
    assert quantise_quadmask_values(values).tolist() == [0, 0, 63, 63, 127, 127, 255, 255]


def test_quantisation_happens_after_the_area_resize():
    # A 2x2 block of 0 and 255 averages to 127.5 -> "affected" (127), not a remove/keep pixel.
    red = np.array([[[0, 255], [255, 0]]], np.uint8)
    view = quadmask_model_view(red, size=(1, 1))
    assert float(view) == pytest.approx(128 / 255)


def test_binary_masks_are_thresholded_dilated_and_united_without_inversion():
    first = np.zeros((1, 32, 32), np.uint8)
    first[0, 10, 10] = 255
    second = np.zeros((1, 32, 32), np.uint8)
    second[0, 25, 25] = 239  # below 240: not object
    view = binary_model_view([first, second], size=(32, 32))[0, 0, 0].numpy()
    assert view.sum() == 121 and view[5:16, 5:16].all() and view[25, 25] == 0


def test_conditioning_pads_both_streams_alike_and_records_it():
    frames = np.random.default_rng(0).integers(0, 256, (6, 16, 32, 3), dtype=np.uint8)
    red = np.full((6, 16, 32), 255, np.uint8)
    red[2] = 0
    cond = conditioning_from_arrays(frames, [red], prompt="p", size=(16, 32))
    assert cond.video.shape == (1, 3, 85, 16, 32) and cond.mask.shape == (1, 1, 85, 16, 32)
    assert cond.padded_frames == 85 and cond.input_frames == 6 and "padded 6 -> 85" in cond.notes[0]
    removed = cond.mask[0, 0, :, 0, 0].numpy() == 1.0
    assert np.flatnonzero(removed).tolist() == [2, 9, 14, 21, 26, 33, 38, 45, 50, 57, 62, 69, 74, 81]
    torch.testing.assert_close(cond.video[:, :, 11], cond.video[:, :, 0])  # 6 frames: index 11 is frame 0 again


def test_real_bigben_mask_gives_only_upstream_values(bigben_tiny):
    cond = load_conditioning(Clip.load(bigben_tiny), size=(32, 48), min_frames=21)
    values = np.unique(cond.mask.numpy())
    allowed = np.array([0.0, 128 / 255, 192 / 255, 1.0], np.float32)
    assert np.isclose(values[:, None], allowed[None], atol=1e-6).any(axis=1).all(), values
    for level in (0.0, 128 / 255, 1.0):  # BigBen has remove, affected and keep pixels
        assert np.isclose(values, level, atol=1e-6).any()
    assert cond.video.min() >= 0 and cond.video.max() <= 1 and cond.prompt.startswith("a video of buildings")
