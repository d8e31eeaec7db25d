"""The ``void-pass1`` and ``void-pass2`` methods: VOID on a clip folder, output aligned with the input for scoring.

What a run does (recorded in ``method.last_run``):

1. Prepare the clip as upstream does (:mod:`void_eval.void.conditioning`): working size 384x672 (area resize, no
   aspect preservation), quadmask quantised/inverted, temporal padding to ``4k + 1`` frames with reversed playback.
2. Pass 1: 30 DDIM steps, guidance 1.0, seed 42 (upstream's hard-coded values), 3-level mask.
3. Pass 2 (``void-pass2`` only): Gaussian noise warped along the DIS optical flow of the padded pass-1 output
   (:mod:`void_eval.void.warped_noise`), then 50 CogVideoX-DDIM steps, guidance 6.0, empty negative prompt,
   binary mask.
4. Undo upstream's quirks for evaluation: keep the first N frames (the padded tail is reversed playback), resize
   back to the input's size (area when shrinking, bicubic otherwise), write at the INPUT's fps (upstream writes
   12 fps whatever the input). Pixels are ``floor(255 x)`` as upstream's writer does.

With ``tiny_random=True`` the method runs tiny random-weight components of the same architecture (for smoke tests
on a CPU): its outputs are NOT VOID results and its ``version`` says so.

Examples
--------
>>> method = VoidPass1Method(tiny_random=True, size=(32, 48), steps=2, device="cpu")
>>> method.name, method.version, sorted(level.name for level in method.rewrites)
('void-pass1', '1+tiny-random-NOT-VOID', ['AFFECTED', 'OVERLAP', 'REMOVE'])
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.quadmask import QuadLevel
from void_eval.void.conditioning import WORKING_SIZE
from void_eval.void.padding import MAX_FRAMES

#: VOID rewrites the object, its overlap and the region it affected.
VOID_LEVELS = frozenset({QuadLevel.REMOVE, QuadLevel.OVERLAP, QuadLevel.AFFECTED})
_DTYPES = ("bfloat16", "float16", "float32")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def frames_to_uint8(frames: Any) -> np.ndarray:
    """``(1, 3, L, H, W)`` float in ``[0, 1]`` -> ``(L, H, W, 3)`` uint8 with upstream's ``floor(255 x)``."""
    array = frames[0].permute(1, 2, 3, 0).float().numpy()
    return (np.clip(array, 0.0, 1.0) * 255).astype(np.uint8)


def resize_back(frames: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, str]:
    """Resize ``(T, h, w, 3)`` uint8 to ``size``: area when both sides shrink, bicubic otherwise."""
    import cv2

    height, width = size
    if frames.shape[1:3] == (height, width):
        return frames, "none"
    shrink = height <= frames.shape[1] and width <= frames.shape[2]
    flag, label = (cv2.INTER_AREA, "area") if shrink else (cv2.INTER_CUBIC, "bicubic")
    return np.stack([cv2.resize(f, (width, height), interpolation=flag) for f in frames]), label


class VoidMethod:
    """Shared machinery of the two VOID methods (see the module docstring).

    Parameters
    ----------
    base : path, keyword-only
        Local CogVideoX-Fun-V1.5-5b-InP folder.
    pass1 : path, keyword-only
        ``void_pass1.safetensors``.
    size : (int, int), keyword-only
        Working ``(height, width)``, multiples of 16 (upstream 384x672).
    steps : int, keyword-only
        Pass-1 DDIM steps (upstream 30).
    guidance : float, keyword-only
        Pass-1 guidance (upstream 1.0 = no CFG).
    seed : int, keyword-only
        Seed of the pass-1 noise generator (and of the warped noise in pass 2); upstream 42.
    dtype : {"bfloat16", "float16", "float32"}, keyword-only
        Weights and compute dtype (upstream bfloat16).
    device : str, keyword-only
        Torch device of execution (``cuda`` on a GPU machine).
    memory_mode : {"gpu", "model-offload", "sequential-offload"}, keyword-only
        Where weights live (see :meth:`VoidPipeline.apply_memory_mode`).
    fp8 : bool, keyword-only
        Store transformer weights in float8 (e4m3), compute in ``dtype``.
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    window_frames : int, keyword-only
        Temporal window and minimum padded length (upstream 85 = 22 latents; ``4k + 1`` with k odd, >= 21).
    tiny_random : bool, keyword-only
        Use tiny random-weight components instead of weights files (smoke runs; NOT VOID results).
    pipeline_loader : callable, keyword-only
        ``loader(pass_number) -> VoidPipeline``, overriding how pipelines are built (tests).
    """

    name: ClassVar[str] = ""
    #: ``1``; an instance running tiny random weights carries ``1+tiny-random-NOT-VOID``.
    version: str = "1"
    description: ClassVar[str] = ""
    device: str = "cuda"
    #: The levels VOID is asked to change. It regenerates whole frames (no compositing back of the input), so keep
    #: pixels change too; the keep-region preservation metric measures that.
    rewrites = VOID_LEVELS
    passes: ClassVar[tuple[int, ...]] = (1,)

    def __init__(
        self,
        *,
        base: str | Path | None = None,
        pass1: str | Path | None = None,
        pass2: str | Path | None = None,
        size: tuple[int, int] = WORKING_SIZE,
        steps: int = 30,
        guidance: float = 1.0,
        seed: int = 42,
        dtype: str = "bfloat16",
        device: str = "cuda",
        memory_mode: str = "model-offload",
        fp8: bool = False,
        output_kind: str = "lossless",
        window_frames: int = 85,
        tiny_random: bool = False,
        pipeline_loader: Callable[[int], Any] | None = None,
    ) -> None:
        from void_eval.void.pipeline import MEMORY_MODES

        size = (int(size[0]), int(size[1]))
        if size[0] < 16 or size[1] < 16 or size[0] % 16 or size[1] % 16:
            raise ValueError(f"size must be multiples of 16 (height, width), got {size}")
        if steps < 1:
            raise ValueError(f"steps must be >= 1, got {steps}")
        if guidance < 0:
            raise ValueError(f"guidance must be >= 0, got {guidance}")
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        if memory_mode not in MEMORY_MODES:
            raise ValueError(f"memory_mode must be one of {MEMORY_MODES}, got {memory_mode!r}")
        if output_kind not in ("lossless", "h264"):
            raise ValueError(f"output_kind must be 'lossless' or 'h264', got {output_kind!r}")
        self.base = Path(base) if base is not None else None
        self.pass1 = Path(pass1) if pass1 is not None else None
        self.pass2 = Path(pass2) if pass2 is not None else None
        from void_eval.void.padding import padded_length

        padded_length(1, min_length=window_frames)  # validates the 4k+1, k odd form
        if window_frames < 21:
            raise ValueError(
                f"window_frames must be >= 21 (more latents than the 4-latent cross-fade), got {window_frames}"
            )
        self.window_frames = int(window_frames)
        self.size = size
        self.steps = int(steps)
        self.guidance = float(guidance)
        self.seed = int(seed)
        self.dtype = dtype
        self.device = device
        self.memory_mode = memory_mode
        self.fp8 = bool(fp8)
        self.output_kind = output_kind
        self.tiny_random = bool(tiny_random)
        if self.tiny_random:
            self.version = "1+tiny-random-NOT-VOID"
        self._loader = pipeline_loader
        self._pipelines: dict[int, Any] = {}
        self._weights_sha256: str | None = None
        self.last_run: dict[str, Any] = {}
        if pipeline_loader is None and not self.tiny_random:
            from void_eval.void.checkpoint import check_base_folder, check_weights_file

            if self.base is None:
                raise InputError("--base", "no base model folder given (CogVideoX-Fun-V1.5-5b-InP)")
            check_base_folder(self.base)
            for number in self.passes:
                path = self.pass1 if number == 1 else self.pass2
                if path is None:
                    raise InputError(f"--pass{number}", f"{self.name} needs void_pass{number}.safetensors")
                check_weights_file(path)

    @property
    def params(self) -> dict[str, Any]:
        """Resolved parameters (JSON-serialisable)."""
        return {
            "base": str(self.base) if self.base else None,
            "pass1": str(self.pass1) if self.pass1 else None,
            "pass2": str(self.pass2) if self.pass2 else None,
            "size": list(self.size),
            "steps": self.steps,
            "guidance": self.guidance,
            "seed": self.seed,
            "dtype": self.dtype,
            "memory_mode": self.memory_mode,
            "fp8": self.fp8,
            "output_kind": self.output_kind,
            "window_frames": self.window_frames,
            "tiny_random": self.tiny_random,
            **self._extra_params(),
        }

    def _extra_params(self) -> dict[str, Any]:
        return {}

    @property
    def weights_sha256(self) -> str | None:
        """sha256 of the weights files used (joined with ``+`` for two passes), computed once; None when tiny."""
        if self.tiny_random or self._loader is not None:
            return None
        if self._weights_sha256 is None:
            paths = [self.pass1 if number == 1 else self.pass2 for number in self.passes]
            self._weights_sha256 = "+".join(_sha256(path) for path in paths)
        return self._weights_sha256

    # ------------------------------------------------------------------ pipelines
    def _torch_dtype(self):
        import torch

        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[self.dtype]

    def pipeline(self, number: int):
        """The pipeline of pass ``number`` (built once, then reused across clips)."""
        if number not in self._pipelines:
            if self._loader is not None:
                pipe = self._loader(number)
            elif self.tiny_random:
                from void_eval.void.tiny import tiny_pipeline

                pipe = tiny_pipeline(seed=number, scheduler="ddim" if number == 1 else "cogvideox-ddim")
                pipe.to(self.device)
            elif number == 2 and self.memory_mode == "gpu" and 1 in self._pipelines:
                pipe = self._pass2_sharing_pass1()
            else:
                from void_eval.void.checkpoint import load_void_pipeline

                weights = self.pass1 if number == 1 else self.pass2
                pipe = load_void_pipeline(self.base, weights, pass_=number, dtype=self._torch_dtype())
                if self.fp8:
                    pipe.store_transformer_fp8(compute_dtype=self._torch_dtype())
                pipe.apply_memory_mode(self.memory_mode, device=self.device)
            self._pipelines[number] = pipe
        return self._pipelines[number]

    def _pass2_sharing_pass1(self):
        """Pass 2 in ``gpu`` mode: its own transformer and scheduler, pass 1's T5, tokenizer and VAE (one copy on
        the GPU instead of two; the offload modes keep separate pipelines because their hooks are per pipeline)."""
        from diffusers import CogVideoXDDIMScheduler

        from void_eval.void.checkpoint import load_transformer
        from void_eval.void.pipeline import VoidPipeline

        first = self._pipelines[1]
        transformer, extras = load_transformer(self.base, self.pass2, dtype=self._torch_dtype())
        scheduler = CogVideoXDDIMScheduler.from_pretrained(self.base / "scheduler", local_files_only=True)
        pipe = VoidPipeline(
            tokenizer=first.tokenizer,
            text_encoder=first.text_encoder,
            vae=first.vae,
            transformer=transformer,
            scheduler=scheduler,
            add_noise_in_inpaint_model=bool(extras.get("add_noise_in_inpaint_model", False)),
        )
        if self.fp8:
            pipe.store_transformer_fp8(compute_dtype=self._torch_dtype())
        pipe.transformer.to(self.device)
        return pipe

    # ------------------------------------------------------------------ running
    def run(self, clip: Clip, output_path: Path) -> Path:
        """Run VOID on ``clip`` and write an output with the input's frame count, size and fps."""
        import torch

        from void_eval.video import VideoWriter, probe
        from void_eval.void.conditioning import load_conditioning
        from void_eval.void.padding import trim_to_input

        if clip.frames > MAX_FRAMES:
            raise InputError(clip.path, f"{clip.frames} frames; VOID takes at most {MAX_FRAMES} (upstream's limit)")
        output_path = Path(output_path)
        started = time.perf_counter()
        cond = load_conditioning(clip, size=self.size, min_frames=self.window_frames)
        record: dict[str, Any] = {
            "method": self.name,
            "version": self.version,
            "input_frames": cond.input_frames,
            "padded_frames": cond.padded_frames,
            "working_size": list(self.size),
            "input_size": list(cond.source_size),
            "mask_scheme": cond.mask_scheme,
            "notes": list(cond.notes),
        }
        if self.tiny_random:
            record["notes"].append("TINY RANDOM WEIGHTS - NOT A VOID RESULT")
        padded = self._generate(cond, record)
        frames = trim_to_input(padded, cond.input_frames)
        frames, resize = resize_back(frames, cond.source_size)
        record.update(
            trimmed_from=len(padded),
            resized_with=resize,
            fps=clip.fps,
            upstream_output="padded length, 384x672, 12 fps; here trimmed, resized back, input fps",
        )
        with VideoWriter(output_path, clip.fps, kind=self.output_kind) as writer:
            writer.write(frames)
        info = probe(output_path)
        if (info.frames, info.height, info.width) != (clip.frames, clip.height, clip.width):
            output_path.unlink(missing_ok=True)
            raise RuntimeError(f"{self.name} wrote {info.frames} frames of {info.width}x{info.height} for {clip.name}")
        record["seconds"] = round(time.perf_counter() - started, 3)
        if torch.cuda.is_available():
            record["peak_vram_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        self.last_run = record
        return output_path

    def _generator(self):
        import torch

        device = self.device if str(self.device).startswith("cuda") else "cpu"
        return torch.Generator(device=device).manual_seed(self.seed)

    def _pass1(self, cond, record) -> tuple[Any, np.ndarray]:
        pipe = self.pipeline(1)
        out = pipe(
            video=cond.video,
            mask=cond.mask,
            prompt=cond.prompt,
            pass_=1,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            generator=self._generator(),
            window_frames=self.window_frames,
            progress=False,
        )
        record["pass1"] = {
            "steps": self.steps,
            "guidance": self.guidance,
            "seed": self.seed,
            "scheduler": type(pipe.scheduler).__name__,
        }
        return out, frames_to_uint8(out.frames)

    def _generate(self, cond, record) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


class VoidPass1Method(VoidMethod):
    """``void-pass1``: VOID's base inpainting pass (see :class:`VoidMethod` for the parameters)."""

    name = "void-pass1"
    description = "Netflix VOID pass 1 (CogVideoX-Fun 5B + quadmask), diffusers, local weights"
    passes = (1,)

    def _generate(self, cond, record) -> np.ndarray:
        return self._pass1(cond, record)[1]


class VoidPass2Method(VoidMethod):
    """``void-pass2``: pass 1, then the warped-noise refinement pass.

    Extra parameters (keyword-only): ``pass2`` (``void_pass2.safetensors``), ``steps2`` (50), ``guidance2`` (6.0),
    ``negative_prompt`` (``""``), ``noise_upscale`` (4: fine grid of the noise transport, x the latent grid).
    """

    name = "void-pass2"
    description = "Netflix VOID pass 1 + warped-noise refinement pass 2, diffusers, local weights"
    passes = (1, 2)

    def __init__(
        self,
        *,
        steps2: int = 50,
        guidance2: float = 6.0,
        negative_prompt: str = "",
        noise_upscale: int = 4,
        **kwargs: Any,
    ) -> None:
        if steps2 < 1:
            raise ValueError(f"steps2 must be >= 1, got {steps2}")
        if not 1 <= noise_upscale <= 8:
            raise ValueError(f"noise_upscale must be in 1..8, got {noise_upscale}")
        self.steps2 = int(steps2)
        self.guidance2 = float(guidance2)
        self.negative_prompt = negative_prompt
        self.noise_upscale = int(noise_upscale)
        super().__init__(**kwargs)

    def _extra_params(self) -> dict[str, Any]:
        return {
            "steps2": self.steps2,
            "guidance2": self.guidance2,
            "negative_prompt": self.negative_prompt,
            "noise_upscale": self.noise_upscale,
        }

    def _generate(self, cond, record) -> np.ndarray:
        import torch

        from void_eval.void.warped_noise import warped_noise

        _, first = self._pass1(cond, record)
        pipe = self.pipeline(2)
        scale = pipe.vae_scale_factor_spatial
        latent_size = (self.size[0] // scale, self.size[1] // scale)
        noise = warped_noise(
            first,
            latent_size=latent_size,
            channels=pipe.vae.config.latent_channels,
            upscale=self.noise_upscale,
            seed=self.seed,
        )
        latents = torch.from_numpy(noise)[None]
        out = pipe(
            video=cond.video,
            mask=cond.mask,
            prompt=cond.prompt,
            pass_=2,
            negative_prompt=self.negative_prompt,
            num_inference_steps=self.steps2,
            guidance_scale=self.guidance2,
            generator=self._generator(),
            latents=latents,
            window_frames=self.window_frames,
            progress=False,
        )
        record["pass2"] = {
            "steps": self.steps2,
            "guidance": self.guidance2,
            "negative_prompt": self.negative_prompt,
            "scheduler": type(pipe.scheduler).__name__,
            "noise": "warped along OpenCV DIS flow of the pass-1 output",
            "noise_latent_frames": int(noise.shape[0]),
            "noise_upscale": self.noise_upscale,
        }
        return frames_to_uint8(out.frames)
