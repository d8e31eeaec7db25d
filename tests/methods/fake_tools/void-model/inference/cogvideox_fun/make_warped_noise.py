"""Fake make_warped_noise.py: VIDEO OUTPUT_DIR -> OUTPUT_DIR/noises.npy (noise, not Go-with-the-Flow's warp)."""

import os
import sys

import numpy as np

video, output_dir = sys.argv[1], sys.argv[2]
if not os.path.isfile(video):
    raise SystemExit(f"fake make_warped_noise: {video} not found")
os.makedirs(output_dir, exist_ok=True)
np.save(os.path.join(output_dir, "noises.npy"), np.random.default_rng(0).standard_normal((4, 8, 8, 16)))
