"""Peak memory of a whole ``void-eval bench`` (run, score, report) at 100 and at 300 frames of 720p.

Each clip is made from the real ducky-float sample (1296x720, 62 frames, resized to 1280x720 INTER_AREA, its
quadmask INTER_NEAREST), played forward and back until it has N frames; input h264, quadmask lossless, and a
counterfactual (the input with the remove region blurred out) so PSNR has its ground truth. ``bench --methods copy
--metrics psnr`` then runs in its own process, which reports its ``ru_maxrss``. Memory must not grow with clip
length: the target is a peak at 300 frames within 15% of the peak at 100 frames. Measured on a 2-core CPU machine:
588 MB and 1135 MB (ratio 1.93) before the report's frame strip streamed the quadmask (it held every mask frame of
the clip), 408 MB and 428 MB (ratio 1.05) after.

Usage::

    .venv/bin/python benchmarks/bench_memory.py [--work DIR] [--frames 100,300]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from void_eval.demo import sample_clips_root

SAMPLE = sample_clips_root() / "ducky-float"
SIZE = (720, 1280)
TARGET_RATIO = 1.15


def make_clip(folder: Path, frames: int) -> Path:
    """Write a ``frames``-long 720p clip folder under ``folder`` (reused when present); returns it."""
    import cv2
    import numpy as np

    from void_eval.clip import Clip
    from void_eval.video import VideoWriter

    if (folder / "counterfactual.mp4").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    source = Clip.load(SAMPLE)
    height, width = SIZE
    pictures, levels = [], []
    for chunk, masks in zip(source.iter_frames(8), source.iter_masks(8), strict=True):
        pictures += [cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in chunk]
        levels += [cv2.resize(level, (width, height), interpolation=cv2.INTER_NEAREST) for level in masks.levels]
    order = list(range(len(pictures))) + list(range(len(pictures) - 2, 0, -1))  # forward, then back
    (folder / "prompt.json").write_text(json.dumps({"bg": source.prompt or ""}))
    names = (("input_video.mp4", "h264"), ("counterfactual.mp4", "h264"), ("quadmask_0.mp4", "lossless"))
    writers = {name: VideoWriter(folder / name, source.fps, kind=kind, preset="ultrafast") for name, kind in names}
    for step in range(frames):
        index = order[step % len(order)]
        frame, level = pictures[index], levels[index]
        counterfactual = frame.copy()
        remove = level <= 63
        counterfactual[remove] = cv2.blur(frame, (61, 61))[remove]
        writers["input_video.mp4"].write_frame(frame)
        writers["counterfactual.mp4"].write_frame(counterfactual)
        writers["quadmask_0.mp4"].write_frame(np.ascontiguousarray(level))
    for writer in writers.values():
        writer.close()
    return folder


def run_case(clips: Path, out: Path) -> dict:
    """In this process: the whole bench, then its peak RSS."""
    from void_eval.cli import main

    started = time.perf_counter()
    args = ["bench", "--clips", str(clips), "--methods", "copy", "--metrics", "psnr", "--out", str(out)]
    code = main([*args, "--quiet", "--force"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"exit": code, "peak_rss_mb": round(peak / 1024, 1), "seconds": round(time.perf_counter() - started, 1)}


def _child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="Folder for the clips and runs (kept).")
    parser.add_argument("--frames", default="100,300", help="Two clip lengths, short then long.")
    parser.add_argument("--make", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--case", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        print(json.dumps(str(make_clip(Path(args.make[0]), int(args.make[1])))))
        return 0
    if args.case:
        print(json.dumps(run_case(*args.case)))
        return 0
    # This process stays small (a child's ru_maxrss starts from its parent's RSS at fork): clips are made and
    # benched in children.
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_memory_"))
    lengths = [int(value) for value in args.frames.split(",")]
    peaks = []
    for frames in lengths:
        clips = work / f"clips{frames}"
        _child("--make", str(clips / "ducky720"), str(frames))
        result = _child("--case", str(clips), str(work / f"run{frames}"))
        if result["exit"] != 0:
            sys.exit(f"bench on {frames} frames exited {result['exit']}")
        peaks.append(result["peak_rss_mb"])
        print(json.dumps({"frames": frames, "size": f"{SIZE[1]}x{SIZE[0]}", **result}), flush=True)
    ratio = peaks[-1] / peaks[0]
    ok = ratio <= TARGET_RATIO
    print(
        f"bench copy/psnr at 720p: {lengths[0]} frames {peaks[0]:.0f} MB, {lengths[-1]} frames {peaks[-1]:.0f} MB; "
        f"ratio {ratio:.3f} (target <= {TARGET_RATIO}) -> {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
