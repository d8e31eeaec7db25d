"""Fake ProPainter: the command line, input layout and output layout of inference_propainter.py (e870e79).

Reads a frames folder (or video) and a mask folder (non-zero = hole), works at the size rounded down to a
multiple of 8, needs weights/*.pth relative to its working directory, and with --save_frames writes
<output>/<video name>/frames/0000.png ... at the input size. The fill is a blurred fill, not ProPainter.
"""

import argparse
import os

import cv2
import numpy as np
from fakefill import fill, read_video, resize, write_video

parser = argparse.ArgumentParser()
parser.add_argument("-i", "--video", type=str, default="inputs/object_removal/bmx-trees")
parser.add_argument("-m", "--mask", type=str, default="inputs/object_removal/bmx-trees_mask")
parser.add_argument("-o", "--output", type=str, default="results")
parser.add_argument("--resize_ratio", type=float, default=1.0)
parser.add_argument("--height", type=int, default=-1)
parser.add_argument("--width", type=int, default=-1)
parser.add_argument("--mask_dilation", type=int, default=4)
parser.add_argument("--ref_stride", type=int, default=10)
parser.add_argument("--neighbor_length", type=int, default=10)
parser.add_argument("--subvideo_length", type=int, default=80)
parser.add_argument("--raft_iter", type=int, default=20)
parser.add_argument("--mode", default="video_inpainting", choices=["video_inpainting", "video_outpainting"])
parser.add_argument("--scale_h", type=float, default=1.0)
parser.add_argument("--scale_w", type=float, default=1.2)
parser.add_argument("--save_fps", type=int, default=24)
parser.add_argument("--save_frames", action="store_true")
parser.add_argument("--fp16", action="store_true")
args = parser.parse_args()

for name in ("raft-things.pth", "recurrent_flow_completion.pth", "ProPainter.pth"):
    if not os.path.isfile(os.path.join("weights", name)):
        raise SystemExit(f"fake ProPainter: weights/{name} missing (the real script would download it)")

if args.video.endswith(("mp4", "mov", "avi")):
    video_name = os.path.basename(args.video)[:-4]
    frames, fps = read_video(args.video)
else:
    video_name = os.path.basename(args.video)
    frames = [
        cv2.cvtColor(cv2.imread(os.path.join(args.video, f)), cv2.COLOR_BGR2RGB) for f in sorted(os.listdir(args.video))
    ]
height, width = frames[0].shape[:2]
process = (height - height % 8, width - width % 8)
masks = [np.array(cv2.imread(os.path.join(args.mask, f), cv2.IMREAD_GRAYSCALE)) for f in sorted(os.listdir(args.mask))]
if len(masks) == 1:
    masks = masks * len(frames)
if len(masks) != len(frames):
    raise SystemExit(f"fake ProPainter: {len(frames)} frames but {len(masks)} masks")
kernel = np.ones((2 * args.mask_dilation + 1,) * 2, np.uint8)
out = []
for frame, mask in zip(frames, masks, strict=False):
    small = resize(frame, *process)
    hole = cv2.dilate((resize(mask, *process, cv2.INTER_NEAREST) > 0).astype(np.uint8), kernel) > 0
    out.append(resize(fill(small, hole), height, width, cv2.INTER_CUBIC))
save_root = os.path.join(args.output, video_name)
os.makedirs(save_root, exist_ok=True)
if args.save_frames:
    for idx, frame in enumerate(out):
        path = os.path.join(save_root, "frames", str(idx).zfill(4) + ".png")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        cv2.imwrite(path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
write_video(os.path.join(save_root, "inpaint_out.mp4"), out, args.save_fps)
print(f"All results are saved in {save_root}")
