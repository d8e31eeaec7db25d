"""Loading VOID from local files only: the base model folder and the VOID transformer weights.

Layout expected (``CogVideoX-Fun-V1.5-5b-InP``, a diffusers-format folder)::

    <base>/transformer/config.json    transformer config (in_channels 33 there; VOID uses 48)
    <base>/vae/                       AutoencoderKLCogVideoX (config.json + weights)
    <base>/text_encoder/              T5EncoderModel
    <base>/tokenizer/                 T5 tokenizer
    <base>/scheduler/scheduler_config.json

and ``void_pass1.safetensors`` / ``void_pass2.safetensors``: raw transformer state dicts saved by upstream's
VideoX-Fun code. Upstream's parameter names are diffusers' names for this architecture (VideoX-Fun copied the
module layout), so :func:`map_upstream_keys` only strips wrapper prefixes (``module.``, ``_orig_mod.``,
``transformer.``) and splits fused ``attn1.to_qkv`` projections into ``to_q``/``to_k``/``to_v``. The load is strict:
a missing, unexpected or mis-shaped key is an :class:`~void_eval.errors.InputError` that names the keys (upstream
loads with ``strict=False`` and silently keeps base weights for anything missing).

Nothing here touches the network: every ``from_pretrained`` call gets a local folder and ``local_files_only``.

Examples
--------
>>> map_upstream_keys({"module.proj_out.weight": 1})
{'proj_out.weight': 1}
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from void_eval.errors import InputError, MissingExtraError

#: Transformer input channels of VOID: 16 noise + 16 VAE-encoded mask + 16 VAE-encoded video.
VOID_IN_CHANNELS = 48
_PREFIXES = ("module.", "_orig_mod.", "transformer.")
_BASE_PARTS = (
    "transformer/config.json",
    "vae/config.json",
    "text_encoder/config.json",
    "tokenizer",
    "scheduler/scheduler_config.json",
)
#: Keys of upstream's transformer config that diffusers' class does not take, with how we honour them.
UPSTREAM_ONLY_CONFIG = ("add_noise_in_inpaint_model",)


def check_base_folder(base: str | Path) -> Path:
    """Check a CogVideoX-Fun base folder has every part VOID needs; raise :class:`InputError` naming what is not."""
    base = Path(base)
    if not base.is_dir():
        raise InputError(base, "base model folder not found (expected a local CogVideoX-Fun-V1.5-5b-InP folder)")
    missing = [part for part in _BASE_PARTS if not (base / part).exists()]
    if missing:
        raise InputError(base, f"base model folder lacks {', '.join(missing)}")
    return base


def check_weights_file(path: str | Path) -> Path:
    """A ``.safetensors`` file that exists; anything else is an :class:`InputError`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "weights file not found")
    if path.suffix != ".safetensors":
        raise InputError(path, "weights must be a .safetensors file (pickled checkpoints are not loaded)")
    return path


def map_upstream_keys(state: dict[str, Any]) -> dict[str, Any]:
    """Upstream (VideoX-Fun) transformer parameter names -> diffusers ``CogVideoXTransformer3DModel`` names."""
    mapped: dict[str, Any] = {}
    for key, value in state.items():
        name = key
        stripped = True
        while stripped:
            stripped = False
            for prefix in _PREFIXES:
                if name.startswith(prefix):
                    name = name[len(prefix) :]
                    stripped = True
        if ".attn1.to_qkv." in name:
            import torch

            q, k, v = torch.chunk(value, 3, dim=0)
            for part, tensor in (("to_q", q), ("to_k", k), ("to_v", v)):
                mapped[name.replace("to_qkv", part)] = tensor
            continue
        if name in mapped:
            raise InputError(key, f"two checkpoint keys map to {name!r}")
        mapped[name] = value
    return mapped


def read_transformer_config(base: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(diffusers config with in_channels = 3 x latent = 48, upstream-only settings)`` from the base config."""
    path = Path(base) / "transformer" / "config.json"
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(path, f"unreadable transformer config ({err})") from err
    from diffusers import CogVideoXTransformer3DModel

    accepted = set(inspect.signature(CogVideoXTransformer3DModel.__init__).parameters) - {"self"}
    extras = {key: raw[key] for key in UPSTREAM_ONLY_CONFIG if key in raw}
    unknown = sorted(k for k in raw if not k.startswith("_") and k not in accepted and k not in UPSTREAM_ONLY_CONFIG)
    if unknown:
        raise InputError(path, f"config keys diffusers' CogVideoXTransformer3DModel does not know: {unknown}")
    config = {k: v for k, v in raw.items() if k in accepted and not k.startswith("_")}
    # VOID's input = noise + VAE-encoded mask + VAE-encoded video, each with the latent (= output) channel count.
    config["in_channels"] = 3 * int(config.get("out_channels") or 16)
    return config, extras


def load_state_dict_strict(model: Any, state: dict[str, Any], *, source: str | Path) -> None:
    """Load ``state`` into ``model`` (assigning tensors) and fail naming missing, unexpected or mis-shaped keys."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k} {tuple(state[k].shape)} != {tuple(expected[k].shape)}"
        for k in set(state) & set(expected)
        if tuple(state[k].shape) != tuple(expected[k].shape)
    )
    problems = []
    for label, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("mis-shaped keys", mismatched)):
        if keys:
            shown = ", ".join(keys[:8]) + (f" (+{len(keys) - 8} more)" if len(keys) > 8 else "")
            problems.append(f"{label}: {shown}")
    if problems:
        raise InputError(source, "; ".join(problems))
    model.load_state_dict(state, strict=True, assign=True)


def load_transformer(base: str | Path, weights: str | Path, *, dtype: Any) -> tuple[Any, dict[str, Any]]:
    """Build the 48-channel transformer from the base config and load VOID weights into it (strict).

    Returns ``(transformer, upstream-only settings)``. The transformer is built on the meta device, so the
    base model's own 33-channel transformer weights are never read.
    """
    import torch
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel
    from safetensors.torch import load_file

    weights = check_weights_file(weights)
    config, extras = read_transformer_config(base)
    with init_empty_weights():
        transformer = CogVideoXTransformer3DModel.from_config(config)
    try:
        state = load_file(str(weights))
    except Exception as err:  # safetensors raises its own error types for corrupt headers
        raise InputError(weights, f"unreadable safetensors file ({err})") from err
    state = {k: v.to(dtype) if torch.is_floating_point(v) else v for k, v in map_upstream_keys(state).items()}
    load_state_dict_strict(transformer, state, source=weights)
    return transformer.eval(), extras


def load_void_pipeline(
    base: str | Path,
    weights: str | Path,
    *,
    pass_: int = 1,
    dtype: Any = None,
):
    """Assemble a :class:`~void_eval.void.pipeline.VoidPipeline` from local files (no network, ever).

    Parameters
    ----------
    base : path
        CogVideoX-Fun-V1.5-5b-InP folder (VAE, T5, tokenizer, scheduler, transformer config).
    weights : path
        ``void_pass1.safetensors`` or ``void_pass2.safetensors``.
    pass_ : {1, 2}, keyword-only
        Scheduler choice as upstream: pass 1 ``DDIMScheduler`` (``DDIM_Origin``), pass 2 ``CogVideoXDDIMScheduler``;
        both read ``<base>/scheduler``.
    dtype : torch.dtype, keyword-only
        Weights dtype (default bfloat16, upstream's).
    """
    import torch
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, DDIMScheduler
    from transformers import AutoTokenizer, T5EncoderModel

    from void_eval.void.pipeline import VoidPipeline

    dtype = torch.bfloat16 if dtype is None else dtype
    base = check_base_folder(base)
    transformer, extras = load_transformer(base, weights, dtype=dtype)
    try:
        vae = AutoencoderKLCogVideoX.from_pretrained(base / "vae", torch_dtype=dtype, local_files_only=True)
        text_encoder = T5EncoderModel.from_pretrained(base / "text_encoder", dtype=dtype, local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(base / "tokenizer", local_files_only=True)
        scheduler_class = DDIMScheduler if pass_ == 1 else CogVideoXDDIMScheduler
        scheduler = scheduler_class.from_pretrained(base / "scheduler", local_files_only=True)
    except ImportError as err:
        raise MissingExtraError(err.name or "sentencepiece", "gpu", f"loading {base} ({err})") from err
    except (OSError, ValueError) as err:
        raise InputError(base, f"cannot load a base component ({err})") from err
    return VoidPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder.eval(),
        vae=vae.eval(),
        transformer=transformer,
        scheduler=scheduler,
        add_noise_in_inpaint_model=bool(extras.get("add_noise_in_inpaint_model", False)),
    )
