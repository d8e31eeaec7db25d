"""Small synthetic counterfactual clips with known truth for the metric tests (numpy scenes, lossless videos).

The scene: a smooth textured wall; a red block (the removed object) slides right and pushes a green block (the
affected object) from frame ``contact`` on; the red block casts a dark shadow strip below itself. The
counterfactual is the same wall with the green block standing still and no shadow.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from void_eval.quadmask import Quadmask
from void_eval.video import write_video

RED = (220, 30, 30)
GREEN = (30, 200, 60)


def smooth_texture(height: int, width: int, *, seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture (low-pass noise stretched to 40..215), ``(H, W, 3)`` uint8."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    texture = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    texture = cv2.GaussianBlur(texture, (0, 0), 1.5)
    low, high = texture.min(), texture.max()
    return (40 + (texture - low) / max(high - low, 1e-6) * 175).astype(np.uint8)


def physics_scene(frames: int = 12, height: int = 64, width: int = 96, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays of the scene: factual, counterfactual (T, H, W, 3) uint8; removed, shadow (T, H, W) bool."""
    wall = smooth_texture(height, width, seed=seed)
    factual = np.repeat(wall[None], frames, axis=0)
    counterfactual = factual.copy()
    removed = np.zeros((frames, height, width), bool)
    shadow = np.zeros_like(removed)
    side = height // 4
    top = height // 3
    green_start = width // 2
    for t in range(frames):
        red_x = 2 + 5 * t
        green_x = max(green_start, red_x + side)
        shadow[t, top + side : top + side + 4, red_x + 2 : red_x + side + 2] = True
        factual[t][shadow[t]] = (factual[t][shadow[t]] * 0.55).astype(np.uint8)
        factual[t, top : top + side, green_x : green_x + side] = GREEN
        counterfactual[t, top : top + side, green_start : green_start + side] = GREEN
        factual[t, top : top + side, red_x : red_x + side] = RED
        removed[t, top : top + side, red_x : red_x + side] = True
    return {"factual": factual, "counterfactual": counterfactual, "removed": removed, "shadow": shadow & ~removed}


def write_physics_clip(folder: Path, *, frames: int = 12, height: int = 64, width: int = 96, fps: float = 12.0) -> Path:
    """Write the scene as a clip folder (input, counterfactual, quadmask, shadow_mask.mp4, prompt, meta)."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = physics_scene(frames, height, width)
    write_video(folder / "input_video.mp4", scene["factual"], fps, kind="lossless")
    write_video(folder / "counterfactual.mp4", scene["counterfactual"], fps, kind="lossless")
    mask = Quadmask.from_counterfactual(scene["factual"], scene["counterfactual"], scene["removed"])
    mask.write(folder / "quadmask_0.mp4", fps)
    write_video(folder / "shadow_mask.mp4", (scene["shadow"] * 255).astype(np.uint8), fps, kind="lossless")
    (folder / "prompt.json").write_text(json.dumps({"bg": "a green block on a textured wall"}))
    meta = {
        "scenario": "synthetic-push",
        "seed": 0,
        "fps": fps,
        "size": [height, width],
        "objects": [
            {"id": 1, "role": "removed", "color": list(RED)},
            {"id": 2, "role": "affected", "color": list(GREEN)},
        ],
        "segmentation": {"shadow": "shadow_mask.mp4"},
    }
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder
