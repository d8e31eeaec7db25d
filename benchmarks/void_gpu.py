"""VOID pipeline speed and peak VRAM on a GPU: full-size architecture, random weights, 85 frames at 384x672.

Builds VOID's full-size architecture (CogVideoX 1.5 5B transformer with 48 input channels, the CogVideoX VAE, a
T5-XXL-shaped encoder) with RANDOM weights (no download; the figures measure the compute, not the output), and
times :class:`void_eval.void.pipeline.VoidPipeline` for one clip (85 frames, 384x672, 30 DDIM steps, guidance 1.0,
bf16) in each memory mode. Printed next to upstream's published figures for one A100-40GB run (30 steps, one clip;
third party): 153.5 s / 18.9 GiB with CPU offload (+fp8) and 134.4 s / 38.0 GiB fully loaded. Those were taken on
another GPU with upstream's code: the ratio is a rough comparison, not a like-for-like one.

Usage::

    .venv/bin/python benchmarks/void_gpu.py [--modes gpu,model-offload,sequential-offload] [--fp8] [--steps 30]
    .venv/bin/python benchmarks/void_gpu.py --tiny      # CPU smoke test of this script with tiny random weights

``--compile`` wraps the transformer in ``torch.compile`` (gpu mode). Attention goes through PyTorch SDPA, which
picks flash attention for bf16 on recent GPUs; pass 1 runs without CFG (guidance 1.0), so one transformer batch.

It refuses to run without CUDA (except ``--tiny``, whose numbers are meaningless for VOID).
"""

from __future__ import annotations

import argparse
import sys
import time

#: Upstream's published figures (A100-40GB, 30 steps, one clip): mode -> (seconds, peak GiB).
UPSTREAM_FIGURES = {"model-offload": (153.5, 18.9), "gpu": (134.4, 38.0)}
UPSTREAM_SOURCE = "third-party A100-40GB run quoted in docs/void-format.md (offload row used fp8)"

TRANSFORMER_5B = dict(
    num_attention_heads=48,
    attention_head_dim=64,
    in_channels=48,
    out_channels=16,
    time_embed_dim=512,
    text_embed_dim=4096,
    num_layers=42,
    sample_width=300,
    sample_height=300,
    sample_frames=81,
    patch_size=2,
    patch_size_t=2,
    temporal_compression_ratio=4,
    max_text_seq_length=226,
    use_rotary_positional_embeddings=True,
    patch_bias=False,
)
T5_XXL = dict(
    vocab_size=32128,
    d_model=4096,
    d_kv=64,
    d_ff=10240,
    num_layers=24,
    num_heads=64,
    feed_forward_proj="gated-gelu",
    relative_attention_num_buckets=32,
    pad_token_id=0,
    eos_token_id=1,
)


def build_full_size(dtype):
    """Random-weight full-size components (built on CPU in ``dtype``)."""
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
    from transformers import T5Config, T5EncoderModel

    from void_eval.void.pipeline import VoidPipeline
    from void_eval.void.tiny import tiny_scheduler, tiny_tokenizer

    torch.manual_seed(0)
    transformer = CogVideoXTransformer3DModel(**TRANSFORMER_5B).to(dtype).eval()
    vae = AutoencoderKLCogVideoX(latent_channels=16, scaling_factor=0.7).to(dtype).eval()
    text_encoder = T5EncoderModel(T5Config(**T5_XXL)).to(dtype).eval()
    return VoidPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=tiny_scheduler("ddim"),
    )


def build_tiny(dtype):
    from void_eval.void.tiny import tiny_pipeline

    return tiny_pipeline(seed=0).to(dtype=dtype)


def run_once(pipe, *, frames: int, size: tuple[int, int], steps: int, device: str) -> float:
    """Time one pass-1 call on random inputs; returns seconds (synchronised)."""
    import torch

    generator = torch.Generator(device="cpu").manual_seed(0)
    video = torch.rand(1, 3, frames, *size, generator=generator)
    mask = (torch.rand(1, 1, frames, *size, generator=generator) > 0.8).float()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    pipe(
        video=video,
        mask=mask,
        prompt="a street",
        pass_=1,
        num_inference_steps=steps,
        guidance_scale=1.0,
        generator=torch.Generator(device="cpu").manual_seed(42),
        progress=False,
    )
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="gpu,model-offload,sequential-offload")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--frames", type=int, default=85)
    parser.add_argument("--size", default="384x672")
    parser.add_argument("--fp8", action="store_true", help="store transformer weights in float8 (e4m3)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the transformer (gpu mode only)")
    parser.add_argument("--tiny", action="store_true", help="CPU smoke test with tiny random weights")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)

    import torch

    from void_eval.void.pipeline import MEMORY_MODES

    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = [mode for mode in modes if mode not in MEMORY_MODES]
    if unknown:
        print(f"error: unknown memory modes {unknown}; choose from {MEMORY_MODES}", file=sys.stderr)
        return 2
    height, width = (int(part) for part in args.size.lower().split("x"))
    if args.tiny:
        print("TINY RANDOM WEIGHTS on CPU - checks this script only; NOT VOID figures")
        rows = []
        for mode in ("cpu",):
            pipe = build_tiny(torch.float32)
            if args.fp8:
                pipe.store_transformer_fp8(compute_dtype=torch.float32)
            seconds = run_once(pipe, frames=args.frames, size=(height, width), steps=args.steps, device="cpu")
            rows.append((mode, seconds, float("nan")))
        _print_rows(rows, args, tiny=True)
        return 0
    if not torch.cuda.is_available():
        print(
            "error: benchmarks/void_gpu.py needs a CUDA GPU (none found); use --tiny for a CPU smoke test",
            file=sys.stderr,
        )
        return 2
    dtype = torch.bfloat16
    rows = []
    for mode in modes:
        pipe = build_full_size(dtype)
        if args.fp8:
            pipe.store_transformer_fp8(compute_dtype=dtype)
        pipe.apply_memory_mode(mode, device="cuda")
        if args.compile and mode == "gpu":
            pipe.transformer = torch.compile(pipe.transformer)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        seconds = run_once(pipe, frames=args.frames, size=(height, width), steps=args.steps, device="cuda")
        peak = torch.cuda.max_memory_allocated() / 2**30
        rows.append((mode, seconds, peak))
        del pipe
        torch.cuda.empty_cache()
    _print_rows(rows, args, tiny=False)
    return 0


def _print_rows(rows, args, *, tiny: bool) -> None:
    import json

    import torch

    device = "cpu" if tiny else torch.cuda.get_device_name(0)
    compiled = getattr(args, "compile", False)
    print(
        f"device: {device}; {args.frames} frames at {args.size}, {args.steps} steps, fp8={args.fp8}, "
        f"compile={compiled}; attention: torch SDPA (diffusers CogVideoXAttnProcessor2_0); CFG off (guidance 1)"
    )
    print(f"{'mode':<20}{'wall s':>10}{'peak GiB':>10}{'upstream s':>12}{'upstream GiB':>14}{'time ratio':>12}")
    for mode, seconds, peak in rows:
        ref_s, ref_gib = UPSTREAM_FIGURES.get(mode, (float("nan"), float("nan")))
        ratio = seconds / ref_s if ref_s == ref_s else float("nan")
        print(f"{mode:<20}{seconds:>10.1f}{peak:>10.2f}{ref_s:>12.1f}{ref_gib:>14.1f}{ratio:>12.2f}")
    print(f"upstream figures: {UPSTREAM_SOURCE}")
    if args.json:
        record = {
            "device": device,
            "tiny_random_not_void": tiny,
            "frames": args.frames,
            "size": args.size,
            "steps": args.steps,
            "fp8": args.fp8,
            "compile": compiled,
            "rows": [{"mode": m, "seconds": s, "peak_gib": p} for m, s, p in rows],
            "upstream": UPSTREAM_FIGURES,
            "upstream_source": UPSTREAM_SOURCE,
        }
        with open(args.json, "w") as handle:
            json.dump(record, handle, indent=2)


if __name__ == "__main__":
    sys.exit(main())
