"""Precomputed outputs: upstream VOID names, reversed-padding tail trimmed, size restored, all recorded."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.transform import resize

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.registry import get_method
from void_eval.video import probe, read_video, write_video


def _upstream_padded(frames: np.ndarray, length: int) -> np.ndarray:
    """Upstream's temporal padding: append the clip played backwards until ``length`` frames."""
    out = list(frames)
    backwards = True
    while len(out) < length:
        sequence = frames[::-1] if backwards else frames
        out.extend(sequence[1:])
        backwards = not backwards
    return np.stack(out[:length])


def test_upstream_pass1_output_trimmed_and_resized(make_clip, tmp_path):
    clip = Clip.load(make_clip("ball", frames=12, height=48, width=64))
    frames = read_video(clip.input_path)
    big = np.stack([cv2_resize(frame, 96, 128) for frame in frames])
    padded = _upstream_padded(big, 85)  # upstream's padded length of a 12-frame input
    outputs = tmp_path / "void_out"
    outputs.mkdir()
    write_video(outputs / "ball-fg=-1-0001.mp4", padded, 12, kind="lossless")
    write_video(outputs / "ball-fg=-1-0001_tuple.mp4", padded, 12, kind="lossless")  # never picked
    method = get_method("precomputed", folder=str(outputs))
    out = method.run(clip, tmp_path / "aligned.mp4")
    info = probe(out)
    assert (info.frames, info.height, info.width) == (12, 48, 64)
    record = method.last_run
    assert record["source"].endswith("ball-fg=-1-0001.mp4")
    assert record["trimmed_frames"] == 73 and record["resized_from"] == [96, 128]
    assert record["resize_interpolation"] == "area"
    # an exact 2x area downscale of a 2x nearest upscale gives back the frames (independent check with skimage)
    aligned = read_video(out)
    expected = np.stack([resize(frame, (48, 64), order=0, anti_aliasing=False, preserve_range=True) for frame in big])
    np.testing.assert_array_equal(aligned, expected.astype(np.uint8))
    assert set(method.fingerprint(clip)) == {"source", "source_sha256"}


def cv2_resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    import cv2

    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_NEAREST)


def test_pass2_name_and_errors(make_clip, tmp_path):
    clip = Clip.load(make_clip("cup", frames=8))
    frames = read_video(clip.input_path)
    outputs = tmp_path / "outs"
    outputs.mkdir()
    with pytest.raises(InputError, match="no output for clip 'cup'"):
        get_method("precomputed", folder=outputs).run(clip, tmp_path / "x.mp4")
    write_video(outputs / "cup_warped_noise_inference.mp4", frames[:5], 12, kind="lossless")
    with pytest.raises(InputError, match="5 frames, fewer than the input's 8 .upstream VOID outputs at most 197"):
        get_method("precomputed", folder=outputs).run(clip, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()
    write_video(outputs / "cup.mp4", frames, 12, kind="lossless")
    with pytest.raises(InputError, match="several outputs"):
        get_method("precomputed", folder=outputs).run(clip, tmp_path / "x.mp4")
    method = get_method("precomputed", folder=outputs, pattern="{clip}.mp4")
    np.testing.assert_array_equal(read_video(method.run(clip, tmp_path / "x.mp4")), frames)
    assert method.last_run["trimmed_frames"] == 0 and method.last_run["resized_from"] is None
    with pytest.raises(ValueError, match="folder"):
        get_method("precomputed")


def test_longer_source_must_have_upstream_padded_length(make_clip, tmp_path):
    clip = Clip.load(make_clip("jar", frames=8))
    frames = read_video(clip.input_path)
    outputs = tmp_path / "outs"
    outputs.mkdir()
    upstream = outputs / "jar-fg=-1-0001.mp4"
    write_video(upstream, _upstream_padded(frames, 20), 12, kind="lossless")  # not 85: not upstream's padding
    for trim in (True, "any"):  # an upstream name must have upstream's length, whatever trim says
        with pytest.raises(InputError, match="has 20 frames; upstream VOID pads a 8-frame input to exactly 85"):
            get_method("precomputed", folder=outputs, trim=trim).run(clip, tmp_path / "x.mp4")
    upstream.unlink()
    write_video(outputs / "jar.mp4", _upstream_padded(frames, 20), 12, kind="lossless")
    with pytest.raises(InputError, match='exactly 85.*trim="any"'):
        get_method("precomputed", folder=outputs).run(clip, tmp_path / "x.mp4")
    with pytest.raises(InputError, match="more than the input's 8 .trim=False"):
        get_method("precomputed", folder=outputs, trim=False).run(clip, tmp_path / "x.mp4")
    method = get_method("precomputed", folder=outputs, trim="any")
    np.testing.assert_array_equal(read_video(method.run(clip, tmp_path / "x.mp4")), frames)
    assert method.last_run["trimmed_frames"] == 12
    with pytest.raises(ValueError, match="trim must be"):
        get_method("precomputed", folder=outputs, trim="some")


def test_too_short_for_a_long_input_names_upstream_cap(tmp_path):
    from void_eval.methods.align import check_length

    source = tmp_path / "a-fg=-1-0001.mp4"
    with pytest.raises(InputError, match="has 197 frames, fewer than the input's 240; upstream VOID reads at most 197"):
        check_length(source, 197, 240, trim="upstream", upstream_name=True)
    check_length(source, 93, 89, trim="upstream", upstream_name=True)  # 89 frames pad to 93 (4k+1, k odd)
    with pytest.raises(InputError, match="to exactly 93"):
        check_length(source, 97, 89, trim="any", upstream_name=True)


def test_composite_keeps_the_input_outside_the_chosen_levels(make_clip, tmp_path):
    """A Runway-like export (every pixel regenerated) composited: input outside the levels, the export inside."""
    from void_eval.methods.base import level_mask
    from void_eval.quadmask import Quadmask

    clip = Clip.load(make_clip("cup", frames=6))
    frames = read_video(clip.input_path)
    export = np.clip(frames.astype(int) + 40, 0, 255).astype(np.uint8)  # differs from the input everywhere
    outputs = tmp_path / "runway"
    outputs.mkdir()
    write_video(outputs / "cup_runway.mp4", export, 24, kind="lossless")
    mask = Quadmask.concatenate(list(clip.iter_masks(32)))
    for levels, dilation in (("remove", 0), ("remove+affected", 2)):
        method = get_method("precomputed", folder=outputs, pattern="{clip}_runway.mp4", composite=levels,
                            composite_dilation=dilation)  # fmt: skip
        out = read_video(method.run(clip, tmp_path / f"{levels}.mp4"))
        inside = level_mask(mask, levels, dilation=dilation)
        np.testing.assert_array_equal(out[inside], export[inside])
        np.testing.assert_array_equal(out[~inside], frames[~inside])
        assert method.last_run["composite_pixels_pasted"] == int((~inside).sum())
        assert {level.name for level in method.rewrites} >= {"REMOVE", "OVERLAP"}
    assert "AFFECTED" in {level.name for level in method.rewrites}
    with pytest.raises(ValueError, match="composite must be one of remove, remove\\+affected"):
        get_method("precomputed", folder=outputs, composite="keep")
