"""Clip folders: discovery, validation, aligned streams, and every bad input the issue lists."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tests.conftest import synthetic_scene
from void_eval.clip import Clip
from void_eval.clip_check import check_clip
from void_eval.errors import InputError
from void_eval.paths import check_name, clip_output_path
from void_eval.quadmask import Quadmask
from void_eval.video import write_video


def test_sample_clips_load_with_the_trimask_quadmask_file(samples_root):
    bigben = Clip.load(samples_root / "BigBen")
    assert bigben.mask_files[0].name == "trimask_quadmask.mp4" and bigben.mask_scheme == "quadmask"
    assert (bigben.frames, bigben.height, bigben.width) == (50, 360, 544)
    assert bigben.prompt and bigben.counterfactual_path is None and bigben.scenario == "real"
    ducky = Clip.load(samples_root / "ducky-float")
    assert (ducky.frames, ducky.height, ducky.width) == (62, 720, 1296)


def test_discovery_prefers_quadmask_then_trimask_then_binary(tmp_path, samples_root):
    folder = tmp_path / "clip"
    shutil.copytree(samples_root / "BigBen", folder)
    assert Clip.load(folder).mask_files[0].name == "trimask_quadmask.mp4"
    shutil.copy(folder / "trimask_quadmask.mp4", folder / "quadmask_0.mp4")
    assert Clip.load(folder).mask_files[0].name == "quadmask_0.mp4"
    (folder / "quadmask_0.mp4").unlink()
    (folder / "trimask_quadmask.mp4").unlink()
    with pytest.raises(InputError, match="no mask file"):
        Clip.load(folder)


def test_binary_object_masks_are_combined(tmp_path, make_clip):
    folder = make_clip(frames=6, height=48, width=64)
    (folder / "quadmask_0.mp4").unlink()
    _, removed, _ = synthetic_scene(6, 48, 64)
    write_video(folder / "mask_0.mp4", np.where(removed, 255, 0).astype(np.uint8), 12, kind="lossless")
    other = np.zeros_like(removed)
    other[:, 40:44, 2:6] = True
    write_video(folder / "mask_1.mp4", np.where(other, 255, 0).astype(np.uint8), 12, kind="lossless")
    clip = Clip.load(folder)
    assert clip.mask_scheme == "binary" and [p.name for p in clip.mask_files] == ["mask_0.mp4", "mask_1.mp4"]
    mask = Quadmask.concatenate(list(clip.iter_masks(4)))
    expected = Quadmask.from_binary([np.where(removed, 255, 0), np.where(other, 255, 0)])
    assert np.array_equal(mask.levels, expected.levels)
    report = check_clip(folder)
    assert report.valid and report.mask_file == "mask_0.mp4,mask_1.mp4"


def test_aligned_chunks_cover_every_frame_in_order(make_clip):
    clip = Clip.load(make_clip(frames=10))
    chunks = list(clip.iter_aligned(4))
    assert [chunk.start for chunk in chunks] == [0, 4, 8]
    assert sum(len(chunk.frames) for chunk in chunks) == 10
    assert all(len(c.frames) == len(c.mask) == len(c.counterfactual) for c in chunks)
    video, removed, _ = synthetic_scene(10, 48, 64)
    assert np.array_equal(np.concatenate([c.frames for c in chunks]), video)
    assert np.array_equal(np.concatenate([c.mask.region("remove") for c in chunks]), removed)


def test_missing_prompt_is_a_warning_and_bad_prompt_an_error(make_clip):
    folder = make_clip(prompt=False)
    clip = Clip.load(folder)
    assert clip.prompt is None and any("prompt.json missing" in w for w in clip.warnings)
    (folder / "prompt.json").write_text("{not json")
    with pytest.raises(InputError, match=r"prompt.json: not valid JSON \(line 1"):
        Clip.load(folder)
    (folder / "prompt.json").write_text(json.dumps({"fg": "x"}))
    with pytest.raises(InputError, match='string "bg"'):
        Clip.load(folder)


def test_missing_folder_and_input_video(tmp_path, make_clip):
    with pytest.raises(InputError, match="clip folder not found"):
        Clip.load(tmp_path / "nowhere")
    folder = make_clip()
    (folder / "input_video.mp4").unlink()
    with pytest.raises(InputError, match=r"input_video.mp4: missing"):
        Clip.load(folder)


def test_corrupt_and_zero_length_input(make_clip):
    folder = make_clip()
    data = (folder / "input_video.mp4").read_bytes()
    (folder / "input_video.mp4").write_bytes(b"\x00" * 64 + data[64:200])
    with pytest.raises(InputError, match="input_video.mp4"):
        Clip.load(folder)
    (folder / "input_video.mp4").write_bytes(b"")
    with pytest.raises(InputError, match="input_video.mp4: is empty"):
        Clip.load(folder)


def test_mask_of_another_size_or_length(make_clip):
    folder = make_clip(frames=8, height=48, width=64)
    Quadmask(np.full((8, 24, 32), 255, np.uint8)).write(folder / "quadmask_0.mp4", 12)
    with pytest.raises(InputError) as err:
        Clip.load(folder)
    message = str(err.value)
    assert "quadmask_0.mp4" in message and "32x24, 8 frames" in message and "64x48, 8 frames" in message
    clip = Clip.load(folder, allow_resize=True)
    assert clip.mask_resized_from == (24, 32) and any("resized (nearest)" in w for w in clip.warnings)
    assert next(clip.iter_masks(8)).levels.shape == (8, 48, 64)
    Quadmask(np.full((5, 48, 64), 255, np.uint8)).write(folder / "quadmask_0.mp4", 12)
    with pytest.raises(InputError, match="5 frames"):
        Clip.load(folder, allow_resize=True)


def test_colour_video_given_as_mask_is_invalid(make_clip):
    folder = make_clip(frames=6)
    video, _, _ = synthetic_scene(6, 48, 64)
    write_video(folder / "quadmask_0.mp4", video, 12, kind="lossless")
    report = check_clip(folder)
    assert not report.valid
    assert any("a colour video, not a mask" in error for error in report.errors)


def test_counterfactual_must_match_the_input(make_clip):
    folder = make_clip(frames=6)
    write_video(folder / "counterfactual.mp4", np.zeros((4, 48, 64, 3), np.uint8), 12, kind="lossless")
    with pytest.raises(InputError, match=r"counterfactual.mp4: counterfactual is 64x48, 4 frames"):
        Clip.load(folder)


def test_check_reports_frame_zero_affected_and_fractions(samples_root):
    report = check_clip(samples_root / "BigBen")
    assert report.valid and report.errors == []
    assert any("affected (127) pixels on frame 0" in warning for warning in report.warnings)
    assert report.fractions["overlap"] == 0.0
    assert sum(report.fractions.values()) == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["a/b", "..", ".", "", "x\\y"])
def test_unsafe_names_never_become_output_paths(tmp_path, name):
    with pytest.raises(InputError):
        check_name(name)
    with pytest.raises(InputError):
        clip_output_path(tmp_path, name, "out.mp4")


def test_safe_names_stay_under_the_root(tmp_path):
    assert clip_output_path(tmp_path, "BigBen", "out.mp4") == tmp_path / "BigBen" / "out.mp4"


def test_check_warns_on_an_empty_or_inverted_mask(make_clip):
    folder = make_clip(frames=4)
    Quadmask(np.full((4, 48, 64), 255, np.uint8)).write(folder / "quadmask_0.mp4", 12)
    assert any("nothing to remove" in w for w in check_clip(folder).warnings)
    levels = np.zeros((4, 48, 64), np.uint8)
    levels[:, :4, :4] = 255
    Quadmask(levels).write(folder / "quadmask_0.mp4", 12)
    assert any("inverted" in w for w in check_clip(folder).warnings)


def test_a_folder_with_quadmask_and_binary_masks_warns_about_upstream(make_clip):
    folder = make_clip(frames=4)
    write_video(folder / "mask_0.mp4", np.zeros((4, 48, 64), np.uint8), 12, kind="lossless")
    clip = Clip.load(folder)
    assert clip.mask_files[0].name == "quadmask_0.mp4"
    assert any("upstream VOID's loader would use" in w for w in clip.warnings)
