"""``VoidPipeline``: VOID's quadmask-conditioned CogVideoX-Fun inpainting as a diffusers ``DiffusionPipeline``.

Built on diffusers' own ``CogVideoXTransformer3DModel`` (with ``in_channels = 3 x latent channels``, 48 for VOID),
``AutoencoderKLCogVideoX``, a T5 encoder/tokenizer and a DDIM scheduler. It reproduces upstream's
``CogVideoXFunInpaintPipeline`` as VOID calls it (``use_vae_mask=True``, ``zero_out_mask_region=False``):

- text: T5 embeddings of the prompt (``max_sequence_length`` = the transformer's ``max_text_seq_length``, 226);
  with guidance > 1 the negative prompt's embeddings come first in the batch (``[negative, positive]``).
- noise: ``randn((B, F, C, h/8, w/8))`` from the generator (or the given ``latents``, e.g. pass 2's warped noise),
  times the scheduler's ``init_noise_sigma``; ``F = (L - 1) / 4 + 1``.
- mask condition: snap the model-view mask per pass, ``1 - snapped`` tiled to 3 channels, VAE ``mode()`` x scaling.
- video condition: the FULL video in ``[-1, 1]`` (the object stays visible), optionally noise-augmented
  (``add_noise_in_inpaint_model``), VAE ``mode()`` x scaling.
- transformer input per step: ``cat([noisy latents, mask latents, video latents], dim=channels)`` — upstream's
  order (its transformer concatenates ``hidden_states`` then ``inpaint_latents = [mask, video]``).
- beyond 22 latent frames: windowed denoising with upstream's cross-fade (:mod:`void_eval.void.windows`).
- decode: ``latents / scaling`` -> VAE -> ``(x / 2 + 0.5).clamp(0, 1)``.

Runs with tiny random weights (:mod:`void_eval.void.tiny`) exercise the code path only: they are NOT VOID results.

Examples
--------
>>> from void_eval.void.tiny import tiny_pipeline
>>> import torch
>>> pipe = tiny_pipeline(seed=0)
>>> video = torch.rand(1, 3, 13, 32, 32); mask = torch.zeros(1, 1, 13, 32, 32)
>>> out = pipe(video=video, mask=mask, prompt="a street", pass_=1, num_inference_steps=2,
...            generator=torch.Generator().manual_seed(0), progress=False)
>>> tuple(out.frames.shape)
(1, 3, 13, 32, 32)
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal

import torch
from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
from diffusers.models.embeddings import get_3d_rotary_pos_embed
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.utils import BaseOutput
from diffusers.utils.torch_utils import randn_tensor

from void_eval.void.conditioning import snap_mask
from void_eval.void.windows import latent_windows

MemoryMode = Literal["gpu", "model-offload", "sequential-offload"]
MEMORY_MODES: tuple[str, ...] = ("gpu", "model-offload", "sequential-offload")
#: Upstream's noise augmentation of the video condition when the transformer config asks for it.
NOISE_AUG_STRENGTH = 0.0563


@dataclass
class VoidPipelineOutput(BaseOutput):
    """``frames``: ``(B, 3, L, h, w)`` float32 in ``[0, 1]`` (padded length); ``latents``: final latents."""

    frames: torch.Tensor
    latents: torch.Tensor


def _upsample_every_frame(module: torch.nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """A CogVideoX 3D up-sampler in upstream's "rest frame" mode: time and space x2 (nearest) for any count."""
    import torch.nn.functional as F

    inputs = F.interpolate(inputs, scale_factor=2.0)
    b, c, t, h, w = inputs.shape
    out = module.conv(inputs.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))
    return out.reshape(b, t, *out.shape[1:]).permute(0, 2, 1, 3, 4)


@contextmanager
def _every_frame_upsampling(vae: torch.nn.Module):
    from diffusers.models.upsampling import CogVideoXUpsample3D

    patched = [m for m in vae.modules() if isinstance(m, CogVideoXUpsample3D) and m.compress_time]
    try:
        for module in patched:
            module.forward = partial(_upsample_every_frame, module)
        yield
    finally:
        for module in patched:
            del module.forward


def upstream_layout_noise(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """N(0, 1) noise of ``shape`` ``(B, C, F, H, W)`` drawn as upstream's ``torch.randn_like(video)`` draws it.

    Upstream's video is a ``(B, C, F, H, W)`` view of a ``(B F) C H W`` batch, so ``randn_like`` fills that strided
    layout element by element (torch's non-contiguous path), not a contiguous block: the same draw needs the same
    layout. CPU only, as upstream's video tensor.
    """
    b, c, f, h, w = shape
    return torch.empty((b, f, c, h, w)).permute(0, 2, 1, 3, 4).normal_(generator=generator)


def transformer_max_size(config: Any, spatial_factor: int = 8) -> tuple[int, int]:
    """Largest ``(height, width)`` in pixels whose patch grid fits ``config``'s rotary table (sample size / patch).

    Examples
    --------
    >>> transformer_max_size({"sample_height": 300, "sample_width": 300, "patch_size": 2})
    (2400, 2400)
    """
    get = config.get if isinstance(config, dict) else lambda key: getattr(config, key)
    patch = int(get("patch_size"))
    step = spatial_factor * patch
    return (int(get("sample_height")) // patch * step, int(get("sample_width")) // patch * step)


def decode_first_then_pairs(vae: AutoencoderKLCogVideoX, latents: torch.Tensor) -> torch.Tensor:
    """Decode ``(1, C, F, h, w)`` scaled-back latents in upstream's layout: latent 0 alone, then pairs.

    Returns ``(1, 3, 4(F-1)+1, H, W)`` in the VAE's ``[-1, 1]`` range.
    """
    count = latents.shape[2]
    spans = [(0, 1)] + [(start, min(start + 2, count)) for start in range(1, count, 2)]
    cache = None
    parts = []
    for start, stop in spans:
        chunk = latents[:, :, start:stop]
        if vae.post_quant_conv is not None:
            chunk = vae.post_quant_conv(chunk)
        if start > 0 and stop - start == 1:
            with _every_frame_upsampling(vae):
                decoded, cache = vae.decoder(chunk, conv_cache=cache)
        else:
            decoded, cache = vae.decoder(chunk, conv_cache=cache)
        parts.append(decoded)
    return torch.cat(parts, dim=2)


class VoidPipeline(DiffusionPipeline):
    """VOID pass 1 / pass 2 sampler.

    Parameters
    ----------
    tokenizer, text_encoder
        T5 tokenizer and encoder (``T5EncoderModel``).
    vae : AutoencoderKLCogVideoX
        CogVideoX VAE (spatial factor 8, temporal factor 4).
    transformer : CogVideoXTransformer3DModel
        ``in_channels = 3 * vae latent channels`` (noise, mask, video), CogVideoX 1.5 layout (``patch_size_t=2``).
    scheduler
        ``DDIMScheduler`` (upstream pass 1, ``DDIM_Origin``) or ``CogVideoXDDIMScheduler`` (upstream pass 2).
    add_noise_in_inpaint_model : bool
        Upstream's transformer-config flag: add N(0, 0.0563^2) noise to the video condition before encoding.
    """

    model_cpu_offload_seq = "text_encoder->transformer->vae"
    _optional_components: ClassVar[list[str]] = []

    def __init__(
        self,
        tokenizer: Any,
        text_encoder: Any,
        vae: AutoencoderKLCogVideoX,
        transformer: CogVideoXTransformer3DModel,
        scheduler: Any,
        add_noise_in_inpaint_model: bool = False,
    ) -> None:
        super().__init__()
        self.register_modules(
            tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer, scheduler=scheduler
        )
        self.register_to_config(add_noise_in_inpaint_model=bool(add_noise_in_inpaint_model))
        latent = vae.config.latent_channels
        if transformer.config.in_channels != 3 * latent:
            raise ValueError(
                f"transformer in_channels {transformer.config.in_channels} != 3 x VAE latent channels {latent} "
                "(noise + VAE-encoded mask + VAE-encoded video)"
            )
        if transformer.config.out_channels != latent:
            raise ValueError(f"transformer out_channels {transformer.config.out_channels} != latent channels {latent}")
        self.vae_scale_factor_spatial = 2 ** (len(vae.config.block_out_channels) - 1)
        self.vae_scale_factor_temporal = vae.config.temporal_compression_ratio

    # ------------------------------------------------------------------ text
    def encode_text(self, prompt: list[str], *, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """T5 embeddings ``(B, max_text_seq_length, D)`` of ``prompt`` padded to the transformer's text length."""
        length = self.transformer.config.max_text_seq_length
        tokens = self.tokenizer(
            prompt,
            padding="max_length",
            max_length=length,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        )
        embeds = self.text_encoder(tokens.input_ids.to(device))[0]
        return embeds.to(device=device, dtype=dtype)

    # ------------------------------------------------------------------ VAE
    def _encode_mode(self, pixels: torch.Tensor) -> torch.Tensor:
        """VAE ``mode()`` of ``(B, 3, L, H, W)`` pixels, times the scaling factor, one sample at a time."""
        pixels = pixels.to(device=self._execution_device, dtype=self.vae.dtype)
        latents = [self.vae.encode(pixels[i : i + 1]).latent_dist.mode() for i in range(len(pixels))]
        return torch.cat(latents) * self.vae.config.scaling_factor

    def prepare_condition(
        self,
        video: torch.Tensor,
        mask: torch.Tensor,
        *,
        pass_: Literal[1, 2],
        generator: torch.Generator | None,
        augmentation: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The inpaint condition ``(B, F, 2C, h, w)``: ``[mask latents, video latents]`` along channels.

        ``video`` is ``(B, 3, L, H, W)`` in ``[0, 1]``; ``mask`` is ``(B, 1, L, H, W)`` model view (1 = remove).
        The video's noise augmentation (when the config asks for it) comes from ``augmentation``, a CPU generator
        drawn on the CPU video as upstream's ``torch.randn_like`` draws; without one, from ``generator`` on the
        execution device.
        """
        snapped = snap_mask(mask.float(), pass_=pass_)
        mask_pixels = (1.0 - snapped).repeat(1, 3, 1, 1, 1)
        mask_latents = self._encode_mode(mask_pixels)
        if augmentation is not None:
            video_pixels = video.to(device="cpu", dtype=torch.float32) * 2.0 - 1.0
            source, device = augmentation, torch.device("cpu")
        else:
            video_pixels = video.to(device=self._execution_device, dtype=torch.float32) * 2.0 - 1.0
            source, device = generator, video_pixels.device
        if self.config.add_noise_in_inpaint_model:
            if augmentation is not None:
                noise = upstream_layout_noise(video_pixels.shape, augmentation)
            else:
                noise = randn_tensor(video_pixels.shape, generator=source, device=device)
            noise = noise * NOISE_AUG_STRENGTH
            video_pixels = video_pixels + torch.where(video_pixels == -1, torch.zeros_like(noise), noise)
        video_latents = self._encode_mode(video_pixels)
        # (B, C, F, h, w) -> (B, F, C, h, w), mask first then video
        return torch.cat([mask_latents, video_latents], dim=1).permute(0, 2, 1, 3, 4)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, F, C, h, w)`` -> frames ``(B, 3, 4(F-1)+1, H, W)`` float32 in ``[0, 1]``.

        Upstream's vendored VAE decodes the first latent alone (1 frame) and the rest two latents at a time with
        temporal up-sampling on every frame (a lone last latent gives 4 frames): 22 latents -> 85 frames.
        diffusers' ``vae.decode`` batches differently and returns 88 frames for 22 latents, shifted by 3 frames,
        so the decoder is driven here in upstream's layout (:func:`decode_first_then_pairs`).
        """
        latents = latents.permute(0, 2, 1, 3, 4).to(self.vae.dtype) / self.vae.config.scaling_factor
        hook = getattr(self.vae, "_hf_hook", None)
        if hook is not None:
            hook.pre_forward(self.vae)
        frames = torch.cat([decode_first_then_pairs(self.vae, latents[i : i + 1]) for i in range(len(latents))])
        return (frames / 2 + 0.5).clamp(0, 1).float().cpu()

    # ------------------------------------------------------------------ positions
    @property
    def max_size(self) -> tuple[int, int]:
        """Largest working ``(height, width)`` the transformer's rotary grid covers (its ``sample_height/width``)."""
        return transformer_max_size(self.transformer.config, self.vae_scale_factor_spatial)

    def rotary_embedding(self, latent_frames: int, height: int, width: int, device: torch.device):
        """CogVideoX 1.5 3D RoPE (``grid_type="slice"``) for a window of ``latent_frames`` latents."""
        config = self.transformer.config
        if not config.use_rotary_positional_embeddings:
            return None
        p = config.patch_size
        p_t = config.patch_size_t or 1
        grid_h = height // (self.vae_scale_factor_spatial * p)
        grid_w = width // (self.vae_scale_factor_spatial * p)
        cos, sin = get_3d_rotary_pos_embed(
            embed_dim=config.attention_head_dim,
            crops_coords=None,
            grid_size=(grid_h, grid_w),
            temporal_size=(latent_frames + p_t - 1) // p_t,
            grid_type="slice",
            max_size=(config.sample_height // p, config.sample_width // p),
            device=device,
        )
        return cos, sin

    # ------------------------------------------------------------------ memory
    def apply_memory_mode(self, mode: MemoryMode, *, device: str | torch.device = "cuda") -> None:
        """``gpu``: everything on ``device``; ``model-offload``: one model at a time on the GPU (accelerate hooks);
        ``sequential-offload``: layer by layer (least VRAM, slowest). Upstream's modes, same names as diffusers'."""
        if mode == "gpu":
            self.to(device)
        elif mode == "model-offload":
            self.enable_model_cpu_offload(device=device)
        elif mode == "sequential-offload":
            self.enable_sequential_cpu_offload(device=device)
        else:
            raise ValueError(f"memory mode must be one of {MEMORY_MODES}, got {mode!r}")

    def store_transformer_fp8(self, *, compute_dtype: torch.dtype = torch.bfloat16) -> None:
        """Keep the transformer's weights in float8 (e4m3) and upcast each layer to ``compute_dtype`` when it runs
        (upstream's ``model_cpu_offload_and_qfloat8`` idea, via diffusers' layerwise casting)."""
        self.transformer.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=compute_dtype)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def __call__(
        self,
        *,
        video: torch.Tensor,
        mask: torch.Tensor,
        prompt: str | list[str] | None = None,
        pass_: Literal[1, 2] = 1,
        negative_prompt: str | list[str] | None = None,
        prompt_embeds: torch.Tensor | None = None,
        negative_prompt_embeds: torch.Tensor | None = None,
        num_inference_steps: int = 30,
        guidance_scale: float = 1.0,
        generator: torch.Generator | None = None,
        noise_aug_generator: torch.Generator | None = None,
        latents: torch.Tensor | None = None,
        window_frames: int = 85,
        overlap_frames: int = 16,
        eta: float = 0.0,
        output_type: Literal["pt", "latent"] = "pt",
        progress: bool = True,
    ) -> VoidPipelineOutput:
        """Denoise one clip.

        Parameters
        ----------
        video : torch.Tensor
            ``(B, 3, L, H, W)`` in ``[0, 1]``, ``L = 4k + 1`` with k odd, H and W multiples of 16.
        mask : torch.Tensor
            ``(B, 1, L, H, W)`` model view in ``[0, 1]`` (1 = remove), unsnapped (:func:`snap_mask` runs here).
        prompt, negative_prompt : str or list of str
            Text; or pass ``prompt_embeds`` / ``negative_prompt_embeds``. The negative prompt is used only when
            ``guidance_scale > 1`` (default ``""``).
        pass_ : {1, 2}
            Mask snapping: pass 1 three levels, pass 2 binary.
        num_inference_steps, guidance_scale : int, float
            Upstream pass 1: 30, 1.0; pass 2: 50, 6.0.
        generator : torch.Generator
            Seeds the initial noise (and the video-condition noise augmentation when enabled, unless
            ``noise_aug_generator`` is given).
        noise_aug_generator : torch.Generator, optional
            CPU generator of the video-condition noise augmentation, drawn on the CPU as upstream draws it (see
            :mod:`void_eval.void.seeding`).
        latents : torch.Tensor, optional
            Initial noise ``(B, F, C, H/8, W/8)`` instead of drawing it (pass 2's warped noise).
        window_frames, overlap_frames : int
            Temporal window (85 frames = 22 latents) and cross-fade (16 frames = 4 latents).
        eta : float
            DDIM eta (0, deterministic).
        output_type : {"pt", "latent"}
            ``pt`` decodes to frames.
        """
        if video.ndim != 5 or video.shape[1] != 3:
            raise ValueError(f"video must be (B, 3, L, H, W), got {tuple(video.shape)}")
        batch, _, length, height, width = video.shape
        if tuple(mask.shape) != (batch, 1, length, height, width):
            raise ValueError(f"mask must be {(batch, 1, length, height, width)}, got {tuple(mask.shape)}")
        step = self.vae_scale_factor_spatial * self.transformer.config.patch_size
        if height % step or width % step:
            raise ValueError(f"height and width must be multiples of {step}, got {height}x{width}")
        limit = self.max_size
        if height > limit[0] or width > limit[1]:
            raise ValueError(f"{height}x{width} exceeds the largest size this transformer takes, {limit[0]}x{limit[1]}")
        compression = self.vae_scale_factor_temporal
        latent_frames = (length - 1) // compression + 1
        p_t = self.transformer.config.patch_size_t or 1
        if (length - 1) % compression or latent_frames % p_t:
            raise ValueError(f"frame count must be 4k+1 with k odd (even latent count), got {length}; pad first")
        if (window_frames - 1) % compression or overlap_frames % compression:
            raise ValueError("window_frames must be 4k+1 and overlap_frames a multiple of 4")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        device = self._execution_device
        do_cfg = guidance_scale > 1.0
        dtype = self.transformer.dtype if self.transformer.dtype != torch.float8_e4m3fn else torch.bfloat16

        # 1. text
        if prompt_embeds is None:
            if prompt is None:
                raise ValueError("give prompt or prompt_embeds")
            prompts = [prompt] * batch if isinstance(prompt, str) else list(prompt)
            prompt_embeds = self.encode_text(prompts, device=device, dtype=dtype)
        prompt_embeds = prompt_embeds.to(device=device, dtype=dtype)
        if do_cfg:
            if negative_prompt_embeds is None:
                negative = negative_prompt or ""
                negatives = [negative] * batch if isinstance(negative, str) else list(negative)
                negative_prompt_embeds = self.encode_text(negatives, device=device, dtype=dtype)
            prompt_embeds = torch.cat([negative_prompt_embeds.to(device=device, dtype=dtype), prompt_embeds])

        # 2. timesteps and noise
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        timesteps = self.scheduler.timesteps
        channels = self.vae.config.latent_channels
        shape = (
            batch,
            latent_frames,
            channels,
            height // self.vae_scale_factor_spatial,
            width // self.vae_scale_factor_spatial,
        )
        if latents is None:
            latents = randn_tensor(shape, generator=generator, device=device, dtype=dtype)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents must be {shape}, got {tuple(latents.shape)}")
        latents = latents.to(device=device, dtype=dtype) * self.scheduler.init_noise_sigma

        # 3. condition (encoded once for the whole clip)
        condition = self.prepare_condition(
            video, mask, pass_=pass_, generator=generator, augmentation=noise_aug_generator
        ).to(device, dtype)
        if do_cfg:
            condition = torch.cat([condition] * 2)

        # 4. denoise
        windows = latent_windows(
            latent_frames, window=(window_frames - 1) // compression + 1, overlap=overlap_frames // compression
        )
        step_kwargs = {}
        step_params = set(inspect.signature(self.scheduler.step).parameters)
        if "eta" in step_params:
            step_kwargs["eta"] = eta
        if "generator" in step_params:
            step_kwargs["generator"] = generator
        rotary = {}
        self.set_progress_bar_config(disable=not progress)
        with self.progress_bar(total=len(timesteps)) as bar:
            for t in timesteps:
                if len(windows) == 1:
                    latents = self._denoise_window(
                        latents, condition, prompt_embeds, t, guidance_scale, do_cfg, height, width, rotary, step_kwargs
                    )
                else:
                    canvas = torch.zeros_like(latents, dtype=torch.float32)
                    total = torch.zeros(1, latent_frames, 1, 1, 1, device=device)
                    for item in windows:
                        part = self._denoise_window(
                            latents[:, item.start : item.stop],
                            condition[:, item.start : item.stop],
                            prompt_embeds,
                            t,
                            guidance_scale,
                            do_cfg,
                            height,
                            width,
                            rotary,
                            step_kwargs,
                        )
                        weight = torch.as_tensor(item.weights, device=device).to(latents.dtype).view(1, -1, 1, 1, 1)
                        canvas[:, item.start : item.stop] += part * weight
                        total[:, item.start : item.stop] += weight
                    latents = (canvas / total).to(latents.dtype)
                bar.update()

        frames = latents if output_type == "latent" else self.decode(latents)
        self.maybe_free_model_hooks()
        return VoidPipelineOutput(frames=frames, latents=latents)

    def _denoise_window(
        self, latents, condition, prompt_embeds, t, guidance_scale, do_cfg, height, width, rotary, step_kwargs
    ):
        frames = latents.shape[1]
        if frames not in rotary:
            rotary[frames] = self.rotary_embedding(frames, height, width, latents.device)
        model_input = torch.cat([latents] * 2) if do_cfg else latents
        model_input = self.scheduler.scale_model_input(model_input, t)
        hidden = torch.cat([model_input, condition], dim=2)
        noise_pred = self.transformer(
            hidden_states=hidden,
            encoder_hidden_states=prompt_embeds,
            timestep=t.expand(hidden.shape[0]),
            image_rotary_emb=rotary[frames],
            return_dict=False,
        )[0].float()
        if do_cfg:
            uncond, text = noise_pred.chunk(2)
            noise_pred = uncond + guidance_scale * (text - uncond)
        out = self.scheduler.step(noise_pred, t, latents, **step_kwargs, return_dict=False)[0]
        return out.to(prompt_embeds.dtype)
