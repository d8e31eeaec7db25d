"""Fake DiffuEraser: the command line, input layout and output layout of run_diffueraser.py (8e6f279).

Checks what upstream checks (equal frame rates of video and mask, >= 22 frames, long side 256..4096), works at
upstream's processing size (long side capped at --max_img_size, sides rounded down to multiples of 8), erodes
then dilates the mask (> 0) like read_mask, needs weights/PCM_Weights in its working directory, and writes
<save_path>/diffueraser_result.mp4 (mp4v) at the processing size. The fill is a blurred fill.
"""

import argparse
import os

import cv2
import numpy as np
from fakefill import fill, read_video, resize, write_video

parser = argparse.ArgumentParser()
parser.add_argument("--input_video", type=str, default="examples/example3/video.mp4")
parser.add_argument("--input_mask", type=str, default="examples/example3/mask.mp4")
parser.add_argument("--video_length", type=int, default=10)
parser.add_argument("--mask_dilation_iter", type=int, default=8)
parser.add_argument("--max_img_size", type=int, default=960)
parser.add_argument("--save_path", type=str, default="results")
parser.add_argument("--ref_stride", type=int, default=10)
parser.add_argument("--neighbor_length", type=int, default=10)
parser.add_argument("--subvideo_length", type=int, default=50)
parser.add_argument("--base_model_path", type=str, default="weights/stable-diffusion-v1-5")
parser.add_argument("--vae_path", type=str, default="weights/sd-vae-ft-mse")
parser.add_argument("--diffueraser_path", type=str, default="weights/diffuEraser")
parser.add_argument("--propainter_model_dir", type=str, default="weights/propainter")
args = parser.parse_args()

for folder in (
    args.base_model_path,
    args.vae_path,
    args.diffueraser_path,
    args.propainter_model_dir,
    "weights/PCM_Weights",
):
    if not os.path.isdir(folder):
        raise SystemExit(f"fake DiffuEraser: {folder} not found")
os.makedirs(args.save_path, exist_ok=True)
frames, fps = read_video(args.input_video)
frames = frames[: int(args.video_length * fps)]
masks, mask_fps = read_video(args.input_mask)
if mask_fps != fps:
    raise ValueError("The frame rate of all input videos needs to be consistent.")
width, height = frames[0].shape[1], frames[0].shape[0]
max_size = max(width, height)
if max_size < 256:
    raise ValueError("The resolution of the uploaded video must be larger than 256x256.")
if max_size > args.max_img_size:
    ratio = max_size / args.max_img_size
    size = (int(width / ratio), int(height / ratio))
    size = (size[0] - size[0] % 8, size[1] - size[1] % 8)
else:
    size = (width - width % 8, height - height % 8)
count = min(len(frames), len(masks))
if count < 22:
    raise ValueError(
        "The effective video duration is too short. Please make sure that the number of frames of "
        "video, mask, and priori is at least greater than 22 frames."
    )
rect = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
out = []
for frame, mask in zip(frames[:count], masks[:count], strict=False):
    grey = resize(cv2.cvtColor(mask, cv2.COLOR_RGB2GRAY), size[1], size[0], cv2.INTER_NEAREST)
    hole = cv2.dilate(cv2.erode((grey > 0).astype(np.uint8), rect), rect, iterations=args.mask_dilation_iter) > 0
    out.append(fill(resize(frame, size[1], size[0]), hole))
write_video(os.path.join(args.save_path, "diffueraser_result.mp4"), out, fps)
print("DiffuEraser inference time: 0.0 s")
