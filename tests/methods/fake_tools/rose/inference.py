"""Fake ROSE: the command line, input layout and output layout of inference.py (3781244).

Needs models/Wan2.1-Fun-1.3B-InP, weights/transformer and configs/wan2.1/wan_civitai.yaml relative to its working
directory; reads the video and mask with OpenCV resized to --sample_size, mask grey >= 240 = hole, the first
--video_length frames (16n+1), and writes <output_dir>/example-1.mp4. The fill is a blurred fill.
"""

import argparse
import os

import cv2
from fakefill import fill, read_video, resize, write_video

parser = argparse.ArgumentParser(description="Run video inpainting pipeline")
parser.add_argument("--validation_videos", type=str, nargs="+", default=["data/eval/example1/video.mp4"])
parser.add_argument("--validation_masks", type=str, nargs="+", default=["data/eval/example1/mask.mp4"])
parser.add_argument("--validation_prompts", type=str, nargs="+", default=[""])
parser.add_argument("--output_dir", type=str, default="results/")
parser.add_argument("--video_length", type=int, default=49)
parser.add_argument("--sample_size", type=int, nargs=2, default=[480, 720])
args = parser.parse_args()

for path in ("models/Wan2.1-Fun-1.3B-InP", "weights/transformer", "configs/wan2.1/wan_civitai.yaml"):
    if not os.path.exists(path):
        raise SystemExit(f"fake ROSE: {path} not found")
if (args.video_length - 1) % 16:
    raise SystemExit(f"fake ROSE: --video_length {args.video_length} is not 16n+1")
height, width = args.sample_size
for i, (video, mask) in enumerate(zip(args.validation_videos, args.validation_masks, strict=False), start=1):
    frames, _ = read_video(video)
    masks, _ = read_video(mask)
    frames, masks = frames[: args.video_length], masks[: args.video_length]
    if len(frames) != args.video_length:
        raise SystemExit(f"fake ROSE: {len(frames)} frames, --video_length {args.video_length}")
    out = []
    for frame, grey in zip(frames, masks, strict=False):
        hole = cv2.cvtColor(resize(grey, height, width), cv2.COLOR_RGB2GRAY) >= 240
        out.append(fill(resize(frame, height, width), hole))
    os.makedirs(args.output_dir, exist_ok=True)
    write_video(os.path.join(args.output_dir, f"example-{i}.mp4"), out, 12)
