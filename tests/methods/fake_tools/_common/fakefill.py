"""Shared by the fake tools of the external-method tests: a plausible fill and OpenCV video I/O.

Each fake tool copies its upstream script's command line, input layout and output layout; what it writes is a
blurred fill of the hole, not a model's output. The test fixture copies this file next to each fake script.
"""

import cv2
import numpy as np


def fill(frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """``frame`` (RGB uint8) with ``hole`` (bool) filled by a wide normalised blur of the pixels around it.

    The blur runs on a copy at most 64 px on its long side, so a fake stays fast at any working size.
    """
    if not hole.any():
        return frame.copy()
    height, width = hole.shape
    scale = min(1.0, 64 / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    masked = frame.copy()
    masked[hole] = 0
    keep = cv2.resize((~hole).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    colour = cv2.resize(masked, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    side = max(size) // 2 * 2 + 1
    weight = cv2.blur(keep, (side, side))[..., None]
    small = np.where(weight > 1e-6, cv2.blur(colour, (side, side)) / np.maximum(weight, 1e-6), 127.0)
    blurred = cv2.resize(np.clip(small, 0, 255).astype(np.uint8), (width, height), interpolation=cv2.INTER_LINEAR)
    out = frame.copy()
    out[hole] = blurred[hole]
    return out


def read_video(path: str) -> tuple[list[np.ndarray], float]:
    """RGB frames and fps of a video, read with OpenCV (as most upstream scripts do)."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SystemExit(f"cannot open {path}")
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames, fps


def write_video(path: str, frames: list[np.ndarray], fps: float) -> None:
    """RGB frames to an mp4v video (cv2.VideoWriter, as E2FGVI and DiffuEraser write)."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def resize(frame: np.ndarray, height: int, width: int, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    return cv2.resize(frame, (width, height), interpolation=interpolation)
