"""Peak memory of streaming a 4K clip in chunks, against reading it whole (the reference), in one run.

Builds two 4K (3840x2160) h264 clips from the real ducky-float sample (62 frames upscaled, and the same played
forwards then backwards: 124 frames), then measures each case in a fresh subprocess (ru_maxrss):

- streaming: ``VideoReader.chunks(8)``, touching every frame (a per-chunk mean);
- reference: ``read_video`` (every frame held at once).

Targets (issue 2): streaming peak RSS under 1 GB, and not growing when the clip is twice as long.

Usage::

    .venv/bin/python benchmarks/video_stream_memory.py [--workdir DIR] [--chunk 8]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from void_eval.demo import sample_clips_root

SAMPLE = sample_clips_root() / "ducky-float" / "input_video.mp4"
SIZE_4K = (2160, 3840)


def build_clips(workdir: Path) -> tuple[Path, Path]:
    from void_eval.video import VideoReader, VideoWriter, resize_frames

    single, double = workdir / "ducky_4k_62.mp4", workdir / "ducky_4k_124.mp4"
    if single.exists() and double.exists():
        return single, double
    reader = VideoReader(SAMPLE)
    order = list(range(reader.frames)) + list(range(reader.frames - 1, -1, -1))
    frames = reader.read()  # 62 frames at 1296x720: small; the 4K frames are made one chunk at a time
    for path, indices in ((single, order[: reader.frames]), (double, order)):
        with VideoWriter(path, 12, kind="h264", crf=20, preset="ultrafast") as writer:
            for start in range(0, len(indices), 8):
                chunk = frames[indices[start : start + 8]]
                writer.write(resize_frames(chunk, SIZE_4K, interpolation="linear"))
    return single, double


def measure(mode: str, path: str, chunk: int) -> None:
    """Run inside a subprocess: read the clip, print frames, seconds and peak RSS in MB."""
    from void_eval.video import VideoReader, read_video

    start = time.perf_counter()
    total, checksum = 0, 0.0
    if mode == "stream":
        for frames in VideoReader(path).chunks(chunk):
            total += len(frames)
            checksum += float(frames.mean())
    else:
        frames = read_video(path)
        total, checksum = len(frames), float(frames.mean())
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{total} {seconds:.3f} {peak_mb:.1f} {checksum:.3f}")


def run_case(mode: str, path: Path, chunk: int) -> tuple[int, float, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", mode, str(path), "--chunk", str(chunk)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--measure", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure[0], args.measure[1], args.chunk)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="void-eval-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"building 4K clips in {workdir} ...", flush=True)
    single, double = build_clips(workdir)
    results = {}
    for label, path in (("62 frames", single), ("124 frames", double)):
        for mode in ("stream", "whole"):
            results[(label, mode)] = run_case(mode, path, args.chunk)
    print(f"\n4K (3840x2160) h264, chunk {args.chunk} frames; peak RSS per fresh process")
    print(f"{'clip':<12}{'mode':<22}{'frames':>7}{'seconds':>9}{'fps':>7}{'peak RSS MB':>13}")
    for (label, mode), (frames, seconds, peak) in results.items():
        name = "streaming (ours)" if mode == "stream" else "whole read (reference)"
        print(f"{label:<12}{name:<22}{frames:>7}{seconds:>9.2f}{frames / seconds:>7.1f}{peak:>13.0f}")
    s1, s2 = results[("62 frames", "stream")][2], results[("124 frames", "stream")][2]
    w2 = results[("124 frames", "whole")][2]
    print(f"\nstreaming peak RSS: {s1:.0f} MB -> {s2:.0f} MB when twice as long (growth {s2 / s1:.2f}x)")
    print(f"reference/streaming peak RSS ratio at 124 frames: {w2 / s2:.1f}x")
    verdict = "PASS" if max(s1, s2) < 1024 and s2 < 1.1 * s1 else "FAIL"
    print(f"target (< 1024 MB, no growth): {verdict}")


if __name__ == "__main__":
    main()
