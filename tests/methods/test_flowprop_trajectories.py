"""flowprop follows flow trajectories through frames where the background is hidden or AFFECTED."""

from __future__ import annotations

import cv2
import numpy as np

from void_eval.methods.flowprop import flow_propagate


def test_background_seen_only_before_an_affected_spell_is_found():
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    background = cv2.GaussianBlur(cv2.resize(noise, (112, 80)), (0, 0), 1.5)[::2, ::2].copy()
    frames = np.repeat(background[None], 8, axis=0)
    holes = np.zeros((8, 40, 56), bool)
    holes[3:, 15:25, 20:32] = True  # the removed object comes to rest here from frame 3 on
    sources = np.ones((8, 40, 56), bool)
    sources[1:3, 12:28, 16:36] = False  # frames 1-2: something it struck moved there (AFFECTED, not copied)
    frames[1:3, 12:28, 16:36] = 255
    frames[3:][holes[3:]] = 0
    filled, stats = flow_propagate(frames, holes, sources=sources)
    # only frame 0 shows the background behind the hole; a frame-by-frame chain stops at frames 1-2
    assert stats["telea_fraction"] == 0.0
    error = np.abs(filled[3:].astype(int) - background.astype(int))[holes[3:]]
    assert error.mean() < 1.5 and error.max() <= 8, (error.mean(), error.max())
