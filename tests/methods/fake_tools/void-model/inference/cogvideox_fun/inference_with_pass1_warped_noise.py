"""Fake VOID pass 2: the command line, data layout and output layout of inference_with_pass1_warped_noise.py
(66e9c0e).

Finds the pass-1 video <name>-fg=-1-*.mp4 in --pass1_dir (the first glob match, as upstream), makes warped noise
with make_warped_noise.py beside it (cached under --warped_noise_cache_dir), needs --model_checkpoint and
--model_name, and writes <output_dir>/<name>_warped_noise_inference.mp4 at --height x --width, 12 fps, padded
length. Like upstream, a failing video is logged and the script still exits 0. The fill is not VOID's.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from fakevoid import load_sequence, remove, write_video

parser = argparse.ArgumentParser()
parser.add_argument("--video_name", type=str, default=None)
parser.add_argument("--video_names", type=str, nargs="+", default=None)
parser.add_argument("--data_rootdir", type=str, default="./data")
parser.add_argument("--pass1_dir", type=str, default="./pass1_outputs")
parser.add_argument("--output_dir", type=str, default="./inference_with_warped_noise")
parser.add_argument("--model_name", type=str, default="./CogVideoX-Fun-V1.5-5b-InP")
parser.add_argument("--model_checkpoint", type=str, required=True)
parser.add_argument("--max_video_length", type=int, default=197)
parser.add_argument("--temporal_window_size", type=int, default=85)
parser.add_argument("--height", type=int, default=384)
parser.add_argument("--width", type=int, default=672)
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--guidance_scale", type=float, default=6.0)
parser.add_argument("--num_inference_steps", type=int, default=50)
parser.add_argument("--warped_noise_cache_dir", type=str, default="./pass1_warped_noise_cache")
parser.add_argument("--skip_noise_generation", action="store_true")
parser.add_argument("--use_quadmask", action="store_true", default=True)
args = parser.parse_args()

names = args.video_names or ([args.video_name] if args.video_name else None)
if not names:
    raise SystemExit("Must provide either --video_name or --video_names")
os.makedirs(args.output_dir, exist_ok=True)
for path in (args.model_checkpoint, args.model_name):
    if not os.path.exists(path):
        raise SystemExit(f"fake pass 2: {path} not found")
for name in names:
    try:
        candidates = list(Path(args.pass1_dir).glob(f"{name}-fg=-1-*.mp4"))
        if not candidates:
            print(f"No pass 1 video found for: {name}", file=sys.stderr)
            continue
        pass1 = candidates[0]
        noise_dir = Path(args.warped_noise_cache_dir) / pass1.stem
        script = Path(__file__).parent / "make_warped_noise.py"
        result = subprocess.run(
            [sys.executable, str(script), str(pass1.resolve()), str(noise_dir.resolve())],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not (noise_dir / "noises.npy").exists():
            print(f"Go-with-the-Flow failed!\n{result.stderr}", file=sys.stderr)
            continue
        frames, levels, _ = load_sequence(args.data_rootdir, name, args.height, args.width, args.max_video_length)
        write_video(os.path.join(args.output_dir, f"{name}_warped_noise_inference.mp4"), remove(frames, levels), 12)
    except Exception as err:
        print(f"Error processing {name}: {err}", file=sys.stderr)
