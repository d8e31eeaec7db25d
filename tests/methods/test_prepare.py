"""What a recipe gives its tool, checked against the known quadmask: levels, polarity, dilation, size, padding."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.prepare import prepare_clip
from void_eval.methods.recipe import load_recipe
from void_eval.quadmask import QuadLevel
from void_eval.video import read_video

RECIPE = """
[tool]
name = "probe"
[input]
kind = "frames"
path = "{work}/in"
name = "f{index:03d}.png"
{input_extra}
[mask]
kind = "{mask_kind}"
path = "{work}/{mask_path}"
name = "m{index:03d}.png"
levels = "{levels}"
polarity = "{polarity}"
dilation = {dilation}
[run]
command = ["{python}", "-c", "pass"]
[output]
kind = "frames"
path = "{work}/out"
"""


def _recipe(tmp_path, *, levels="remove", polarity="white", dilation=0, mask_kind="frames", input_extra=""):
    text = RECIPE.replace("{levels}", levels).replace("{polarity}", polarity).replace("{dilation}", str(dilation))
    text = text.replace("{mask_kind}", mask_kind).replace("{input_extra}", input_extra)
    text = text.replace("{mask_path}", "mask" if mask_kind == "frames" else "mask.mp4")
    path = tmp_path / "probe.toml"
    path.write_text(text)
    return load_recipe(path)


def _values(tmp_path, clip) -> dict:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return {"work": str(work), "clip": clip.name, "python": "python", "repo": "", "device": "cpu", "cuda_device": ""}


def _levels(clip) -> np.ndarray:
    from void_eval.quadmask import Quadmask

    return Quadmask.concatenate(list(clip.iter_masks(32))).levels


@pytest.mark.parametrize(
    ("levels", "polarity", "hole_levels"),
    [("remove", "white", (0, 63)), ("remove+affected", "black", (0, 63, 127))],
)
def test_mask_levels_and_polarity(make_clip, tmp_path, levels, polarity, hole_levels):
    clip = Clip.load(make_clip("c", frames=5, height=24, width=32))
    prepared = prepare_clip(_recipe(tmp_path, levels=levels, polarity=polarity), clip, _values(tmp_path, clip))
    written = np.stack(
        [cv2.imread(str(tmp_path / "work" / "mask" / f"m{i:03d}.png"), cv2.IMREAD_GRAYSCALE) for i in range(5)]
    )
    hole = np.isin(_levels(clip), hole_levels)
    assert QuadLevel.AFFECTED in set(np.unique(_levels(clip)))  # the fixture has an affected strip
    np.testing.assert_array_equal(written, np.where(hole, 255, 0) if polarity == "white" else np.where(hole, 0, 255))
    frames = np.stack([cv2.imread(str(tmp_path / "work" / "in" / f"f{i:03d}.png"))[..., ::-1] for i in range(5)])
    np.testing.assert_array_equal(frames, read_video(clip.input_path))
    assert prepared.frames == 5 and prepared.size == (24, 32) and prepared.values["fps_int"] == 12


def test_dilation_padding_and_working_size(make_clip, tmp_path):
    clip = Clip.load(make_clip("c", frames=5, height=24, width=32))
    extra = 'frames = "4k+1"\nmin_frames = 7\nmin_long_side = 64\nmultiple_of = 8'
    recipe = _recipe(tmp_path, dilation=2, mask_kind="video", input_extra=extra)
    prepared = prepare_clip(recipe, clip, _values(tmp_path, clip))
    assert prepared.frames == 9 and prepared.size == (48, 64)  # 7 -> 4k+1; 32 px long side scaled to 64
    mask = read_video(tmp_path / "work" / "mask.mp4")[..., 0] > 0
    assert mask.shape == (9, 48, 64)
    source = np.isin(_levels(clip), (0, 63))
    grown = np.stack([cv2.dilate(f.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0 for f in source])
    order = [0, 1, 2, 3, 4, 4, 3, 2, 1]  # upstream VOID's ping-pong padding
    upscaled = np.stack([cv2.resize(f.astype(np.uint8) * 255, (64, 48), interpolation=cv2.INTER_LINEAR) > 0
                         for f in grown[order]])  # fmt: skip
    np.testing.assert_array_equal(mask, upscaled)
    frames = sorted((tmp_path / "work" / "in").glob("*.png"))
    assert len(frames) == 9
    np.testing.assert_array_equal(cv2.imread(str(frames[5])), cv2.imread(str(frames[4])))  # the turn repeats


def test_too_long_clip_and_clip_folder(make_clip, tmp_path):
    clip = Clip.load(make_clip("c", frames=5, height=24, width=32))
    with pytest.raises(InputError, match="takes at most 4 frames and this clip has 5: cut the clip"):
        prepare_clip(_recipe(tmp_path, input_extra="frames = 4"), clip, _values(tmp_path, clip))
    void = load_recipe("void-pass1")
    values = {**_values(tmp_path, clip), "repo": str(tmp_path)}
    prepared = prepare_clip(void, clip, values)
    folder = tmp_path / "work" / "data" / "c"
    assert sorted(p.name for p in folder.iterdir()) == ["input_video.mp4", "prompt.json", "quadmask_0.mp4"]
    np.testing.assert_array_equal(read_video(folder / "quadmask_0.mp4")[..., 0], _levels(clip))
    assert json.loads((folder / "prompt.json").read_text())["bg"] and prepared.frames == 5
    (clip.path / "prompt.json").unlink()
    with pytest.raises(InputError, match="void-pass1 needs prompt.json"):
        prepare_clip(void, Clip.load(clip.path), values)
