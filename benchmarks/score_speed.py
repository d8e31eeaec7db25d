"""Frames per second of the full default metric suite (``score_clip``) at 1080p, on the CPU or a GPU.

Workload: the first ``--frames`` (default 24) frames of the real ducky-float sample upscaled to 1920x1080, with a
counterfactual and an output (:mod:`upscaled_clips`), scored with every default metric (PSNR, SSIM, LPIPS-alex,
E_warp, flicker, the physics and no-reference metrics) by :func:`void_eval.metrics.score.score_clip`. LPIPS and
SSIM of one 1080p frame first load the weights (and, on a GPU, warm cuDNN); then the timed run. Printed: frames/s,
seconds per metric and where it ran. With ``--device cuda`` the same clip is also scored on the CPU in this
process, and the ratio is printed: LPIPS and SSIM (preservation's too) run on the GPU (``score_clip``'s
``device``), from each chunk's frames uploaded once to the region sums, SSIM a whole chunk at a time; E_warp's DIS
flow and the other metrics stay on the CPU, so the GPU figure is bounded by those.

``--write`` records the figures in ``benchmarks/results/score_speed.json`` under the device's name (a GPU's as
torch reports it, ``cpu-<N>-threads`` otherwise), so a GPU run leaves its numbers in the repository.

Usage::

    .venv/bin/python benchmarks/score_speed.py [--device cpu|cuda] [--frames 24] [--work DIR] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from upscaled_clips import make_upscaled_clips

SIZE_1080P = (1080, 1920)
RESULTS = Path(__file__).resolve().parent / "results" / "score_speed.json"


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu-{torch.get_num_threads()}-threads"


def timed_score(clip: Path, output: Path, device: str) -> dict:
    """Warm up on one frame, then score the whole clip: frames, seconds, frames/s, seconds per metric."""
    import numpy as np

    from void_eval.metrics.lpips import lpips
    from void_eval.metrics.score import score_clip
    from void_eval.metrics.ssim import ssim

    frame = np.random.default_rng(0).integers(0, 256, (*SIZE_1080P, 3), dtype=np.uint8)
    lpips(frame, frame, device=device)  # weights loaded, cuDNN warmed at this size
    ssim(frame, frame, device=device)
    started = time.perf_counter()
    table = score_clip(clip, output, device=device)
    seconds = time.perf_counter() - started
    meta = table.attrs["meta"]
    return {
        "device": device_name(device),
        "frames": meta["frames"],
        "size": meta["input_size"],
        "seconds": round(seconds, 2),
        "frames_per_second": round(meta["frames"] / seconds, 3),
        "seconds_by_metric": meta["seconds"],
        "nan_rows": int(table.value.isna().sum()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--work", type=Path, default=None, help="folder for the generated clip (kept)")
    parser.add_argument("--write", action="store_true", help=f"record the figures in {RESULTS.name}")
    args = parser.parse_args()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("error: --device cuda: no CUDA device here", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="score_speed_"))
    [(clip, output)] = make_upscaled_clips(work, SIZE_1080P, "1080p", frames=args.frames)
    runs = [timed_score(clip, output, device)]
    if device != "cpu":
        runs.append(timed_score(clip, output, "cpu"))
    for run in runs:
        by_metric = ", ".join(f"{name} {value:.1f}" for name, value in run["seconds_by_metric"].items())
        print(
            f"{run['device']}: {run['frames']} frames {run['size'][1]}x{run['size'][0]} in {run['seconds']:.1f} s = "
            f"{run['frames_per_second']:.2f} frames/s (s by metric: {by_metric})"
        )
    if len(runs) == 2:
        print(f"GPU / CPU speed: {runs[0]['frames_per_second'] / runs[1]['frames_per_second']:.2f}x")
    if args.write:
        RESULTS.parent.mkdir(exist_ok=True)
        recorded = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        for run in runs:
            recorded[run["device"]] = {**run, "measured": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv)}
        RESULTS.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
        print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
