"""Check the toolkit's VOID code against upstream's own code on tiny random weights (a developer check, not a test).

Needs local checkouts of Netflix/void-model (its ``videox_fun`` package: transformer, VAE, inpaint pipeline) and
RyannDaGreat/CommonSource (``noise_warp.py``), and ``einops`` importable (upstream's pipeline imports it). Nothing is
downloaded and no upstream file is copied: their modules are imported from the given folders at run time. Three parts:

1. **Go-with-the-Flow**: upstream's ``NoiseWarper`` (its ``warp_xyωc`` step; the few ``rp`` helpers it calls are
   stood in for below: nearest ``grid_sample`` remap, index-add scatter, ``F.interpolate`` resize) against
   :class:`void_eval.void.noise_warp.NoiseWarper`, same seed, on 24x36 grids: smooth, zoom, wild and shift flows.
2. **Noise path**: upstream's ``get_noise_from_video`` and ``load_and_resize_warped_noise`` on a clip's frames
   against :func:`void_eval.void.pass2_noise.upstream_warped_noise` (DIS flow on both sides).
3. **Pipeline**: upstream's ``CogVideoXFunInpaintPipeline`` with its own transformer and VAE classes holding the
   weights of the toolkit's tiny random components, against :class:`void_eval.void.pipeline.VoidPipeline`: pass 1
   (DDIM, 3-level mask, guidance 1) and pass 2 (CogVideoX DDIM, binary mask, guidance 6, given noise), 21, 45
   (windowed) and 85 frames, with and without the video noise augmentation (upstream's global generator seeded
   with torch's default seed; the toolkit's stream). Final latents and decoded frames.

Usage::

    python benchmarks/void_upstream_check.py --void-model ../void-model --commonsource ../CommonSource \\
        --clip ../void-model/sample/BigBen
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]


def _rp_stand_in() -> types.ModuleType:
    """The ``rp`` helpers ``noise_warp.py``'s warping calls, as their documented behaviour."""
    rp = types.ModuleType("rp")

    def resize(image, size, interp="auto", *, copy=True):
        height, width = image.shape[-2:]
        if tuple(size) == (height, width):
            return image.clone() if copy else image
        mode = interp if interp != "auto" else ("bilinear" if size[0] >= height and size[1] >= width else "area")
        return F.interpolate(image[None], size=tuple(size), mode=mode)[0]

    def remap(image, x, y, *, relative=False, interp="bilinear"):
        _, height, width = image.shape
        if relative:
            x = x + torch.arange(width, dtype=x.dtype)
            y = y + torch.arange(height, dtype=y.dtype)[:, None]
        grid = torch.stack([x / (width - 1) * 2 - 1, y / (height - 1) * 2 - 1], dim=-1)[None].to(image.dtype)
        return F.grid_sample(image[None], grid, mode=interp, align_corners=True)[0]

    def scatter_add(image, x, y, *, relative=False, interp="floor", height=None, width=None, prepend_ones=False):
        channels, rows, cols = image.shape
        x, y = x.long(), y.long()
        if relative:
            x = x + torch.arange(cols)
            y = y + torch.arange(rows)[:, None]
        inside = ((x >= 0) & (x < cols) & (y >= 0) & (y < rows)).reshape(-1)
        out = torch.zeros(rows * cols, channels, dtype=image.dtype)
        out.index_add_(0, (y * cols + x).reshape(-1)[inside], image.reshape(channels, -1).T[inside])
        return out.T.reshape(channels, rows, cols)

    def resize_any(image, size, interp="auto", *, copy=True):
        if np.isscalar(size):
            size = tuple(int(np.ceil(side * size)) for side in image.shape[-2:])
        return resize(image, size, interp, copy=copy)

    def resize_frames(frames, size, interp="area"):
        height, width = (int(np.ceil(side * size)) for side in frames.shape[1:3])
        return np.stack([cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in frames])

    def gather_vars(names):
        caller = sys._getframe(1).f_locals
        return {name: caller[name] for name in names.split()}

    rp.torch_resize_image, rp.torch_remap_image, rp.torch_scatter_add_image = resize_any, remap, scatter_add
    rp.memoized = functools.lru_cache(maxsize=None)
    rp.is_numpy_array = lambda value: isinstance(value, np.ndarray)
    rp.resize_images, rp.gather_vars = resize_frames, gather_vars
    rp.as_numpy_image = lambda tensor: tensor.permute(1, 2, 0).cpu().numpy()
    rp.as_numpy_array = lambda value: value.cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    rp.as_rgb_images = lambda frames: frames
    rp.currently_running_mac = rp.is_video_file = rp.is_valid_url = rp.running_in_jupyter_notebook = lambda *a: False
    rp.get_unique_copy_path = lambda path: path
    rp.fansi_print = lambda *args, **kwargs: None
    return rp


def _upstream_noise_warp(commonsource: Path, flow=None) -> types.ModuleType:
    """Upstream's warping functions (``unique_pixels`` .. ``NoiseWarper``, and ``get_noise_from_video``) from the
    checkout, with ``rp`` stood in and ``flow`` (a toolkit flow provider) standing in for its RAFT."""
    from einops import rearrange
    from tqdm import tqdm

    source = (commonsource / "noise_warp.py").read_text()
    body = source[source.index("def unique_pixels") : source.index("def blend_noise")]
    body += source[source.index("def get_noise_from_video") : source.index("if __name__ ==")]
    module = types.ModuleType("upstream_noise_warp")
    module.__dict__.update(torch=torch, np=np, rp=_rp_stand_in(), rearrange=rearrange, tqdm=tqdm)
    module.raft = types.SimpleNamespace(RaftOpticalFlow=lambda device, version: _FlowAsRaft(flow))
    exec(compile(body, str(commonsource / "noise_warp.py"), "exec"), module.__dict__)  # upstream's code, as is
    return module


class _FlowAsRaft:
    """Upstream's RAFT call (float [0, 1] frames in, ``(dx, dy)`` out) answered by a toolkit flow provider."""

    def __init__(self, provider) -> None:
        self.provider = provider

    def __call__(self, first, second):
        to_bytes = lambda frame: np.rint(np.asarray(frame, np.float32) * 255).astype(np.uint8)  # noqa: E731
        flow = torch.from_numpy(self.provider.flow(to_bytes(first), to_bytes(second)))
        return flow[..., 0], flow[..., 1]


def _flows(kind: str, height: int, width: int, rng) -> list[torch.Tensor]:
    ys, xs = torch.meshgrid(torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32),
                            indexing="ij")  # fmt: skip
    out = []
    for step in range(6):
        if kind == "smooth":
            coarse = torch.from_numpy(rng.normal(0, 3, (1, 2, 4, 6)).astype(np.float32))
            out.append(F.interpolate(coarse, size=(height, width), mode="bicubic")[0])
        elif kind == "zoom":
            factor = 1.05 if step % 2 == 0 else 0.93
            out.append(torch.stack([(xs - width / 2) * (factor - 1), (ys - height / 2) * (factor - 1)]) + 0.013)
        elif kind == "wild":
            out.append(torch.from_numpy(rng.normal(0, 8, (2, height, width)).astype(np.float32)))
        else:
            out.append(torch.zeros(2, height, width) + torch.tensor([2.3, -1.2]).view(2, 1, 1))
    return out


def check_noise_warp(commonsource: Path) -> dict:
    from void_eval.void.noise_warp import NoiseWarper

    upstream = _upstream_noise_warp(commonsource)
    rows = {}
    for kind in ("smooth", "zoom", "wild", "shift"):
        for seed in (0, 1, 2):
            flows = _flows(kind, 24, 36, np.random.default_rng(seed))
            with torch.random.fork_rng():
                torch.manual_seed(seed)
                theirs = upstream.NoiseWarper(3, 24, 36, device="cpu")
                ours = NoiseWarper(3, 24, 36, generator=torch.Generator().manual_seed(seed))
                for flow in flows:
                    theirs(flow[0].clone(), flow[1].clone())
                    ours.step(flow.clone())
            rows[f"{kind}-{seed}"] = {
                "state_equal": bool(torch.equal(theirs._state[3:], ours.noise)),
                "max_abs_noise_diff": float((theirs.noise - ours.frame).abs().max()),
                "max_abs_weight_diff": float((theirs._state[2] - ours.weight).abs().max()),
            }
    return rows


def _pipelines(void_model: Path):
    sys.path.insert(0, str(void_model))
    from videox_fun.models import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
    from videox_fun.pipeline import CogVideoXFunInpaintPipeline

    from void_eval.void.pipeline import VoidPipeline
    from void_eval.void.tiny import (
        tiny_text_encoder,
        tiny_tokenizer,
        tiny_transformer,
        tiny_transformer_config,
        tiny_vae,
    )

    torch.manual_seed(0)
    vae, transformer, text_encoder, tokenizer = tiny_vae(), tiny_transformer(), tiny_text_encoder(), tiny_tokenizer()
    their_vae = AutoencoderKLCogVideoX(**{k: v for k, v in vae.config.items() if not k.startswith("_")}).eval()
    their_vae.load_state_dict(vae.state_dict(), strict=True)

    def theirs(scheduler, add_noise):
        model = CogVideoXTransformer3DModel(**tiny_transformer_config(), add_noise_in_inpaint_model=add_noise).eval()
        model.load_state_dict(transformer.state_dict(), strict=True)
        return CogVideoXFunInpaintPipeline(vae=their_vae, text_encoder=text_encoder, tokenizer=tokenizer,
                                           transformer=model, scheduler=scheduler)  # fmt: skip

    def ours(scheduler, add_noise):
        return VoidPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                            scheduler=scheduler, add_noise_in_inpaint_model=add_noise)  # fmt: skip

    return theirs, ours


def _inputs(frames: int):
    generator = torch.Generator().manual_seed(1)
    video = torch.rand(1, 3, frames, 32, 48, generator=generator)
    video[:, :, :, :3] = 0.0  # pixels at -1 after normalisation: no augmentation noise there
    levels = torch.tensor([0.0, 128 / 255, 192 / 255, 1.0])  # remove, overlap, affected, keep (model view)
    return video, levels[torch.randint(0, 4, (1, 1, frames, 32, 48), generator=generator)]


def check_pipeline(void_model: Path) -> dict:
    from void_eval.void.noise_warp import TORCH_DEFAULT_SEED
    from void_eval.void.tiny import tiny_scheduler

    theirs, ours = _pipelines(void_model)
    rows = {}
    for name, frames, window, pass_ in [("pass1", 21, 21, 1), ("pass1-windowed", 45, 21, 1), ("pass1-85", 85, 85, 1),
                                        ("pass2", 21, 21, 2), ("pass2-windowed", 45, 21, 2)]:  # fmt: skip
        for add_noise in (False, True):
            video, mask = _inputs(frames)
            kind, guidance, negative = ("ddim", 1.0, "strange body") if pass_ == 1 else ("cogvideox-ddim", 6.0, "")
            given = None
            if pass_ == 2:
                given = torch.randn(1, (frames - 1) // 4 + 1, 4, 4, 6, generator=torch.Generator().manual_seed(9))
            common = dict(prompt="a street scene", negative_prompt=negative, height=32, width=48, video=video,
                          mask_video=mask, num_frames=window, num_inference_steps=2, guidance_scale=guidance,
                          max_sequence_length=16, strength=1.0, use_trimask=pass_ == 1, zero_out_mask_region=False,
                          use_vae_mask=True, stack_mask=False)  # fmt: skip
            results = {}
            for output_type in ("latent", "numpy"):
                captured = {}

                def grab(pipe, index, step, tensors, captured=captured):
                    captured["latents"] = tensors["latents"].clone()
                    return {}

                pipe = theirs(tiny_scheduler(kind), add_noise)  # built first: building draws from torch's generator
                with torch.random.fork_rng(), torch.no_grad():
                    torch.manual_seed(TORCH_DEFAULT_SEED)  # a fresh upstream process's global generator
                    out = pipe(
                        **common, generator=torch.Generator().manual_seed(42), output_type=output_type,
                        latents=None if given is None else given.clone(), return_dict=output_type == "latent",
                        callback_on_step_end=grab)  # fmt: skip
                results[output_type] = captured["latents"] if output_type == "latent" else out.videos.float()
            mine = ours(tiny_scheduler(kind), add_noise)(
                video=video, mask=mask, prompt="a street scene", pass_=pass_, negative_prompt=negative,
                num_inference_steps=2, guidance_scale=guidance, generator=torch.Generator().manual_seed(42),
                noise_aug_generator=torch.Generator().manual_seed(TORCH_DEFAULT_SEED), latents=given,
                window_frames=window, progress=False)  # fmt: skip
            rows[name + ("+noise-aug" if add_noise else "")] = {
                "frames": frames,
                "latents_equal": bool(torch.equal(results["latent"], mine.latents)),
                "max_abs_latent_diff": float((results["latent"] - mine.latents).abs().max()),
                "max_abs_frame_diff": float((results["numpy"] - mine.frames).abs().max()),
            }
            print(name, "noise-aug" if add_noise else "", rows[name + ("+noise-aug" if add_noise else "")], flush=True)
    return rows


def check_noise_path(
    void_model: Path, commonsource: Path, clip_dir: Path, *, channels: int = 2, warp_scale: int = 2
) -> dict:
    """Upstream's ``get_noise_from_video`` (canvas frames -> 72 noise frames at 60x90, float16) and
    ``load_and_resize_warped_noise`` (pick 22, resize to 48x84) against :func:`upstream_warped_noise`, on a
    clip's first 30 frames padded to 85 at 384x672; same DIS flow, same seed. The stretch and canvas (``rp``
    functions upstream) are the toolkit's on both sides: tested against upstream's formulas in ``tests/void``."""
    import tempfile

    from void_eval.clip import Clip
    from void_eval.metrics.flow import get_flow_provider
    from void_eval.void.noise_warp import TORCH_DEFAULT_SEED
    from void_eval.void.padding import pad_frames
    from void_eval.void.pass2_noise import canvas_frame, stretch_indices, upstream_warped_noise

    clip = Clip.load(clip_dir)
    frames = np.concatenate(list(clip.iter_frames(30)))[:30]
    frames = pad_frames(np.stack([cv2.resize(f, (672, 384), interpolation=cv2.INTER_AREA) for f in frames]), 85)
    flow = get_flow_provider("dis")
    ours = upstream_warped_noise(frames, latent_size=(48, 84), channels=channels, flow=flow, warp_scale=warp_scale)
    canvas = np.stack([canvas_frame(frames[index]) for index in stretch_indices(85, 72)])
    module = _upstream_noise_warp(commonsource, flow)
    with torch.random.fork_rng():
        torch.manual_seed(TORCH_DEFAULT_SEED)
        output = module.get_noise_from_video(canvas, noise_channels=channels, visualize=False, save_files=False,
                                             resize_frames=0.5, resize_flow=warp_scale, device="cpu",
                                             downscale_factor=round(0.5 * warp_scale) * 8)  # fmt: skip
    source = (void_model / "inference" / "cogvideox_fun" / "inference_with_pass1_warped_noise.py").read_text()
    body = source[source.index("def load_and_resize_warped_noise") : source.index("def main")]
    loader = {"np": np, "cv2": cv2, "torch": torch, "logger": types.SimpleNamespace(info=lambda *a: None)}
    exec(compile(body, "inference_with_pass1_warped_noise.py", "exec"), loader)  # upstream's code, as is
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "noises.npy"
        np.save(path, output["numpy_noises"])
        theirs = loader["load_and_resize_warped_noise"](str(path), (22, 48, 84, channels), "cpu", torch.float32)
    theirs = theirs[0].numpy()
    return {
        "upstream_noise_frames": list(output["numpy_noises"].shape),
        "shape": list(theirs.shape),
        "max_abs_diff": float(np.abs(theirs - ours.latents).max()),
        "fraction_equal": float(np.mean(theirs == ours.latents)),
        "std_upstream": float(theirs.std()),
        "std_toolkit": float(ours.latents.std()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--void-model", type=Path, required=True, help="checkout of Netflix/void-model")
    parser.add_argument("--commonsource", type=Path, required=True, help="checkout of RyannDaGreat/CommonSource")
    parser.add_argument("--clip", type=Path, required=True, help="a VOID clip folder (upstream's BigBen sample)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "void_upstream_check.json")
    args = parser.parse_args(argv)
    try:
        import einops  # noqa: F401
    except ImportError:
        print("error: upstream's code imports einops: pip install einops (a scratch environment is fine)",
              file=sys.stderr)  # fmt: skip
        return 2
    record = {
        "noise_warp": check_noise_warp(args.commonsource),
        "noise_path": check_noise_path(args.void_model, args.commonsource, args.clip),
        "pipeline": check_pipeline(args.void_model),
    }
    print(f"noise path ({args.clip.name}, 85 frames -> 22x48x84): {record['noise_path']}")
    worst = max(row["max_abs_noise_diff"] for row in record["noise_warp"].values())
    print(f"Go-with-the-Flow: max |noise diff| {worst:.2e} over {len(record['noise_warp'])} cases")
    print(f"pipeline: final latents equal in {sum(r['latents_equal'] for r in record['pipeline'].values())} of "
          f"{len(record['pipeline'])} cases")  # fmt: skip
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
