"""Fake VOID pass 1: the command line (absl --config FILE --config.a.b=value), data layout and output layout of
inference/cogvideox_fun/predict_v2v.py (66e9c0e).

Needs the base model folder and --config.video_model.transformer_path; for each sequence of run_seqs found in
data_rootdir it writes <save_path>/<seq>-fg=-1-NNNN.mp4 (NNNN = 1 + the number of earlier _tuple files) and the
side-by-side _tuple.mp4, at sample_size, 12 fps, keeping the padded length. The fill is not VOID's.
"""

import os
import runpy
import sys

import numpy as np
from fakevoid import load_sequence, remove, write_video

args = sys.argv[1:]
if "--config" not in args:
    raise SystemExit("fake predict_v2v: --config FILE missing")
config_file = args[args.index("--config") + 1]
config = dict(runpy.run_path(config_file)["DEFAULTS"])
for arg in args:
    if arg.startswith("--config.") and "=" in arg:
        key, value = arg[len("--config.") :].split("=", 1)
        if key not in config:
            raise SystemExit(f"fake predict_v2v: unknown flag --config.{key}")
        config[key] = value
if not os.path.isdir(config["video_model.model_name"]):
    raise SystemExit(f"fake predict_v2v: {config['video_model.model_name']} not found")
if config["video_model.transformer_path"] and not os.path.isfile(config["video_model.transformer_path"]):
    raise SystemExit(f"fake predict_v2v: {config['video_model.transformer_path']} not found")
height, width = (int(v) for v in config["data.sample_size"].split("x"))
root, save_path = config["data.data_rootdir"], config["experiment.save_path"]
seqs = [s for s in config["experiment.run_seqs"].split(",") if s in sorted(os.listdir(root))]
for seq in seqs:
    frames, levels, prompt = load_sequence(root, seq, height, width, int(config["data.max_video_length"]))
    out = remove(frames, levels)
    os.makedirs(save_path, exist_ok=True)
    name = f"{seq}-fg=-1"
    index = len([p for p in os.listdir(save_path) if p.endswith("_tuple.mp4") and p.startswith(name)]) + 1
    prefix = os.path.join(save_path, f"{name}-{index:04d}")
    write_video(prefix + ".mp4", out, int(config["data.fps"]))
    tuples = [
        np.concatenate([f, np.repeat(lv[..., None], 3, 2), o], axis=1)
        for f, lv, o in zip(frames, levels, out, strict=False)
    ]
    write_video(prefix + "_tuple.mp4", tuples, int(config["data.fps"]))
