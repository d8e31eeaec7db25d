"""Peak memory of ``score_clip`` on a 4K clip and on the same clip doubled in length.

The 4K clips are made from the real ducky-float sample (1296x720, 62 frames): input upscaled to 3840x2160
(INTER_LINEAR), its quadmask upscaled (INTER_NEAREST, lossless), a counterfactual (the input with the remove
region blurred out, so every full-reference and physics metric runs) and an output (the input with the remove
region filled by a flat grey). The doubled clip plays the clip forward then backward (124 frames). Each case runs
in its own subprocess and reports its ``ru_maxrss``; the target is a peak <= 1.5 GB for both and no growth with
length (ratio doubled / single close to 1).

Usage::

    .venv/bin/python benchmarks/score_memory.py [--work DIR] [--metrics ewarp,flicker,...] [--frames N]

``--frames`` shortens the clip (for a quick check); the reported figures say which frames and metrics ran.
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

from upscaled_clips import make_upscaled_clips

SIZE_4K = (2160, 3840)
LIMIT_BYTES = 1.5 * 1024**3


def make_4k_clips(work: Path, frames: int | None) -> tuple[Path, Path, Path, Path]:
    """Write (single clip, its output, doubled clip, its output) under ``work``; reuses them when present."""
    (single, single_output), (double, double_output) = make_upscaled_clips(
        work, SIZE_4K, "4k", frames=frames, doubled=True
    )
    return single, single_output, double, double_output


def run_case(clip: Path, output: Path, metrics: list[str] | None) -> dict:
    """In this process: score, then report peak RSS."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    from void_eval.metrics.score import score_clip

    imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    table = score_clip(clip, output, metrics=metrics)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    meta = table.attrs["meta"]
    return {
        "clip": clip.name,
        "frames": meta["frames"],
        "size": meta["input_size"],
        "chunk_size": meta["chunk_size"],
        "metrics": sorted(set(table.metric)),
        "nan_rows": int(table.value.isna().sum()),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_before_import_mb": round(before / 1024, 1),
        "rss_after_import_mb": round(imported / 1024, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_by_metric": meta["seconds"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="Folder for the generated 4K clips (kept).")
    parser.add_argument("--metrics", default=None, help="Comma-separated metric names (default: all).")
    parser.add_argument("--frames", type=int, default=None, help="Use only the first N frames of ducky-float.")
    parser.add_argument("--case", nargs=2, type=Path, metavar=("CLIP", "OUTPUT"), help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    metrics = args.metrics.split(",") if args.metrics else None
    if args.case:
        print(json.dumps(run_case(args.case[0], args.case[1], metrics)))
        return 0
    if args.make:
        print(json.dumps([str(path) for path in make_4k_clips(args.work, args.frames)]))
        return 0
    # This process stays small: a child's ru_maxrss starts from its parent's RSS at fork (Linux copies the
    # high-water mark across exec), so clips are made and scored in children.
    work = args.work or Path(tempfile.mkdtemp(prefix="score_memory_"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    make = [sys.executable, __file__, "--make", "--work", str(work)]
    if args.frames:
        make += ["--frames", str(args.frames)]
    made = subprocess.run(make, capture_output=True, text=True, check=False)
    if made.returncode != 0:
        print(made.stderr, file=sys.stderr)
        return 1
    single, single_output, double, double_output = map(Path, json.loads(made.stdout.strip().splitlines()[-1]))
    print(f"clips ready in {time.perf_counter() - started:.0f} s under {work}", flush=True)
    results = []
    for clip, output in ((single, single_output), (double, double_output)):
        command = [sys.executable, __file__, "--case", str(clip), str(output)]
        if args.metrics:
            command += ["--metrics", args.metrics]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            print(completed.stderr, file=sys.stderr)
            return 1
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        results.append(result)
        print(json.dumps(result), flush=True)
    single_peak, double_peak = results[0]["peak_rss_mb"], results[1]["peak_rss_mb"]
    ratio = double_peak / single_peak
    ok = max(single_peak, double_peak) * 1024**2 <= LIMIT_BYTES and ratio <= 1.1
    print(
        f"4K {results[0]['frames']} frames: peak RSS {single_peak:.0f} MB; doubled ({results[1]['frames']} frames): "
        f"{double_peak:.0f} MB; ratio doubled/single {ratio:.3f}; limit 1536 MB -> {'PASS' if ok else 'FAIL'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
