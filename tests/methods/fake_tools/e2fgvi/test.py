"""Fake E2FGVI: the command line, input layout and output layout of test.py (709cbe3).

Reads a frames folder (or mp4) and a mask folder (> 0, dilated 4 times with a 3x3 cross), e2fgvi at 432x240 and
e2fgvi_hq at the frames' size, loads --ckpt, and writes results/<name>_results.mp4 (mp4v, --savefps) in its
working directory. The fill is a blurred fill.
"""

import argparse
import os

import cv2
import numpy as np
from fakefill import fill, read_video, resize, write_video

parser = argparse.ArgumentParser(description="E2FGVI")
parser.add_argument("-v", "--video", type=str, required=True)
parser.add_argument("-c", "--ckpt", type=str, required=True)
parser.add_argument("-m", "--mask", type=str, required=True)
parser.add_argument("--model", type=str, choices=["e2fgvi", "e2fgvi_hq"])
parser.add_argument("--step", type=int, default=10)
parser.add_argument("--num_ref", type=int, default=-1)
parser.add_argument("--neighbor_stride", type=int, default=5)
parser.add_argument("--savefps", type=int, default=24)
parser.add_argument("--set_size", action="store_true", default=False)
parser.add_argument("--width", type=int)
parser.add_argument("--height", type=int)
args = parser.parse_args()

if not os.path.isfile(args.ckpt):
    raise FileNotFoundError(args.ckpt)
use_mp4 = args.video.endswith(".mp4")
if use_mp4:
    frames, _ = read_video(args.video)
else:
    frames = [cv2.cvtColor(cv2.imread(args.video + "/" + n), cv2.COLOR_BGR2RGB) for n in sorted(os.listdir(args.video))]
if args.model == "e2fgvi":
    size = (432, 240)
elif args.set_size:
    size = (args.width, args.height)
else:
    size = (frames[0].shape[1], frames[0].shape[0])
cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
masks = []
for name in sorted(os.listdir(args.mask)):
    grey = cv2.imread(os.path.join(args.mask, name), cv2.IMREAD_GRAYSCALE)
    masks.append(
        cv2.dilate((resize(grey, size[1], size[0], cv2.INTER_NEAREST) > 0).astype(np.uint8), cross, iterations=4) > 0
    )
out = [fill(resize(frame, size[1], size[0]), hole) for frame, hole in zip(frames, masks, strict=False)]
save_base_name = args.video.split("/")[-1]
save_name = save_base_name.replace(".mp4", "_results.mp4") if use_mp4 else save_base_name + "_results.mp4"
os.makedirs("results", exist_ok=True)
write_video(os.path.join("results", save_name), out, args.savefps)
print(f"Finish test! The result video is saved in: results/{save_name}.")
import matplotlib.pyplot as plt  # noqa: E402  (upstream shows the result; headless under MPLBACKEND=Agg)

plt.figure("Let us enjoy the result")
plt.show()
