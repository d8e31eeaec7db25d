"""Shared by the fake VOID scripts: upstream's data loading (get_video_mask_input), padding and writing."""

import glob
import json
import os

import cv2
import numpy as np
from fakefill import fill, read_video, resize, write_video


def padded_length(frames, min_length=85, max_length=197):
    """videox_fun temporal_padding's length: the smallest 4k+1 >= frames with k odd, clamped."""
    target = (frames // 4) * 4 + 1
    if target < frames:
        target += 4
    if (target // 4) % 2 == 0:
        target += 4
    return max(min_length, min(target, max_length))


def ping_pong(items, length):
    out = list(items[:length])
    while len(out) < length:
        out = (out + out[::-1])[:length]
    return out


def load_sequence(data_rootdir, name, height, width, max_length=197):
    """Input frames and quadmask levels of one sequence folder, resized (area) and padded as upstream does."""
    folder = os.path.join(data_rootdir, name)
    prompt = json.load(open(os.path.join(folder, "prompt.json")))["bg"]
    mask_files = sorted(glob.glob(os.path.join(folder, "mask*.mp4"))) or sorted(
        glob.glob(os.path.join(folder, "quadmask_*.mp4"))
    )
    if not mask_files:
        raise SystemExit(f"Masks not found in {folder}")
    frames, _ = read_video(os.path.join(folder, "input_video.mp4"))
    masks, _ = read_video(mask_files[0])
    frames, masks = frames[:max_length], masks[:max_length]
    frames = [resize(f, height, width, cv2.INTER_AREA) for f in frames]
    levels = []
    for mask in masks:
        red = resize(mask[..., 0], height, width, cv2.INTER_AREA)
        levels.append(np.select([red <= 31, red <= 95, red <= 191], [0, 63, 127], 255).astype(np.uint8))
    length = padded_length(len(frames))
    return ping_pong(frames, length), ping_pong(levels, length), prompt


def remove(frames, levels):
    """The fake model: a blurred fill of everything that is not KEEP (VOID rewrites remove, overlap, affected)."""
    return [fill(frame, level < 255) for frame, level in zip(frames, levels, strict=False)]


__all__ = ["load_sequence", "padded_length", "remove", "write_video"]
