"""Temporal padding/trimming and the windowed cross-fade weights, against brute-force definitions."""

from __future__ import annotations

import numpy as np
import pytest

from void_eval.void.padding import pad_frames, padded_length, padding_indices, trim_to_input
from void_eval.void.windows import blend_weights_total, latent_windows


def _brute_padded_length(n: int) -> int:
    m = n
    while not (m % 4 == 1 and ((m - 1) // 4) % 2 == 1):
        m += 1
    return min(max(m, 85), 197)


def test_padded_length_matches_the_definition_for_every_length():
    for n in range(1, 260):
        assert padded_length(n) == _brute_padded_length(n), n
    # every result gives an even latent count (the transformer's temporal patch is 2)
    assert all(((padded_length(n) - 1) // 4 + 1) % 2 == 0 for n in range(1, 260))


def test_documented_example_46_frames_become_85_with_reversed_tail():
    indices = padding_indices(46, padded_length(46))
    assert len(indices) == 85
    assert indices[:46].tolist() == list(range(46))
    assert indices[46:].tolist() == list(range(45, 6, -1))  # 39 frames of reversed playback


def test_padding_is_ping_pong_with_period_2n():
    for n in (1, 2, 5, 13, 46):
        indices = padding_indices(n, 197)
        period = [i if i < n else 2 * n - 1 - i for i in range(2 * n)]
        assert indices.tolist() == [period[i % (2 * n)] for i in range(197)]


def test_pad_then_trim_round_trips_and_trim_refuses_short_output():
    frames = np.arange(7 * 2 * 2 * 3).reshape(7, 2, 2, 3)
    padded = pad_frames(frames, padded_length(7))
    assert padded.shape[0] == 85
    np.testing.assert_array_equal(trim_to_input(padded, 7), frames)
    with pytest.raises(ValueError, match="fewer"):
        trim_to_input(frames, 8)


@pytest.mark.parametrize("bad", [84, 89, 3])
def test_padded_length_rejects_bounds_not_4k_plus_1_with_k_odd(bad):
    with pytest.raises(ValueError):
        padded_length(10, min_length=bad)


def test_windows_of_upstream_for_the_longest_clip():
    windows = latent_windows(50)  # 197 frames
    assert [(w.start, w.stop) for w in windows] == [(0, 22), (18, 40), (36, 50)]
    np.testing.assert_allclose(windows[0].weights[-4:], [0.8, 0.6, 0.4, 0.2], rtol=1e-6)
    np.testing.assert_allclose(windows[1].weights[:4], [0.2, 0.4, 0.6, 0.8], rtol=1e-6)
    np.testing.assert_allclose(windows[1].weights[4:-4], 1.0)
    np.testing.assert_allclose(windows[2].weights[-4:], 1.0)  # the last window does not fade out


def test_cross_fade_weights_sum_to_one_and_cover_every_latent():
    assert len(latent_windows(22)) == 1
    for count in range(1, 120):
        np.testing.assert_allclose(blend_weights_total(count), 1.0, rtol=1e-6, err_msg=str(count))
        windows = latent_windows(count)
        assert windows[0].start == 0 and windows[-1].stop == count
        assert all(w.stop - w.start <= 22 for w in windows)
        assert all((w.stop - w.start) % 2 == 0 for w in windows if count % 2 == 0)


def test_window_arguments_are_checked():
    with pytest.raises(ValueError):
        latent_windows(10, window=4, overlap=4)
    with pytest.raises(ValueError):
        latent_windows(0)
