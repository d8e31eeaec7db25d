"""Random streams as upstream draws them: one pass-1 generator per run (or per clip), the noise augmentation from a
stream standing for upstream's global generator, nothing drawn from torch's global generator."""

from __future__ import annotations

import torch

from void_eval.clip import Clip
from void_eval.void.noise_warp import TORCH_DEFAULT_SEED
from void_eval.void.passes import VoidPass1Method
from void_eval.void.pipeline import NOISE_AUG_STRENGTH
from void_eval.void.seeding import RandomStreams
from void_eval.void.tiny import tiny_pipeline

SHAPE = (1, 6, 4, 2, 4)  # 21 padded frames -> 6 latents, 4 channels, 16x32 / 8


def _initial_noise_of_each_clip(bigben_tiny, tmp_path, seeding, clips=3):
    pipe = tiny_pipeline(seed=1, add_noise_in_inpaint_model=True)
    seen = []

    def hook(module, args, kwargs):  # one step, one window: one call per clip
        seen.append(kwargs["hidden_states"][:, :, :4].clone())

    handle = pipe.transformer.register_forward_pre_hook(hook, with_kwargs=True)
    method = VoidPass1Method(
        pipeline_loader=lambda number: pipe, size=(16, 32), steps=1, device="cpu", window_frames=21, seeding=seeding
    )
    clip = Clip.load(bigben_tiny)
    fingerprints = []
    global_state = torch.get_rng_state()
    try:
        for index in range(clips):
            fingerprints.append(method.fingerprint(clip))
            method.run(clip, tmp_path / f"{seeding}-{index}.mp4")
    finally:
        handle.remove()
    assert torch.equal(torch.get_rng_state(), global_state)  # torch's global generator untouched
    return seen, fingerprints, method


def test_upstream_seeding_continues_one_generator_across_clips(bigben_tiny, tmp_path):
    seen, fingerprints, method = _initial_noise_of_each_clip(bigben_tiny, tmp_path, "upstream")
    generator = torch.Generator().manual_seed(42)
    for noise in seen:  # clip n gets the generator's n-th draw, as upstream's batch loop
        torch.testing.assert_close(noise, torch.randn(SHAPE, generator=generator), rtol=0, atol=0)
    assert [f["clips_before"] for f in fingerprints] == ["0", "1", "2"]
    assert method.last_run["rng"]["clips_before"] == 2 and method.last_run["rng"]["seeding"] == "upstream"


def test_per_clip_seeding_restarts_every_clip(bigben_tiny, tmp_path):
    seen, fingerprints, _ = _initial_noise_of_each_clip(bigben_tiny, tmp_path, "per-clip")
    first = torch.randn(SHAPE, generator=torch.Generator().manual_seed(42))
    for noise in seen:
        torch.testing.assert_close(noise, first, rtol=0, atol=0)
    assert {f["clips_before"] for f in fingerprints} == {"0"}


def test_noise_augmentation_is_drawn_on_the_cpu_video_from_the_upstream_stream():
    """Upstream: ``video + where(video == -1, 0, randn_like(video) * 0.0563)`` with torch's global generator."""
    pipe = tiny_pipeline(seed=0, add_noise_in_inpaint_model=True)
    generator = torch.Generator().manual_seed(3)
    video = torch.rand(1, 3, 5, 16, 32, generator=generator)
    video[:, :, :, :4] = 0.0  # -1 after normalisation: no noise there
    mask = (torch.rand(1, 1, 5, 16, 32, generator=generator) > 0.7).float()
    streams = RandomStreams(42, seeding="upstream", device="cpu")
    with torch.no_grad():
        got = pipe.prepare_condition(video, mask, pass_=1, generator=None, augmentation=streams.augmentation(1))
        # upstream: the video is a (b c f h w) view of a (b f) c h w batch; a fresh process's global generator
        batch = (video * 2 - 1).permute(0, 2, 1, 3, 4).reshape(5, 3, 16, 32).contiguous()
        pixels = batch.view(1, 5, 3, 16, 32).permute(0, 2, 1, 3, 4)
        with torch.random.fork_rng():
            torch.manual_seed(TORCH_DEFAULT_SEED)
            sigma = torch.ones((1,)) * NOISE_AUG_STRENGTH
            noise = torch.randn_like(pixels) * sigma[:, None, None, None, None]
        noisy = pixels + torch.where(pixels == -1, torch.zeros_like(pixels), noise)
        expected = pipe.vae.encode(noisy).latent_dist.mode() * pipe.vae.config.scaling_factor
    torch.testing.assert_close(got[:, :, 4:], expected.permute(0, 2, 1, 3, 4), rtol=1e-5, atol=1e-6)


def test_streams_scopes():
    streams = RandomStreams(42, seeding="upstream", device="cpu")
    one, two, aug = streams.pass_noise(1), streams.pass_noise(2), streams.augmentation(1)
    streams.start_clip()
    assert streams.pass_noise(1) is one and streams.augmentation(1) is aug  # the run's streams
    assert streams.pass_noise(2) is not two  # pass 2 is re-seeded per clip, as upstream's pass-2 script
    assert streams.augmentation(2) is not aug and aug.initial_seed() == TORCH_DEFAULT_SEED
    per_clip = RandomStreams(42, seeding="per-clip", device="cpu", noise_aug="generator")
    first = per_clip.pass_noise(1)
    per_clip.start_clip()
    assert per_clip.pass_noise(1) is not first and per_clip.augmentation(1) is None
    assert per_clip.describe()["noise_aug_seed"] == 42
