"""Conditioning equivalence: what the pipeline feeds the transformer equals upstream's data preparation,
re-implemented here independently from the facts in docs/void-format.md (no helper of void_eval.void is used
for the expected side; the tiny model's own VAE and T5 encode both sides)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from void_eval.clip import Clip
from void_eval.video import read_video
from void_eval.void.passes import VoidPass1Method, VoidPass2Method
from void_eval.void.tiny import tiny_pipeline

SIZE = (16, 32)
WINDOW = 21


def _upstream_length(n: int, window: int, longest: int = 197) -> int:
    m = n
    while not (m % 4 == 1 and ((m - 1) // 4) % 2 == 1):
        m += 1
    return min(max(m, window), longest)


def _upstream_prepare(folder, size, window):
    """Facts: RGB/255 then area resize; mask R, area resize, quantise <=31/95/191, 255-x, /255; pad by reversal."""
    frames = read_video(folder / "input_video.mp4")
    red = read_video(folder / "quadmask_0.mp4")[..., 0]
    n = len(frames)
    video = torch.from_numpy(frames).float().permute(3, 0, 1, 2) / 255.0  # (3, N, H, W)
    video = F.adaptive_avg_pool2d(video, size)
    raw = F.adaptive_avg_pool2d(torch.from_numpy(red).float(), size).numpy()
    levels = np.select([raw <= 31, raw <= 95, raw <= 191], [0.0, 63.0, 127.0], 255.0)
    mask = torch.from_numpy((255.0 - levels) / 255.0).float()  # (N, h, w)
    length = _upstream_length(n, window)
    order = [i if i < n else (i % (2 * n) if i % (2 * n) < n else 2 * n - 1 - i % (2 * n)) for i in range(length)]
    return video[:, order][None], mask[order][None, None], length


def _expected_hidden(pipe, video, mask, *, snap, noise):
    if snap == 1:
        snapped = np.where(mask > 0.75, 1.0, np.where(mask >= 0.25, 127.0 / 255.0, 0.0))
    else:
        snapped = np.where(mask > 0.5, 1.0, 0.0)
    mask_pixels = (1.0 - torch.from_numpy(snapped).float()).repeat(1, 3, 1, 1, 1)
    scale = pipe.vae.config.scaling_factor
    with torch.no_grad():
        mask_latents = pipe.vae.encode(mask_pixels).latent_dist.mode() * scale
        video_latents = pipe.vae.encode(video * 2.0 - 1.0).latent_dist.mode() * scale
    condition = torch.cat([mask_latents, video_latents], dim=1).permute(0, 2, 1, 3, 4)
    return torch.cat([noise, condition], dim=2)


def _text(pipe, prompt):
    tokens = pipe.tokenizer([prompt], padding="max_length", max_length=16, truncation=True, return_tensors="pt")
    with torch.no_grad():
        return pipe.text_encoder(tokens.input_ids)[0]


def _capture_first_call(transformer):
    calls = []

    def hook(module, args, kwargs):
        if not calls:
            calls.append({k: v.detach().clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)})

    return calls, transformer.register_forward_pre_hook(hook, with_kwargs=True)


@pytest.fixture(scope="module")
def pipes():
    return {1: tiny_pipeline(seed=1), 2: tiny_pipeline(seed=2, scheduler="cogvideox-ddim")}


def test_pass1_transformer_input_equals_upstream_preparation(bigben_tiny, pipes):
    clip = Clip.load(bigben_tiny)
    pipe = pipes[1]
    calls, handle = _capture_first_call(pipe.transformer)
    method = VoidPass1Method(pipeline_loader=pipes.__getitem__, size=SIZE, steps=1, device="cpu", window_frames=WINDOW)
    try:
        method.run(clip, bigben_tiny.parent / "eq1.mp4")
    finally:
        handle.remove()
    video, mask, length = _upstream_prepare(bigben_tiny, SIZE, WINDOW)
    latents = (length - 1) // 4 + 1
    noise = torch.randn((1, latents, 4, SIZE[0] // 8, SIZE[1] // 8), generator=torch.Generator().manual_seed(42))
    expected = _expected_hidden(pipe, video, mask.numpy(), snap=1, noise=noise)
    got = calls[0]
    assert got["hidden_states"].shape == (1, latents, 12, 2, 4)  # 4 noise + 4 mask + 4 video channels
    torch.testing.assert_close(got["hidden_states"][:, :, :4], expected[:, :, :4])  # noise first
    torch.testing.assert_close(got["hidden_states"][:, :, 4:8], expected[:, :, 4:8], atol=1e-5, rtol=1e-4)  # mask
    torch.testing.assert_close(got["hidden_states"][:, :, 8:], expected[:, :, 8:], atol=1e-5, rtol=1e-4)  # video
    torch.testing.assert_close(got["encoder_hidden_states"], _text(pipe, clip.prompt))
    pipe.scheduler.set_timesteps(1)
    assert got["timestep"].tolist() == [int(pipe.scheduler.timesteps[0])]


def test_pass2_transformer_input_equals_upstream_preparation(bigben_tiny, pipes, monkeypatch):
    from void_eval.void import pass2_noise

    clip = Clip.load(bigben_tiny)
    pipe = pipes[2]
    seen = {}
    original = pass2_noise.upstream_warped_noise

    def spy(frames, **kwargs):
        seen["frames"], seen["kwargs"] = frames.copy(), kwargs
        return original(frames, **kwargs)

    monkeypatch.setattr(pass2_noise, "upstream_warped_noise", spy)
    calls, handle = _capture_first_call(pipe.transformer)
    method = VoidPass2Method(
        pipeline_loader=pipes.__getitem__,
        size=SIZE,
        steps=1,
        steps2=1,
        device="cpu",
        window_frames=WINDOW,
        noise_canvas=(32, 48),
        warp_scale=2,
    )
    try:
        method.run(clip, bigben_tiny.parent / "eq2.mp4")
    finally:
        handle.remove()
    video, mask, length = _upstream_prepare(bigben_tiny, SIZE, WINDOW)
    assert seen["frames"].shape == (length, *SIZE, 3)  # warped noise follows the PADDED pass-1 output
    kwargs = seen["kwargs"]
    assert (kwargs["latent_size"], kwargs["channels"], kwargs["flow"].name) == ((2, 4), 4, "dis-medium")
    warped = original(seen["frames"], **kwargs)
    expected = _expected_hidden(pipe, video, mask.numpy(), snap=2, noise=torch.from_numpy(warped.latents)[None])
    got = calls[0]["hidden_states"]
    assert got.shape[0] == 2  # guidance 6: [negative, positive]
    for half in (0, 1):
        torch.testing.assert_close(got[half : half + 1, :, :4], expected[:, :, :4])
        torch.testing.assert_close(got[half : half + 1, :, 4:], expected[:, :, 4:], atol=1e-5, rtol=1e-4)
    text = calls[0]["encoder_hidden_states"]
    torch.testing.assert_close(text[:1], _text(pipe, ""))
    torch.testing.assert_close(text[1:], _text(pipe, clip.prompt))
    noise_record = method.last_run["pass2"]["noise"]
    assert noise_record["latent_frames"] == (length - 1) // 4 + 1 and noise_record["flow"] == "dis-medium"
    assert noise_record["seed"] == 67280421310721  # torch's default seed, as upstream's unseeded helper process
