"""Built-in removal methods: contract (size, length, fps, untouched pixels), quality against known truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.methods.base import Method, hole_masks
from void_eval.methods.flowprop import flow_propagate, push_pull_fill
from void_eval.methods.median import masked_temporal_median
from void_eval.methods.registry import CPU_METHODS, METHODS, get_method
from void_eval.quadmask import QuadLevel, Quadmask
from void_eval.video import probe, read_video, write_video


def _hole_psnr(output: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> float:
    mse = ((output.astype(np.float64) - truth.astype(np.float64)) ** 2)[hole].mean()
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def _panning_clip(folder: Path, *, frames: int = 14, height: int = 48, width: int = 64) -> Path:
    """A camera panning right 1 px/frame over a textured world, a square moving across it; lossless files."""
    rng = np.random.default_rng(3)
    world = rng.integers(0, 256, (height // 4, (width + frames) // 4 + 1, 3), dtype=np.uint8)
    world = np.kron(world, np.ones((4, 4, 1), np.uint8))  # 4x4 blocks: texture DIS can track
    world = np.clip(world.astype(int) + rng.integers(-10, 11, world.shape), 0, 255).astype(np.uint8)
    background = np.stack([world[:height, t : t + width] for t in range(frames)])
    video = background.copy()
    removed = np.zeros((frames, height, width), bool)
    for t in range(frames):
        removed[t, 16:30, 10 + 2 * t : 24 + 2 * t] = True
    video[removed] = (230, 30, 30)
    folder.mkdir(parents=True)
    write_video(folder / "input_video.mp4", video, 12, kind="lossless")
    write_video(folder / "counterfactual.mp4", background, 12, kind="lossless")
    Quadmask(np.where(removed, QuadLevel.REMOVE, QuadLevel.KEEP).astype(np.uint8)).write(folder / "quadmask_0.mp4", 12)
    (folder / "prompt.json").write_text(json.dumps({"bg": "a textured wall"}))
    return folder


@pytest.mark.parametrize("name", CPU_METHODS)
def test_method_contract(make_clip, tmp_path, name):
    clip = Clip.load(make_clip("scene", frames=10))
    method = get_method(name)
    assert isinstance(method, Method)
    out = method.run(clip, tmp_path / f"{name}.mp4")
    info = probe(out)
    assert (info.frames, info.height, info.width) == (clip.frames, clip.height, clip.width)
    assert info.fps == pytest.approx(clip.fps)
    output = read_video(out)
    frames = read_video(clip.input_path)
    if name == "copy":
        np.testing.assert_array_equal(output, frames)
    elif name == "oracle":
        np.testing.assert_array_equal(output, read_video(clip.counterfactual_path))
    else:  # only the (dilated) hole may change: every other pixel is the input's, bit for bit (lossless files)
        assert method.rewrites == frozenset({QuadLevel.REMOVE, QuadLevel.OVERLAP})
        mask = Quadmask.concatenate(list(clip.iter_masks()))
        outside = ~hole_masks(mask, dilation=method.params["dilation"])
        np.testing.assert_array_equal(output[outside], frames[outside])
        assert not np.array_equal(output, frames)


def test_oracle_needs_counterfactual(make_clip, tmp_path):
    clip = Clip.load(make_clip("nogt", counterfactual=False))
    with pytest.raises(InputError, match="counterfactual"):
        get_method("oracle").run(clip, tmp_path / "o.mp4")
    assert not (tmp_path / "o.mp4").exists()


def test_registry_names_and_errors():
    assert set(CPU_METHODS) | {"precomputed"} <= set(METHODS.names())
    with pytest.raises(KeyError, match="did you mean 'telea'"):
        get_method("tela")
    with pytest.raises(ValueError, match="radius"):
        get_method("telea", radius=0)
    with pytest.raises(TypeError, match="telea"):
        get_method("telea", radious=3)
    assert get_method("telea", radius=5).params == {"output_kind": "lossless", "radius": 5, "dilation": 4}


def test_flowprop_beats_telea_on_static_camera(make_clip, tmp_path):
    clip = Clip.load(make_clip("static", frames=16))
    truth = read_video(clip.counterfactual_path)
    hole = Quadmask.concatenate(list(clip.iter_masks())).region("remove_any")
    flow = get_method("flowprop")
    flow_out = read_video(flow.run(clip, tmp_path / "f.mp4"))
    telea_out = read_video(get_method("telea").run(clip, tmp_path / "t.mp4"))
    assert flow.last_run["propagated_fraction"] > 0.95
    assert _hole_psnr(flow_out, truth, hole) > _hole_psnr(telea_out, truth, hole) + 10


def test_flowprop_follows_a_panning_camera(tmp_path):
    """A moving camera: flow propagation still recovers the background; the temporal median cannot."""
    clip = Clip.load(_panning_clip(tmp_path / "pan"))
    truth = read_video(clip.counterfactual_path)
    hole = Quadmask.concatenate(list(clip.iter_masks())).region("remove_any")
    scores = {
        name: _hole_psnr(read_video(get_method(name).run(clip, tmp_path / f"{name}.mp4")), truth, hole)
        for name in ("flowprop", "telea", "median")
    }
    assert scores["flowprop"] > 30
    assert scores["flowprop"] > scores["telea"] + 8
    assert scores["flowprop"] > scores["median"] + 8


def test_flow_propagate_recovers_a_static_photo():
    """Real texture (skimage's astronaut), static camera: nearly every hole pixel is propagated."""
    from skimage import data

    background = np.ascontiguousarray(data.astronaut()[100:196, 150:278])
    frames = np.repeat(background[None], 10, axis=0)
    holes = np.zeros(frames.shape[:3], bool)
    for t in range(10):
        holes[t, 30:60, 8 + 9 * t : 30 + 9 * t] = True
    with_object = frames.copy()
    with_object[holes] = (20, 200, 20)
    filled, stats = flow_propagate(with_object, holes)
    assert stats["propagated_fraction"] > 0.95
    np.testing.assert_array_equal(filled[~holes], frames[~holes])
    assert _hole_psnr(filled, frames, holes) > 35


def test_masked_temporal_median_matches_numpy():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (9, 12, 10, 3), dtype=np.uint8)
    holes = rng.random((9, 12, 10)) < 0.4
    holes[:, 0, 0] = True  # never seen
    background, seen = masked_temporal_median(frames, holes, band_rows=5)
    values = np.where(holes[..., None], np.nan, frames.astype(float))
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        reference = np.floor(np.nanmedian(values, axis=0) + 0.5)
    assert not seen[0, 0] and seen.sum() == seen.size - 1
    np.testing.assert_array_equal(background[seen], reference[seen].astype(np.uint8))


def test_push_pull_keeps_known_values_and_fills_constants():
    values = np.full((20, 30, 2), 3.5, np.float32)
    known = np.ones((20, 30), bool)
    known[5:15, 8:20] = False
    garbage = values.copy()
    garbage[~known] = 99.0
    filled = push_pull_fill(garbage, known)
    np.testing.assert_allclose(filled, values, atol=1e-5)
    ramp = np.repeat(np.linspace(0, 10, 30, dtype=np.float32)[None, :, None], 20, axis=0)
    filled = push_pull_fill(np.where(known[..., None], ramp, 0), known)
    np.testing.assert_array_equal(filled[known], ramp[known])
    assert filled.min() >= 0 and filled.max() <= 10
    assert np.abs(filled - ramp)[~known].mean() < 1.5


def test_methods_cli_lists_builtins():
    from typer.testing import CliRunner

    from void_eval.cli import app

    result = CliRunner().invoke(app, ["methods", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)}
    assert rows["flowprop"]["rewrites"] == ["remove", "overlap"]
    assert rows["oracle"]["available"] and rows["copy"]["rewrites"] == []
