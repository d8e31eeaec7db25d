"""Fake MiniMax-Remover: the contract of test_minimax_remover.py (28e12b4), which takes no arguments.

Reads exactly 81 frames of ./video.mp4 and ./mask.mp4 (first channel > 20 = hole), needs ./vae, ./transformer
and ./scheduler in its working directory, resizes to 480x832, dilates the mask (iterations=6) and writes
./output.mp4. The fill is a blurred fill.
"""

import os

import cv2
import numpy as np
from fakefill import fill, read_video, resize, write_video

video_length = 81
for folder in ("./vae", "./transformer", "./scheduler"):
    if not os.path.isdir(folder):
        raise SystemExit(f"fake MiniMax-Remover: {folder} not found")
images, _ = read_video("./video.mp4")
masks, _ = read_video("./mask.mp4")
if len(images) < video_length or len(masks) < video_length:
    raise IndexError(f"fake MiniMax-Remover: get_batch(range({video_length})) on {len(images)} frames")
out = []
for image, mask in zip(images[:video_length], masks[:video_length], strict=False):
    hole = resize(mask[..., 0], 480, 832, cv2.INTER_NEAREST) > 20
    hole = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=6) > 0
    out.append(fill(resize(image, 480, 832), hole))
write_video("./output.mp4", out, 10)
