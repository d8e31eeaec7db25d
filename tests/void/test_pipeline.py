"""VoidPipeline on tiny random weights: windows and cross-fade, decode layout, seeds, CFG, fp8, input checks.
(Tiny random-weight outputs are not VOID results; these tests check the code path.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from void_eval.void.pipeline import decode_first_then_pairs
from void_eval.void.tiny import tiny_pipeline


@pytest.fixture(scope="module")
def pipe():
    return tiny_pipeline(seed=0)


def _inputs(frames, seed=0, size=(16, 32)):
    generator = torch.Generator().manual_seed(seed)
    video = torch.rand(1, 3, frames, *size, generator=generator)
    mask = (torch.rand(1, 1, frames, *size, generator=generator) > 0.7).float()
    return video, mask


def _run(pipe, video, mask, seed=42, **kwargs):
    options = dict(prompt="a street", pass_=1, num_inference_steps=1, progress=False, output_type="latent")
    options.update(kwargs)
    return pipe(video=video, mask=mask, generator=torch.Generator().manual_seed(seed), **options)


def test_windowed_denoising_blends_windows_with_the_cross_fade(pipe, monkeypatch):
    video, mask = _inputs(29)  # 8 latent frames; window 21 frames = 6 latents, cross-fade 8 frames = 2 latents
    parts = []
    original = pipe._denoise_window

    def spy(latents, *args):
        out = original(latents, *args)
        parts.append((latents.shape[1], out.clone()))
        return out

    monkeypatch.setattr(pipe, "_denoise_window", spy)
    result = _run(pipe, video, mask, window_frames=21, overlap_frames=8).latents
    assert [count for count, _ in parts] == [6, 4]  # windows [0, 6) and [4, 8)
    first, second = parts[0][1], parts[1][1]
    w1 = torch.tensor([1, 1, 1, 1, 2 / 3, 1 / 3]).view(1, -1, 1, 1, 1)
    w2 = torch.tensor([1 / 3, 2 / 3, 1, 1]).view(1, -1, 1, 1, 1)
    expected = torch.zeros_like(result)
    expected[:, :6] += first * w1
    expected[:, 4:] += second * w2
    torch.testing.assert_close(result, expected)
    torch.testing.assert_close(result[:, :4], first[:, :4])
    torch.testing.assert_close(result[:, 6:], second[:, 2:])


def test_same_seed_same_output_other_seed_other_output(pipe):
    video, mask = _inputs(5)
    a = _run(pipe, video, mask, seed=42).latents
    b = _run(pipe, video, mask, seed=42).latents
    c = _run(pipe, video, mask, seed=43).latents
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.allclose(a, c)


def test_guidance_above_one_runs_negative_then_positive(pipe):
    video, mask = _inputs(5)
    seen = []
    handle = pipe.transformer.register_forward_pre_hook(
        lambda m, a, k: seen.append(k["encoder_hidden_states"].clone()), with_kwargs=True
    )
    try:
        _run(pipe, video, mask, guidance_scale=6.0, negative_prompt="", pass_=2)
        _run(pipe, video, mask, guidance_scale=1.0)
    finally:
        handle.remove()
    with torch.no_grad():
        empty = pipe.encode_text([""], device=torch.device("cpu"), dtype=torch.float32)
        prompt = pipe.encode_text(["a street"], device=torch.device("cpu"), dtype=torch.float32)
    assert seen[0].shape[0] == 2 and seen[1].shape[0] == 1
    torch.testing.assert_close(seen[0][0], empty[0])
    torch.testing.assert_close(seen[0][1], prompt[0])


def test_decode_keeps_upstreams_frame_count_and_causality(pipe):
    for latents_count, frames in ((4, 13), (3, 9)):
        latents = torch.randn(1, 4, latents_count, 2, 4, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            out = decode_first_then_pairs(pipe.vae, latents)
            changed = latents.clone()
            changed[:, :, -1] += 3.0
            out_changed = decode_first_then_pairs(pipe.vae, changed)
        assert out.shape == (1, 3, frames, 16, 32)
        torch.testing.assert_close(out[:, :, 0], out_changed[:, :, 0])  # frame 0 comes from latent 0 alone
        assert not torch.allclose(out[:, :, -1], out_changed[:, :, -1])


def test_full_output_has_the_padded_length_in_zero_one(pipe):
    video, mask = _inputs(13)
    out = _run(pipe, video, mask, output_type="pt")
    assert out.frames.shape == (1, 3, 13, 16, 32)
    assert float(out.frames.min()) >= 0 and float(out.frames.max()) <= 1


def test_fp8_weight_storage_runs_and_stores_float8():
    pipe = tiny_pipeline(seed=0)
    pipe.store_transformer_fp8(compute_dtype=torch.float32)
    assert pipe.transformer.transformer_blocks[0].attn1.to_q.weight.dtype == torch.float8_e4m3fn
    video, mask = _inputs(5)
    out = _run(pipe, video, mask).latents
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("frames", "size", "message"),
    [(9, (16, 32), "4k\\+1 with k odd"), (5, (24, 32), "multiples of 16")],
)
def test_bad_inputs_are_refused(pipe, frames, size, message):
    video, mask = _inputs(frames, size=size)
    with pytest.raises(ValueError, match=message):
        _run(pipe, video, mask)


def test_mask_shape_and_latent_shape_are_checked(pipe):
    video, mask = _inputs(5)
    with pytest.raises(ValueError, match="mask must be"):
        _run(pipe, video, mask[:, :, :4])
    with pytest.raises(ValueError, match="latents must be"):
        _run(pipe, video, mask, latents=torch.zeros(1, 3, 4, 2, 4))
    with pytest.raises(ValueError, match="memory mode"):
        pipe.apply_memory_mode("everything")


def test_memory_mode_names_match_upstreams_three_modes():
    from void_eval.void.pipeline import MEMORY_MODES

    assert MEMORY_MODES == ("gpu", "model-offload", "sequential-offload")
    assert np.isclose(0.0563, __import__("void_eval.void.pipeline", fromlist=["x"]).NOISE_AUG_STRENGTH)


def test_video_noise_augmentation_follows_the_config_and_the_generator():
    plain = tiny_pipeline(seed=0)
    noisy = tiny_pipeline(seed=0, add_noise_in_inpaint_model=True)
    video, mask = _inputs(5)
    video[:, :, :, :4] = 0.0  # pixels at -1 after normalisation: upstream adds no noise there
    with torch.no_grad():
        a = plain.prepare_condition(video, mask, pass_=1, generator=torch.Generator().manual_seed(0))
        b = noisy.prepare_condition(video, mask, pass_=1, generator=torch.Generator().manual_seed(0))
        c = noisy.prepare_condition(video, mask, pass_=1, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a[:, :, :4], b[:, :, :4])  # mask latents untouched
    assert not torch.allclose(a[:, :, 4:], b[:, :, 4:])  # video latents see the noise
    torch.testing.assert_close(b, c)
