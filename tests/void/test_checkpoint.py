"""Local loading: upstream-named safetensors through the key mapping, a tiny base folder, clear errors."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from void_eval.errors import InputError
from void_eval.void.checkpoint import load_transformer, load_void_pipeline, map_upstream_keys, read_transformer_config
from void_eval.void.tiny import (
    tiny_scheduler,
    tiny_text_encoder,
    tiny_tokenizer,
    tiny_transformer,
    tiny_transformer_config,
    tiny_vae,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A CogVideoX-Fun-like base folder with tiny components; its transformer config has the base's 2C+1 inputs."""
    folder = tmp_path_factory.mktemp("base") / "CogVideoX-Fun-tiny"
    config = tiny_transformer_config()
    config.update(in_channels=9, add_noise_in_inpaint_model=True)
    (folder / "transformer").mkdir(parents=True)
    (folder / "transformer" / "config.json").write_text(
        json.dumps({"_class_name": "CogVideoXTransformer3DModel", "_diffusers_version": "0.31.0", **config})
    )
    tiny_vae().save_pretrained(folder / "vae")
    tiny_text_encoder().save_pretrained(folder / "text_encoder")
    tiny_tokenizer().save_pretrained(folder / "tokenizer")
    tiny_scheduler("ddim").save_pretrained(folder / "scheduler")
    return folder


@pytest.fixture(scope="module")
def reference():
    torch.manual_seed(7)
    return tiny_transformer()


def _upstream_named(state, *, wrapped):
    """Write the state dict as upstream would: plain names, or DDP-wrapped with fused QKV (both seen in the wild)."""
    if not wrapped:
        return {k: v.clone().contiguous() for k, v in state.items()}
    out = {}
    for key, value in state.items():
        if ".attn1.to_k." in key or ".attn1.to_v." in key:
            continue
        if ".attn1.to_q." in key:
            parts = [state[key.replace("to_q", name)] for name in ("to_q", "to_k", "to_v")]
            out["module." + key.replace("to_q", "to_qkv")] = torch.cat(parts).contiguous()
            continue
        out["module." + key] = value.clone().contiguous()
    return out


@pytest.mark.parametrize("wrapped", [False, True])
def test_upstream_named_weights_load_exactly(base, reference, tmp_path, wrapped):
    path = tmp_path / "void_pass1.safetensors"
    save_file(_upstream_named(reference.state_dict(), wrapped=wrapped), str(path))
    transformer, extras = load_transformer(base, path, dtype=torch.float32)
    assert transformer.config.in_channels == 12 and extras == {"add_noise_in_inpaint_model": True}
    loaded = transformer.state_dict()
    assert set(loaded) == set(reference.state_dict())
    for key, value in reference.state_dict().items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0, msg=key)


def test_whole_pipeline_loads_from_the_local_folder_per_pass(base, reference, tmp_path):
    path = tmp_path / "void_pass2.safetensors"
    save_file(_upstream_named(reference.state_dict(), wrapped=False), str(path))
    first = load_void_pipeline(base, path, pass_=1, dtype=torch.float32)
    second = load_void_pipeline(base, path, pass_=2, dtype=torch.float32)
    assert type(first.scheduler).__name__ == "DDIMScheduler"
    assert type(second.scheduler).__name__ == "CogVideoXDDIMScheduler"
    assert first.config.add_noise_in_inpaint_model is True
    assert first.tokenizer("a street").input_ids[:2] == tiny_tokenizer()("a street").input_ids[:2]


def test_missing_unexpected_and_misshaped_keys_are_named(base, reference, tmp_path):
    state = _upstream_named(reference.state_dict(), wrapped=False)
    missing = dict(state)
    del missing["proj_out.bias"]
    save_file(missing, str(tmp_path / "missing.safetensors"))
    with pytest.raises(InputError, match="missing keys: proj_out.bias"):
        load_transformer(base, tmp_path / "missing.safetensors", dtype=torch.float32)
    extra = dict(state, **{"patch_embed.pos_embedding": torch.zeros(1, 2)})
    save_file(extra, str(tmp_path / "extra.safetensors"))
    with pytest.raises(InputError, match="unexpected keys: patch_embed.pos_embedding"):
        load_transformer(base, tmp_path / "extra.safetensors", dtype=torch.float32)
    narrow = dict(state, **{"patch_embed.proj.weight": torch.zeros(32, 72)})  # the base's 9-channel patch embed
    save_file(narrow, str(tmp_path / "narrow.safetensors"))
    with pytest.raises(InputError, match=r"mis-shaped keys: patch_embed.proj.weight \(32, 72\) != \(32, 96\)"):
        load_transformer(base, tmp_path / "narrow.safetensors", dtype=torch.float32)


def test_missing_files_are_clear_errors(base, tmp_path):
    with pytest.raises(InputError, match="weights file not found"):
        load_transformer(base, tmp_path / "nope.safetensors", dtype=torch.float32)
    pickled = tmp_path / "void_pass1.pt"
    pickled.write_bytes(b"x")
    with pytest.raises(InputError, match="must be a .safetensors"):
        load_transformer(base, pickled, dtype=torch.float32)
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a safetensors file")
    with pytest.raises(InputError, match="unreadable safetensors"):
        load_transformer(base, corrupt, dtype=torch.float32)
    partial = tmp_path / "partial-base"
    (partial / "vae").mkdir(parents=True)
    with pytest.raises(InputError, match="lacks transformer/config.json"):
        load_void_pipeline(partial, tmp_path / "nope.safetensors")
    with pytest.raises(InputError, match="base model folder not found"):
        load_void_pipeline(tmp_path / "absent", tmp_path / "nope.safetensors")


def test_config_reading_and_key_mapping_details(base):
    config, extras = read_transformer_config(base)
    assert extras == {"add_noise_in_inpaint_model": True}
    assert config["in_channels"] == 3 * config["out_channels"] and "_class_name" not in config
    assert map_upstream_keys({"_orig_mod.module.norm_final.weight": 1}) == {"norm_final.weight": 1}
    with pytest.raises(InputError, match="two checkpoint keys"):
        map_upstream_keys({"module.proj_out.bias": 1, "proj_out.bias": 2})


def test_full_size_config_gives_voids_48_channel_patch_embedding(tmp_path):
    """The CogVideoX-Fun-V1.5-5b-InP transformer config (33 input channels) becomes VOID's 48 (Linear 384 -> 3072)."""
    from accelerate import init_empty_weights
    from diffusers import CogVideoXTransformer3DModel

    config = dict(
        _class_name="CogVideoXTransformer3DModel",
        activation_fn="gelu-approximate",
        add_noise_in_inpaint_model=True,
        attention_bias=True,
        attention_head_dim=64,
        dropout=0.0,
        flip_sin_to_cos=True,
        freq_shift=0,
        in_channels=33,
        max_text_seq_length=226,
        norm_elementwise_affine=True,
        norm_eps=1e-5,
        num_attention_heads=48,
        num_layers=42,
        out_channels=16,
        patch_bias=False,
        patch_size=2,
        patch_size_t=2,
        sample_frames=81,
        sample_height=300,
        sample_width=300,
        spatial_interpolation_scale=1.875,
        temporal_compression_ratio=4,
        temporal_interpolation_scale=1.0,
        text_embed_dim=4096,
        time_embed_dim=512,
        timestep_activation_fn="silu",
        use_learned_positional_embeddings=False,
        use_rotary_positional_embeddings=True,
    )
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text(json.dumps(config))
    resolved, extras = read_transformer_config(tmp_path)
    with init_empty_weights():
        model = CogVideoXTransformer3DModel.from_config(resolved)
    assert resolved["in_channels"] == 48 and extras == {"add_noise_in_inpaint_model": True}
    assert (model.patch_embed.proj.in_features, model.patch_embed.proj.out_features) == (384, 3072)
    (tmp_path / "transformer" / "config.json").write_text(json.dumps({**config, "warp_drive": 1}))
    with pytest.raises(InputError, match="warp_drive"):
        read_transformer_config(tmp_path)


def test_pass2_method_loads_local_files_and_shares_text_encoder_and_vae(base, reference, tmp_path, bigben_tiny):
    import hashlib

    from void_eval.clip import Clip
    from void_eval.video import probe
    from void_eval.void.passes import VoidPass2Method

    paths = []
    for number in (1, 2):
        path = tmp_path / f"void_pass{number}.safetensors"
        save_file(_upstream_named(reference.state_dict(), wrapped=number == 2), str(path))
        paths.append(path)
    method = VoidPass2Method(
        base=base,
        pass1=paths[0],
        pass2=paths[1],
        device="cpu",
        memory_mode="gpu",
        dtype="float32",
        size=(16, 32),
        steps=1,
        steps2=1,
        window_frames=21,
        noise_canvas=(32, 48),
        warp_scale=2,
    )
    out = method.run(Clip.load(bigben_tiny), tmp_path / "out.mp4")
    assert probe(out).frames == 10 and method.version == "2"
    first, second = method.pipeline(1), method.pipeline(2)
    assert first.text_encoder is second.text_encoder and first.vae is second.vae
    assert first.transformer is not second.transformer
    assert type(second.scheduler).__name__ == "CogVideoXDDIMScheduler"
    expected = "+".join(hashlib.sha256(path.read_bytes()).hexdigest() for path in paths)
    assert method.weights_sha256 == expected
