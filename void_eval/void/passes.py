"""The registered VOID methods: ``void-pass1`` (pass 1 alone) and ``void-pass2`` (pass 1, then the warped-noise
refinement pass), over the shared machinery of :class:`void_eval.void.method.VoidMethod`.

Examples
--------
>>> method = VoidPass2Method(tiny_random=True, device="cpu")
>>> method.name, method.passes, method.pass2_noise
('void-pass2', (1, 2), 'upstream')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from void_eval.void.method import PASS2_NOISES, VoidMethod, frames_to_uint8
from void_eval.void.noise_warp import TORCH_DEFAULT_SEED


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
    ``negative_prompt`` (``""``), ``pass2_noise`` (``upstream``: Go-with-the-Flow noise on upstream's path;
    ``gaussian``: plain noise from the pass-2 generator, an ablation), ``raft_weights`` (local torchvision
    ``raft_large`` weights: RAFT flow as upstream; otherwise OpenCV DIS), ``warp_scale`` (8), ``warp_seed`` (torch's
    default seed, as upstream's unseeded helper process), ``noise_canvas`` ((480, 720)).
    """

    name = "void-pass2"
    version = "2"
    description = "Netflix VOID pass 1 + warped-noise refinement pass 2, diffusers, local weights"
    passes = (1, 2)

    def __init__(
        self,
        *,
        steps2: int | None = None,
        guidance2: float = 6.0,
        negative_prompt: str = "",
        pass2_noise: str = "upstream",
        raft_weights: str | Path | None = None,
        warp_scale: int | None = None,
        warp_seed: int = TORCH_DEFAULT_SEED,
        noise_canvas: tuple[int, int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.steps2 = int(self.defaults["steps2"] if steps2 is None else steps2)
        self.warp_scale = int(self.defaults["warp_scale"] if warp_scale is None else warp_scale)
        canvas = self.defaults["noise_canvas"] if noise_canvas is None else noise_canvas
        self.noise_canvas = (int(canvas[0]), int(canvas[1]))
        if self.steps2 < 1:
            raise ValueError(f"steps2 must be >= 1, got {self.steps2}")
        if pass2_noise not in PASS2_NOISES:
            raise ValueError(f"pass2_noise must be one of {PASS2_NOISES}, got {pass2_noise!r}")
        if self.warp_scale < 2 or self.warp_scale % 2:
            raise ValueError(f"warp_scale must be even and >= 2, got {self.warp_scale}")
        if min(self.noise_canvas) < 8 or self.noise_canvas[0] % 8 or self.noise_canvas[1] % 8:
            raise ValueError(f"noise_canvas must be multiples of 8, got {self.noise_canvas}")
        self.guidance2 = float(guidance2)
        self.negative_prompt = negative_prompt
        self.pass2_noise = pass2_noise
        self.warp_seed = int(warp_seed)
        self.raft_weights = Path(raft_weights) if raft_weights is not None else None
        self.flow = None
        if pass2_noise == "upstream":
            from void_eval.metrics.flow import get_flow_provider

            if self.raft_weights is not None:
                self.flow = get_flow_provider("raft", weights=self.raft_weights, device=self.device)
            else:
                self.flow = get_flow_provider("dis")

    def _extra_params(self) -> dict[str, Any]:
        return {
            "steps2": self.steps2,
            "guidance2": self.guidance2,
            "negative_prompt": self.negative_prompt,
            "pass2_noise": self.pass2_noise,
            "flow": self.flow.name if self.flow is not None else None,
            "raft_weights": str(self.raft_weights) if self.raft_weights else None,
            "warp_scale": self.warp_scale,
            "warp_seed": self.warp_seed,
            "noise_canvas": list(self.noise_canvas),
        }

    def _pass2_latents(self, first: np.ndarray, pipe) -> tuple[Any, dict[str, Any]]:
        """Pass 2's starting noise ``(1, F, C, h, w)`` (None: drawn by the pipeline) and its record."""
        import torch

        from void_eval.void.pass2_noise import upstream_warped_noise

        if self.pass2_noise == "gaussian":
            return None, {"scheme": "gaussian", "source": "pass-2 generator", "seed": self.seed}
        scale = pipe.vae_scale_factor_spatial
        warped = upstream_warped_noise(
            first,
            latent_size=(self.size[0] // scale, self.size[1] // scale),
            channels=pipe.vae.config.latent_channels,
            flow=self.flow,
            warp_scale=self.warp_scale,
            seed=self.warp_seed,
            device=self.device,
            canvas=self.noise_canvas,
        )
        return torch.from_numpy(warped.latents)[None], warped.record

    def _generate(self, cond, record) -> np.ndarray:
        _, first = self._pass1(cond, record)
        pipe = self.pipeline(2)
        latents, noise_record = self._pass2_latents(first, pipe)
        out = pipe(
            video=cond.video,
            mask=cond.mask,
            prompt=cond.prompt,
            pass_=2,
            negative_prompt=self.negative_prompt,
            num_inference_steps=self.steps2,
            guidance_scale=self.guidance2,
            generator=self.streams.pass_noise(2),
            noise_aug_generator=self.streams.augmentation(2),
            latents=latents,
            window_frames=self.window_frames,
            progress=False,
        )
        record["pass2"] = {
            "steps": self.steps2,
            "guidance": self.guidance2,
            "negative_prompt": self.negative_prompt,
            "scheduler": type(pipe.scheduler).__name__,
            "noise": noise_record,
        }
        return frames_to_uint8(out.frames)
