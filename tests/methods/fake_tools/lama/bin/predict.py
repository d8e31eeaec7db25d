#!/usr/bin/env python3
"""Fake LaMa: the command line (hydra key=value overrides), input layout and output layout of bin/predict.py (786f593).

Reads <indir>/**/*mask*.png with images <name>.png beside them (mask > 0 = hole), needs <model.path>/config.yaml
and <model.path>/models/<model.checkpoint>, and writes <outdir>/<mask name>.png at the image's size. Like the real
script it wants PYTHONPATH to hold the checkout. The fill is a blurred fill, not LaMa.
"""

import glob
import os
import sys

import cv2
from fakefill import fill

overrides = dict(arg.split("=", 1) for arg in sys.argv[1:])
config = {"model.checkpoint": "best.ckpt", **overrides}
for key in ("model.path", "indir", "outdir"):
    if key not in config:
        raise SystemExit(f"fake LaMa: {key}=... missing")
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if repo not in os.environ.get("PYTHONPATH", "").split(os.pathsep):
    raise SystemExit("fake LaMa: ModuleNotFoundError: No module named 'saicinpainting' (set PYTHONPATH)")
for path in (
    os.path.join(config["model.path"], "config.yaml"),
    os.path.join(config["model.path"], "models", config["model.checkpoint"]),
):
    if not os.path.isfile(path):
        raise SystemExit(f"fake LaMa: {path} not found")
indir = config["indir"] if config["indir"].endswith("/") else config["indir"] + "/"
for mask_name in sorted(glob.glob(os.path.join(indir, "**", "*mask*.png"), recursive=True)):
    image = cv2.cvtColor(cv2.imread(mask_name.rsplit("_mask", 1)[0] + ".png"), cv2.COLOR_BGR2RGB)
    hole = cv2.imread(mask_name, cv2.IMREAD_GRAYSCALE) > 0
    out_name = os.path.join(config["outdir"], os.path.splitext(mask_name[len(indir) :])[0] + ".png")
    os.makedirs(os.path.dirname(out_name), exist_ok=True)
    cv2.imwrite(out_name, cv2.cvtColor(fill(image, hole), cv2.COLOR_RGB2BGR))
