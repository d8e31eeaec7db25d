"""Large test clips for the scoring benchmarks, made from the real ducky-float sample (1296x720, 62 frames).

Each frame of the sample is upscaled to the asked size (INTER_LINEAR; its quadmask INTER_NEAREST, lossless), with a
counterfactual (the input with the remove region blurred out, so every full-reference and physics metric runs) and
an output (the input with the remove region filled by a flat grey). A doubled clip plays the clip forward then
backward. Clips already under the work folder are reused.

Example::

    from upscaled_clips import make_upscaled_clips
    (clip, output), = make_upscaled_clips(Path("/tmp/work"), (1080, 1920), "1080p", frames=24)
"""

from __future__ import annotations

import json
from pathlib import Path

from void_eval.demo import sample_clips_root

SAMPLE = sample_clips_root() / "ducky-float"


def _clip_writers(folder: Path, source) -> dict:
    """The folder's prompt, and a writer for each of its videos (input, counterfactual, quadmask, output)."""
    from void_eval.video import VideoWriter

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prompt.json").write_text(json.dumps({"bg": source.prompt or ""}))
    kinds = {
        "input_video.mp4": "h264",
        "counterfactual.mp4": "h264",
        "quadmask_0.mp4": "lossless",
        "output.mp4": "h264",
    }
    return {name: VideoWriter(folder / name, source.fps, kind=kind, preset="ultrafast") for name, kind in kinds.items()}


def make_upscaled_clips(
    work: Path, size: tuple[int, int], label: str, *, frames: int | None = None, doubled: bool = False
) -> list[tuple[Path, Path]]:
    """Write ``ducky{label}_{N}`` (and ``ducky{label}_{N}x2`` when ``doubled``) under ``work``: ``[(clip, output)]``.

    ``size`` is ``(height, width)``; ``frames`` keeps the first N frames of the sample (all 62 by default).
    """
    import cv2
    import numpy as np

    from void_eval.clip import Clip

    source = Clip.load(SAMPLE)
    count = source.frames if frames is None else min(frames, source.frames)
    folders = [work / f"ducky{label}_{count}"] + ([work / f"ducky{label}_{count}x2"] if doubled else [])
    pairs = [(folder, folder / "output.mp4") for folder in folders]
    if all(output.exists() for _, output in pairs):
        return pairs
    height, width = size
    writers = {folder: _clip_writers(folder, source) for folder in folders}

    def emit(folder: Path, frame: np.ndarray, levels: np.ndarray) -> None:
        big = cv2.resize(frame, (width, height), interpolation=cv2.INTER_LINEAR)
        big_levels = cv2.resize(levels, (width, height), interpolation=cv2.INTER_NEAREST)
        remove = big_levels <= 63
        counterfactual = big.copy()
        counterfactual[remove] = cv2.blur(big, (61, 61))[remove]
        output = big.copy()
        output[remove] = 128
        writers[folder]["input_video.mp4"].write_frame(big)
        writers[folder]["counterfactual.mp4"].write_frame(counterfactual)
        writers[folder]["quadmask_0.mp4"].write_frame(big_levels)
        writers[folder]["output.mp4"].write_frame(output)

    kept: list[Path] = []  # the sample's frames (720p, small), replayed backwards for the doubled clip
    scratch = work / f"frames_{label}"
    scratch.mkdir(parents=True, exist_ok=True)
    index = 0
    for frames_chunk, masks in zip(source.iter_frames(8), source.iter_masks(8), strict=True):
        for frame, levels in zip(frames_chunk, masks.levels, strict=True):
            if index >= count:
                break
            for folder in folders:
                emit(folder, frame, levels)
            if doubled:
                path = scratch / f"{index:04d}.npz"
                np.savez(path, frame=frame, levels=levels)
                kept.append(path)
            index += 1
    for path in reversed(kept):
        data = np.load(path, allow_pickle=False)
        emit(folders[1], data["frame"], data["levels"])
    for folder in folders:
        for writer in writers[folder].values():
            writer.close()
    return pairs
