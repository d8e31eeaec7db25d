"""VOID wall time and peak VRAM on a GPU: the full-size architecture with random weights, 85 frames at 384x672.

Builds VOID's components at full size from the configs shipped in ``benchmarks/void_configs/`` (CogVideoX 1.5 5B
transformer with VOID's 48 input channels, the CogVideoX VAE, the T5-XXL encoder) with RANDOM weights: no download,
and the figures measure the compute, which does not depend on the weight values. Each memory mode times one
:class:`void_eval.void.pipeline.VoidPipeline` call as upstream's pass 1 runs it (85 frames, 384x672, 30 DDIM steps,
guidance 1, bf16: text encoding, VAE encoding, denoising, decoding), synchronised, and reads the peak allocated
VRAM. ``--passes 1,2`` adds pass 2 (50 steps, guidance 6, so two transformer batches) with its warped noise made on
the GPU along upstream's path (timed apart). Figures go to ``benchmarks/results/void_gpu-<gpu>.json`` next to
upstream's published third-party figures for one A100-40GB run (30 steps, one clip): 153.5 s / 18.9 GiB with CPU
offload and fp8, 134.4 s / 38.0 GiB fully loaded; those come from another GPU and upstream's own code, so the
ratio is a rough comparison, not a like-for-like one.

Usage::

    .venv/bin/python benchmarks/void_gpu.py                   # every memory mode, pass 1
    .venv/bin/python benchmarks/void_gpu.py --modes gpu --passes 1,2 --repeat 2
    .venv/bin/python benchmarks/void_gpu.py --configs DIR --device cpu --modes gpu ...   # plumbing check (tests)

Without CUDA it refuses (exit 2), except with ``--device cpu``, which only checks this script with small configs:
its numbers are not VOID figures and it says so.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "benchmarks" / "void_configs" / "cogvideox-fun-v1.5-5b-inp"
RESULTS = ROOT / "benchmarks" / "results"
#: Memory modes timed by default; ``+fp8`` stores the transformer in float8 (upstream's qfloat8 offload mode).
MODES = ("gpu", "model-offload", "model-offload+fp8", "sequential-offload")
#: Upstream's published figures (third-party A100-40GB run, 30 steps, one clip): mode -> (seconds, peak GiB).
UPSTREAM_FIGURES = {"model-offload+fp8": (153.5, 18.9), "gpu": (134.4, 38.0)}
UPSTREAM_SOURCE = "third-party A100-40GB run quoted by Netflix/void-model (offload row with fp8), pass 1, 30 steps"
_PART_FILES = ("transformer", "vae", "text_encoder", "scheduler")


def load_configs(folder: Path) -> dict[str, dict]:
    """The four JSON configs of ``folder``, without their ``_``-prefixed notes."""
    configs = {}
    for part in _PART_FILES:
        path = Path(folder) / f"{part}.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: missing ({part} config)")
        raw = json.loads(path.read_text())
        configs[part] = {k: v for k, v in raw.items() if not k.startswith("_") and k != "model_type"}
    return configs


def _fill_random_(module, generator) -> None:
    """Give every parameter a plausible random value: norms 1, biases 0, matrices N(0, 0.02)."""
    import torch

    with torch.no_grad():
        for name, param in module.named_parameters():
            if param.ndim == 1:
                param.fill_(1.0 if "norm" in name and name.endswith("weight") else 0.0)
            else:
                param.normal_(0.0, 0.02, generator=generator)


def _materialise(module, *, device: str, dtype, seed: int):
    """A module built on the meta device -> real (uninitialised) storage on ``device``, random-filled, in ``dtype``."""
    import torch

    module = module.to_empty(device=device)
    if hasattr(module, "tie_weights"):  # T5: the token embedding is shared; the meta build and to_empty untie it
        module.tie_weights()
    _fill_random_(module, torch.Generator(device=device).manual_seed(seed))
    return module.to(dtype).eval()


def build_pipeline(configs: dict[str, dict], *, pass_: int, dtype, device: str):
    """A full-size (or, with small configs, tiny) random-weight :class:`VoidPipeline` with weights on ``device``."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel, DDIMScheduler
    from transformers import T5Config, T5EncoderModel

    from void_eval.void.pipeline import VoidPipeline
    from void_eval.void.tiny import tiny_tokenizer

    transformer_config = dict(configs["transformer"])
    add_noise = bool(transformer_config.pop("add_noise_in_inpaint_model", False))
    with init_empty_weights(include_buffers=False):
        transformer = CogVideoXTransformer3DModel.from_config(transformer_config)
        vae = AutoencoderKLCogVideoX.from_config(configs["vae"])
        text_encoder = T5EncoderModel(T5Config(**configs["text_encoder"]))
    scheduler_config = dict(configs["scheduler"])
    if pass_ == 1:
        scheduler_config.pop("snr_shift_scale", None)
    scheduler = (DDIMScheduler if pass_ == 1 else CogVideoXDDIMScheduler).from_config(scheduler_config)
    return VoidPipeline(
        tokenizer=tiny_tokenizer(),  # the T5 vocabulary file is not shipped; token ids do not change the cost
        text_encoder=_materialise(text_encoder, device=device, dtype=dtype, seed=1),
        vae=_materialise(vae, device=device, dtype=dtype, seed=2),
        transformer=_materialise(transformer, device=device, dtype=dtype, seed=3),
        scheduler=scheduler,
        add_noise_in_inpaint_model=add_noise,
    )


def _inputs(frames: int, size: tuple[int, int]):
    import torch

    generator = torch.Generator().manual_seed(0)
    video = torch.rand(1, 3, frames, *size, generator=generator)
    mask = (torch.rand(1, 1, frames, *size, generator=generator) > 0.8).float()
    return video, mask


def _synchronise(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_pass(pipe, *, pass_: int, frames: int, size, steps: int, device: str, latents=None) -> float:
    """Seconds of one synchronised pipeline call (pass 1: guidance 1; pass 2: guidance 6, empty negative)."""
    from void_eval.void.seeding import RandomStreams

    video, mask = _inputs(frames, size)
    streams = RandomStreams(42, seeding="per-clip", device=device)
    _synchronise(device)
    started = time.perf_counter()
    pipe(
        video=video,
        mask=mask,
        prompt="a street",
        pass_=pass_,
        negative_prompt="",
        num_inference_steps=steps,
        guidance_scale=1.0 if pass_ == 1 else 6.0,
        generator=streams.pass_noise(pass_),
        noise_aug_generator=streams.augmentation(pass_),
        latents=latents,
        window_frames=min(frames, 85),
        progress=False,
    )
    _synchronise(device)
    return time.perf_counter() - started


def time_warped_noise(
    *, frames: int, size, channels: int, device: str, warp_scale: int, canvas
) -> tuple[float, object]:
    """Seconds to make pass 2's starting noise along upstream's path (DIS flow on the CPU, warp on ``device``)."""
    import numpy as np
    import torch

    from void_eval.metrics.flow import get_flow_provider
    from void_eval.void.pass2_noise import upstream_warped_noise

    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (size[0], size[1] + 4 * frames, 3), dtype=np.uint8)
    video = np.stack([base[:, 4 * i : 4 * i + size[1]] for i in range(frames)])  # a pan: real motion for the flow
    latent = (size[0] // 8, size[1] // 8)
    _synchronise(device)
    started = time.perf_counter()
    warped = upstream_warped_noise(video, latent_size=latent, channels=channels, flow=get_flow_provider("dis"),
                                   warp_scale=warp_scale, device=device, canvas=canvas)  # fmt: skip
    _synchronise(device)
    return time.perf_counter() - started, torch.from_numpy(warped.latents)[None]


def measure_mode(configs, mode: str, args, dtype) -> list[dict]:
    """Rows of one memory mode: pass 1 (and pass 2) wall time and peak VRAM, ``--repeat`` times each."""
    import torch

    base_mode, fp8 = mode.removesuffix("+fp8"), mode.endswith("+fp8")
    cuda = args.device.startswith("cuda")
    rows = []
    for pass_ in args.passes:
        pipe = build_pipeline(configs, pass_=pass_, dtype=dtype, device=args.device if base_mode == "gpu" else "cpu")
        if fp8:
            pipe.store_transformer_fp8(compute_dtype=dtype)
        pipe.apply_memory_mode(base_mode, device=args.device)
        latents, warp_s = None, None
        if pass_ == 2:
            warp_s, latents = time_warped_noise(frames=args.frames, size=args.size, device=args.device,
                                                channels=pipe.vae.config.latent_channels, warp_scale=args.warp_scale,
                                                canvas=args.canvas)  # fmt: skip
        steps = args.steps if pass_ == 1 else args.steps2
        for repeat in range(args.repeat):
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            seconds = time_pass(pipe, pass_=pass_, frames=args.frames, size=args.size, steps=steps,
                                device=args.device, latents=latents)  # fmt: skip
            peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
            reserved = torch.cuda.max_memory_reserved() / 2**30 if cuda else float("nan")
            rows.append({"mode": mode, "pass": pass_, "repeat": repeat, "steps": steps, "seconds": round(seconds, 2),
                         "peak_gib": round(peak, 2), "peak_reserved_gib": round(reserved, 2),
                         "warped_noise_s": None if warp_s is None else round(warp_s, 2)})  # fmt: skip
            print(_row_text(rows[-1]), flush=True)
        del pipe
        if cuda:
            torch.cuda.empty_cache()
    return rows


def _row_text(row: dict) -> str:
    ref_s, ref_gib = UPSTREAM_FIGURES.get(row["mode"], (float("nan"), float("nan"))) if row["pass"] == 1 else (
        float("nan"), float("nan"))  # fmt: skip
    ratio = row["seconds"] / ref_s if ref_s == ref_s else float("nan")
    warp = "" if row["warped_noise_s"] is None else f"  (+ warped noise {row['warped_noise_s']:.1f} s)"
    return (
        f"{row['mode']:<20}{row['pass']:>5}{row['steps']:>7}{row['seconds']:>10.1f}{row['peak_gib']:>10.2f}"
        f"{ref_s:>12.1f}{ref_gib:>14.1f}{ratio:>12.2f}{warp}"
    )


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {MODES}")
    parser.add_argument("--passes", default="1", help="1 or 1,2")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--steps2", type=int, default=50)
    parser.add_argument("--frames", type=int, default=85)
    parser.add_argument("--size", default="384x672")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--warp-scale", type=int, default=8, help="warped-noise grid factor (upstream 8)")
    parser.add_argument("--canvas", default="480x720", help="warped-noise canvas (upstream 480x720)")
    parser.add_argument("--configs", type=Path, default=CONFIGS, help="folder of the four JSON configs")
    parser.add_argument("--device", default="cuda", help="cuda (figures) or cpu (plumbing check only)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (default benchmarks/results/void_gpu-<gpu>)")
    args = parser.parse_args(argv)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    args.passes = [int(part) for part in args.passes.split(",")]
    args.size = tuple(int(part) for part in args.size.lower().split("x"))
    args.canvas = tuple(int(part) for part in args.canvas.lower().split("x"))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    unknown = [mode for mode in args.modes if mode not in MODES]
    if unknown or set(args.passes) - {1, 2}:
        print(f"error: unknown memory modes {unknown} or passes {args.passes}; modes: {MODES}, passes: 1,2",
              file=sys.stderr)  # fmt: skip
        return 2
    import torch

    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        print("error: benchmarks/void_gpu.py needs a CUDA GPU (none found); --device cpu with small --configs "
              "checks the script only", file=sys.stderr)  # fmt: skip
        return 2
    if not cuda and set(args.modes) - {"gpu"}:
        print("error: the offload modes need CUDA; on the CPU only --modes gpu (everything on the device)",
              file=sys.stderr)  # fmt: skip
        return 2
    configs = load_configs(args.configs)
    device_name = torch.cuda.get_device_name(0) if cuda else "cpu"
    dtype = torch.bfloat16 if cuda else torch.float32
    if not cuda:
        print("CPU PLUMBING CHECK with the configs given - NOT VOID figures")
    print(f"device: {device_name}; configs: {args.configs}; {args.frames} frames at {args.size[0]}x{args.size[1]}, "
          f"{dtype}; attention: torch SDPA")  # fmt: skip
    print(f"{'mode':<20}{'pass':>5}{'steps':>7}{'wall s':>10}{'peak GiB':>10}{'upstream s':>12}{'upstream GiB':>14}"
          f"{'time ratio':>12}")  # fmt: skip
    rows = []
    for mode in args.modes:
        rows += measure_mode(configs, mode, args, dtype)
    print(f"upstream figures: {UPSTREAM_SOURCE}")
    record = {
        "device": device_name,
        "not_void_figures": not cuda,
        "configs": str(args.configs),
        "frames": args.frames,
        "size": list(args.size),
        "dtype": str(dtype),
        "torch": torch.__version__,
        "rows": rows,
        "upstream": {mode: {"seconds": s, "peak_gib": g} for mode, (s, g) in UPSTREAM_FIGURES.items()},
        "upstream_source": UPSTREAM_SOURCE,
    }
    slug = re.sub(r"[^a-z0-9]+", "-", device_name.lower()).strip("-")
    out = args.out or RESULTS / f"void_gpu-{slug}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
