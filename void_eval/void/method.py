"""The ``void-pass1`` and ``void-pass2`` methods: VOID on a clip folder, output aligned with the input for scoring.

What a run does (recorded in ``method.last_run``):

1. Prepare the clip as upstream does (:mod:`void_eval.void.conditioning`): working size 384x672 (area resize, no
   aspect preservation), quadmask quantised/inverted, temporal padding to ``4k + 1`` frames with reversed playback.
2. Pass 1: 30 DDIM steps, guidance 1.0, seed 42 (upstream's hard-coded values), 3-level mask.
3. Pass 2 (``void-pass2`` only): Go-with-the-Flow noise warped along the optical flow of the padded pass-1 output
   on upstream's path (:mod:`void_eval.void.pass2_noise`; RAFT with local weights, DIS otherwise), then 50
   CogVideoX-DDIM steps, guidance 6.0, empty negative prompt, binary mask.
4. Undo upstream's quirks for evaluation: keep the first N frames (the padded tail is reversed playback), resize
   back to the input's size (area when shrinking, bicubic otherwise), write at the INPUT's fps (upstream writes
   12 fps whatever the input). Pixels are ``floor(255 x)`` as upstream's writer does.

Random streams follow upstream (:mod:`void_eval.void.seeding`). Every size, window and device is checked when the
method is built, before any work. With ``tiny_random=True`` the method runs tiny random-weight components of the
same architecture with tiny defaults (:data:`~void_eval.void.tiny.TINY_DEFAULTS`): its outputs are NOT VOID
results and its ``version`` says so.

The two registered methods are :class:`~void_eval.void.passes.VoidPass1Method` and
:class:`~void_eval.void.passes.VoidPass2Method`; this module holds what they share (:class:`VoidMethod`).

Examples
--------
>>> from void_eval.void.passes import VoidPass1Method
>>> method = VoidPass1Method(tiny_random=True, device="cpu")
>>> method.name, method.version, method.size, sorted(level.name for level in method.rewrites)
('void-pass1', '1+tiny-random-NOT-VOID', (32, 48), ['AFFECTED', 'OVERLAP', 'REMOVE'])
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.hashing import file_sha256
from void_eval.quadmask import QuadLevel
from void_eval.void.conditioning import WORKING_SIZE
from void_eval.void.padding import MAX_FRAMES
from void_eval.void.seeding import SEEDINGS, RandomStreams
from void_eval.void.tiny import TINY_DEFAULTS

#: VOID rewrites the object, its overlap and the region it affected.
VOID_LEVELS = frozenset({QuadLevel.REMOVE, QuadLevel.OVERLAP, QuadLevel.AFFECTED})
_DTYPES = ("bfloat16", "float16", "float32")
#: Upstream's settings, used where a parameter is left at None (tiny random runs use TINY_DEFAULTS).
UPSTREAM_DEFAULTS = {
    "size": WORKING_SIZE,
    "window_frames": 85,
    "steps": 30,
    "steps2": 50,
    "dtype": "bfloat16",
    "noise_canvas": (480, 720),
    "warp_scale": 8,
}
PASS2_NOISES = ("upstream", "gaussian")


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; a CUDA device without CUDA is an InputError."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise InputError("--device", f"{device} asked for, but this torch sees no CUDA GPU (use auto or cpu)")
    return str(device)


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


def _with_class_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A transformer config completed with diffusers' defaults for the keys it leaves out."""
    import inspect

    from diffusers import CogVideoXTransformer3DModel

    parameters = inspect.signature(CogVideoXTransformer3DModel.__init__).parameters.values()
    return {**{p.name: p.default for p in parameters if p.default is not p.empty}, **config}


class VoidMethod:
    """Shared machinery of the two VOID methods (see the module docstring).

    Parameters
    ----------
    base : path, keyword-only
        Local CogVideoX-Fun-V1.5-5b-InP folder.
    pass1 : path, keyword-only
        ``void_pass1.safetensors``.
    size : (int, int), keyword-only
        Working ``(height, width)``, multiples of 16 within the transformer's rotary grid (upstream 384x672).
    steps : int, keyword-only
        Pass-1 DDIM steps (upstream 30).
    guidance : float, keyword-only
        Pass-1 guidance (upstream 1.0 = no CFG).
    seed : int, keyword-only
        Seed of the initial-noise generators; upstream 42.
    seeding : {"upstream", "per-clip"}, keyword-only
        ``upstream``: the pass-1 generator lives for the whole run (every clip continues its stream), as upstream's
        batch script; ``per-clip``: every clip starts from ``seed`` (results independent of batch order).
    noise_aug : {"upstream", "generator"}, keyword-only
        Source of the video-condition noise augmentation: a stream standing for upstream's global generator, or
        the pass's seeded generator (see :mod:`void_eval.void.seeding`).
    dtype : {"bfloat16", "float16", "float32"}, keyword-only
        Weights and compute dtype (upstream bfloat16).
    device : str, keyword-only
        ``auto`` (CUDA when torch sees one, else CPU) or a torch device.
    memory_mode : {"auto", "gpu", "model-offload", "sequential-offload"}, keyword-only
        Where weights live (see :meth:`VoidPipeline.apply_memory_mode`); ``auto``: model offload on CUDA, all on the
        device otherwise.
    fp8 : bool, keyword-only
        Store transformer weights in float8 (e4m3), compute in ``dtype``.
    output_kind : {"lossless", "h264"}, keyword-only
        Output encoding.
    window_frames : int, keyword-only
        Temporal window and minimum padded length (upstream 85 = 22 latents; ``4k + 1`` with k odd, >= 21).
    tiny_random : bool, keyword-only
        Tiny random-weight components and tiny defaults instead of weights files (smoke runs; NOT VOID results).
    pipeline_loader : callable, keyword-only
        ``loader(pass_number) -> VoidPipeline``, overriding how pipelines are built (tests).

    Parameters left at None take upstream's values (tiny random runs: :data:`~void_eval.void.tiny.TINY_DEFAULTS`).
    """

    name: ClassVar[str] = ""
    #: Bumped when outputs change; an instance running tiny random weights carries ``+tiny-random-NOT-VOID``.
    version: str = "1"
    description: ClassVar[str] = ""
    device: str = "cpu"
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
        size: tuple[int, int] | None = None,
        steps: int | None = None,
        guidance: float = 1.0,
        seed: int = 42,
        seeding: str = SEEDINGS[0],
        noise_aug: str = "upstream",
        dtype: str | None = None,
        device: str = "auto",
        memory_mode: str = "auto",
        fp8: bool = False,
        output_kind: str = "lossless",
        window_frames: int | None = None,
        tiny_random: bool = False,
        pipeline_loader: Callable[[int], Any] | None = None,
    ) -> None:
        from void_eval.void.padding import padded_length
        from void_eval.void.pipeline import MEMORY_MODES

        self.tiny_random = bool(tiny_random)
        self.defaults = TINY_DEFAULTS if self.tiny_random else UPSTREAM_DEFAULTS
        size = self.defaults["size"] if size is None else size
        self.size = (int(size[0]), int(size[1]))
        self.steps = int(self.defaults["steps"] if steps is None else steps)
        self.dtype = self.defaults["dtype"] if dtype is None else dtype
        window_frames = int(self.defaults["window_frames"] if window_frames is None else window_frames)
        if min(self.size) < 16 or self.size[0] % 16 or self.size[1] % 16:
            raise ValueError(f"size must be multiples of 16 (height, width), got {self.size[0]}x{self.size[1]}")
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        if guidance < 0:
            raise ValueError(f"guidance must be >= 0, got {guidance}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {self.dtype!r}")
        if memory_mode != "auto" and memory_mode not in MEMORY_MODES:
            raise ValueError(f"memory_mode must be auto or one of {MEMORY_MODES}, got {memory_mode!r}")
        if output_kind not in ("lossless", "h264"):
            raise ValueError(f"output_kind must be 'lossless' or 'h264', got {output_kind!r}")
        padded_length(1, min_length=window_frames)  # validates the 4k+1, k odd form
        if window_frames < 21:
            raise ValueError(
                f"window_frames must be >= 21 (more latents than the 4-latent cross-fade), got {window_frames}"
            )
        self.device = resolve_device(device)
        if memory_mode == "auto":
            memory_mode = "model-offload" if self.device.startswith("cuda") else "gpu"
        self.base = Path(base) if base is not None else None
        self.pass1 = Path(pass1) if pass1 is not None else None
        self.pass2 = Path(pass2) if pass2 is not None else None
        self.window_frames = int(window_frames)
        self.guidance = float(guidance)
        self.seed = int(seed)
        self.streams = RandomStreams(self.seed, seeding=seeding, device=self.device, noise_aug=noise_aug)
        self.memory_mode = memory_mode
        self.fp8 = bool(fp8)
        self.output_kind = output_kind
        if self.tiny_random:
            self.version = f"{type(self).version}+tiny-random-NOT-VOID"
        self._loader = pipeline_loader
        self._pipelines: dict[int, Any] = {}
        self._weights_sha256: str | None = None
        self._clips_run = 0
        self.last_run: dict[str, Any] = {}
        self._check_model_files_and_size()

    def _check_model_files_and_size(self) -> None:
        """Weights files exist and the working size fits the transformer's rotary grid (before any work)."""
        from void_eval.void.pipeline import transformer_max_size

        if self._loader is not None:
            return
        if self.tiny_random:
            from void_eval.void.tiny import tiny_transformer_config

            config, what = tiny_transformer_config(), "the tiny random transformer"
        else:
            from void_eval.void.checkpoint import check_base_folder, check_weights_file, read_transformer_config

            if self.base is None:
                raise InputError("--base", "no base model folder given (CogVideoX-Fun-V1.5-5b-InP)")
            check_base_folder(self.base)
            for number in self.passes:
                path = self.pass1 if number == 1 else self.pass2
                if path is None:
                    raise InputError(f"--pass{number}", f"{self.name} needs void_pass{number}.safetensors")
                check_weights_file(path)
            config, what = (
                _with_class_defaults(read_transformer_config(self.base)[0]),
                f"the transformer of {self.base}",
            )
        limit = transformer_max_size(config)
        if self.size[0] > limit[0] or self.size[1] > limit[1]:
            raise ValueError(
                f"size {self.size[0]}x{self.size[1]} exceeds the largest {what} takes, {limit[0]}x{limit[1]}"
            )

    @property
    def seeding(self) -> str:
        """``upstream`` or ``per-clip`` (see :mod:`void_eval.void.seeding`)."""
        return self.streams.seeding

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
            "seeding": self.seeding,
            "noise_aug": self.streams.noise_aug,
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

    @classmethod
    def order_dependent(cls, params: dict[str, Any]) -> bool:
        """Whether an instance built with ``params`` continues one random stream across clips (``upstream``
        seeding), so that a clip's output depends on the clips it ran before: the runner keeps such a method on one
        worker."""
        return params.get("seeding", SEEDINGS[0]) == "upstream"

    def fingerprint(self, clip: Clip) -> dict[str, str]:
        """What besides the parameters determines the next output: with ``upstream`` seeding, how many clips this
        instance's pass-1 generator served before (the runner's cache keys then say so)."""
        before = self._clips_run if self.seeding == "upstream" else 0
        return {"seeding": self.seeding, "clips_before": str(before)}

    @property
    def weights_sha256(self) -> str | None:
        """sha256 of the weights files used (joined with ``+`` for two passes), computed once; None when tiny."""
        if self.tiny_random or self._loader is not None:
            return None
        if self._weights_sha256 is None:
            paths = [self.pass1 if number == 1 else self.pass2 for number in self.passes]
            self._weights_sha256 = "+".join(file_sha256(path) for path in paths)
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
                if self.dtype != "float32":  # the tiny components are built in float32
                    pipe.to(dtype=self._torch_dtype())
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
        self.streams.start_clip()
        cond = load_conditioning(clip, size=self.size, min_frames=self.window_frames)
        record: dict[str, Any] = {
            "method": self.name,
            "version": self.version,
            "input_frames": cond.input_frames,
            "padded_frames": cond.padded_frames,
            "working_size": list(self.size),
            "input_size": list(cond.source_size),
            "mask_scheme": cond.mask_scheme,
            "device": self.device,
            "rng": {**self.streams.describe(), "clips_before": self._clips_run},
            "notes": list(cond.notes),
        }
        if self.tiny_random:
            record["notes"].append("TINY RANDOM WEIGHTS - NOT A VOID RESULT")
        self._clips_run += 1
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

    def _pass1(self, cond, record) -> tuple[Any, np.ndarray]:
        pipe = self.pipeline(1)
        out = pipe(
            video=cond.video,
            mask=cond.mask,
            prompt=cond.prompt,
            pass_=1,
            num_inference_steps=self.steps,
            guidance_scale=self.guidance,
            generator=self.streams.pass_noise(1),
            noise_aug_generator=self.streams.augmentation(1),
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
