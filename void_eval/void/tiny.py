"""Tiny random-weight components with VOID's architecture, for tests, CPU smoke runs and the benchmark's --tiny.

Same classes and layout as VOID (CogVideoX 1.5 transformer with ``patch_size_t=2``, rotary positions,
``in_channels = 3 x latent``; CogVideoX VAE with spatial factor 8 and temporal factor 4; T5 encoder; DDIM), but a
few channels wide. Their outputs are noise-like pictures: NOT VOID results, only proof the code path runs.

The tokenizer is a word-level ``PreTrainedTokenizerFast`` built in memory (no download).

Examples
--------
>>> pipe = tiny_pipeline(seed=0)
>>> pipe.transformer.config.in_channels, pipe.vae.config.latent_channels
(12, 4)
"""

from __future__ import annotations

import torch

#: Printed wherever tiny random weights produce a video.
TINY_LABEL = "TINY RANDOM WEIGHTS - NOT A VOID RESULT"

#: Defaults of a tiny random-weight run (a CPU smoke run of the whole path in seconds), where a real run takes
#: upstream's (384x672, 30 + 50 steps, bfloat16, 85-frame windows, 480x720 noise canvas, warp grid x8). The
#: 21-frame window keeps the padded clip short and exercises the windowed cross-fade on clips beyond 21 frames.
TINY_DEFAULTS = {
    "size": (32, 48),
    "window_frames": 21,
    "steps": 2,
    "steps2": 2,
    "dtype": "float32",
    "noise_canvas": (48, 72),
    "warp_scale": 2,
}

TINY_LATENT_CHANNELS = 4
TINY_TEXT_LENGTH = 16
TINY_TEXT_DIM = 32
_WORDS = ("a", "the", "street", "scene", "clock", "tower", "sky", "road", "after", "removal", "with", "of", "and")


def tiny_tokenizer():
    """A word-level fast tokenizer (``<pad>`` 0, ``</s>`` 1, ``<unk>`` 2, a few words), built offline."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in _WORDS:
        vocab[word] = len(vocab)
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tiny_text_encoder():
    """A 1-layer T5 encoder with ``d_model = 32``."""
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=32,
        d_model=TINY_TEXT_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=1,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
    )
    return T5EncoderModel(config).eval()


def tiny_vae():
    """CogVideoX VAE: 4 levels (spatial factor 8), temporal factor 4, 4 latent channels, 8-wide blocks."""
    from diffusers import AutoencoderKLCogVideoX

    return AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=TINY_LATENT_CHANNELS,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
        scaling_factor=0.7,
    ).eval()


def tiny_transformer_config(*, latent_channels: int = TINY_LATENT_CHANNELS) -> dict:
    """Config of a 1-layer CogVideoX 1.5 transformer (48 -> here ``3 x latent_channels`` input channels)."""
    return dict(
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=3 * latent_channels,
        out_channels=latent_channels,
        time_embed_dim=8,
        text_embed_dim=TINY_TEXT_DIM,
        num_layers=1,
        sample_width=64,
        sample_height=64,
        sample_frames=85,
        patch_size=2,
        patch_size_t=2,
        temporal_compression_ratio=4,
        max_text_seq_length=TINY_TEXT_LENGTH,
        use_rotary_positional_embeddings=True,
        patch_bias=False,
    )


def tiny_transformer():
    """A tiny ``CogVideoXTransformer3DModel`` with random weights."""
    from diffusers import CogVideoXTransformer3DModel

    return CogVideoXTransformer3DModel(**tiny_transformer_config()).eval()


def tiny_scheduler(kind: str = "ddim"):
    """VOID's scheduler settings (v-prediction, zero-SNR, trailing): ``ddim`` (pass 1) or ``cogvideox-ddim``."""
    from diffusers import CogVideoXDDIMScheduler, DDIMScheduler

    settings = dict(
        beta_schedule="scaled_linear",
        beta_start=0.00085,
        beta_end=0.012,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        timestep_spacing="trailing",
        clip_sample=False,
        set_alpha_to_one=True,
        steps_offset=0,
    )
    if kind == "ddim":
        return DDIMScheduler(**settings)
    if kind == "cogvideox-ddim":
        return CogVideoXDDIMScheduler(**settings, snr_shift_scale=1.0)
    raise ValueError(f"kind must be 'ddim' or 'cogvideox-ddim', got {kind!r}")


def tiny_pipeline(*, seed: int = 0, scheduler: str = "ddim", add_noise_in_inpaint_model: bool = False):
    """A complete tiny :class:`~void_eval.void.pipeline.VoidPipeline` (float32, CPU) seeded by ``seed``."""
    from void_eval.void.pipeline import VoidPipeline

    torch.manual_seed(seed)
    return VoidPipeline(
        tokenizer=tiny_tokenizer(),
        text_encoder=tiny_text_encoder(),
        vae=tiny_vae(),
        transformer=tiny_transformer(),
        scheduler=tiny_scheduler(scheduler),
        add_noise_in_inpaint_model=add_noise_in_inpaint_model,
    )
