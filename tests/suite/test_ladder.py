"""The known-truth ladder: every rung a scoreable video built as documented; delays re-rendered faithfully."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from void_eval.errors import InputError
from void_eval.segmentation import decode_segmentation
from void_eval.suite import FAMILIES
from void_eval.suite.ladder.delay import delayed_states, moving_indices, render_states, replay_counterfactual
from void_eval.suite.ladder.make import make_ladder, make_suite_ladders, order_pairs
from void_eval.suite.ladder.rungs import (
    frozen_fill,
    ghost,
    half_time,
    interaction_switch,
    ladder_rungs,
    residual_shadow,
    temporal_median,
)
from void_eval.video import probe, read_video

RUNG_NAMES = ["counterfactual", "delay_2", "delay_4", "delay_8", "ghost", "half", "shadow_30", "frozen", "input"]
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "physics_ladder.py"


@pytest.fixture(scope="module")
def ladders(tiny_suite, tmp_path_factory) -> dict[str, Path]:
    """The ladder of every tiny-suite clip, laid out as the benchmark's ``--work`` folder expects."""
    work = tmp_path_factory.mktemp("ladder")
    suite = next(iter(tiny_suite.values())).parent
    paths = make_suite_ladders(suite, work / "suite" / "ladder")
    return {path.name.split("_", 1)[1]: path for path in paths}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "ladder.json").read_text())


def _centroid(ids: np.ndarray, index: int) -> np.ndarray | None:
    ys, xs = np.nonzero(ids == index)
    return None if len(xs) == 0 else np.array([xs.mean(), ys.mean()])


def test_every_rung_is_a_video_of_the_clips_shape(tiny_suite, ladders):
    for family, folder in ladders.items():
        manifest = _manifest(folder)
        assert [rung["name"] for rung in manifest["rungs"]] == RUNG_NAMES
        assert sorted(path.name for path in folder.iterdir()) == sorted(
            [f"{n}.mp4" for n in RUNG_NAMES] + ["ladder.json"]
        )
        clip_info = probe(tiny_suite[family] / "input_video.mp4")
        for rung in manifest["rungs"]:
            info = probe(folder / rung["file"])
            assert (info.frames, info.height, info.width, info.fps) == (24, 72, 128, clip_info.fps)
        assert manifest["scenario"] == family and manifest["frames"] == 24


def test_counterfactual_and_input_rungs_are_the_clips_own_frames(tiny_suite, ladders):
    for family in ("support", "shadow"):
        folder, clip = ladders[family], tiny_suite[family]
        counterfactual = read_video(clip / "counterfactual.mp4")
        assert np.array_equal(read_video(folder / "counterfactual.mp4"), counterfactual)
        assert np.array_equal(read_video(folder / "input.mp4"), read_video(clip / "input_video.mp4"))
        rungs = {rung["name"]: rung for rung in _manifest(folder)["rungs"]}
        assert rungs["counterfactual"]["equals_counterfactual"] and rungs["counterfactual"]["truth"] == "perfect"
        assert rungs["input"]["truth"] == "worst" and not rungs["input"]["equals_counterfactual"]


def test_rerendering_every_frame_at_delay_zero_reproduces_the_counterfactual(tiny_suite, tmp_path):
    for family in ("support", "collision"):
        clip = tiny_suite[family]
        meta = json.loads((clip / "meta.json").read_text())
        spec, states = replay_counterfactual(meta, clip / "meta.json")
        same = delayed_states(states, np.flatnonzero(states.present), 0)
        rgb, ids = render_states(spec, same, range(states.frames), size=(72, 128), texture_dir=tmp_path)
        assert np.array_equal(rgb, read_video(clip / "counterfactual.mp4"))
        assert np.array_equal(ids, decode_segmentation(read_video(clip / "segmentation_counterfactual.mp4")))


def test_delay_shifts_the_affected_objects_by_k_frames_as_segmented(tiny_suite, ladders, tmp_path):
    clip = tiny_suite["support"]
    meta = json.loads((clip / "meta.json").read_text())
    _, states = replay_counterfactual(meta, clip / "meta.json")
    affected = [obj["id"] for obj in meta["objects"] if obj["role"] == "affected"]
    moving = moving_indices(states, affected)
    assert moving, "a support clip's supported object falls in the counterfactual world"
    counterfactual = read_video(clip / "counterfactual.mp4")
    rungs = {rung["name"]: rung for rung in _manifest(ladders["support"])["rungs"]}
    for k in (2, 4, 8):
        video = read_video(ladders["support"] / f"delay_{k}.mp4")
        late = delayed_states(states, moving, k)
        for frame in range(states.frames):
            source = max(frame - k, 0)
            assert np.array_equal(late.positions[frame, moving], states.positions[source, moving])
            assert np.array_equal(late.orientations[frame, moving], states.orientations[source, moving])
            others = [index for index in np.flatnonzero(states.present) if index not in moving]
            assert np.array_equal(late.positions[frame, others], states.positions[frame, others])
        # the first frame (before any motion) is untouched; the rung is the counterfactual wherever poses agree
        assert np.array_equal(video[0], counterfactual[0])
        rendered = rungs[f"delay_{k}"]["params"]["rendered_frames"]
        untouched = [frame for frame in range(states.frames) if frame not in rendered]
        assert np.array_equal(video[untouched], counterfactual[untouched])
        assert rungs[f"delay_{k}"]["params"]["objects"] == moving
        assert rungs[f"delay_{k}"]["differs_from_counterfactual"]["affected"] > 0
    changed = [rungs[f"delay_{k}"]["differs_from_counterfactual"]["frame"] for k in (2, 4, 8)]
    assert changed == sorted(changed) and changed[0] < changed[-1]


def test_delay_moves_the_segmented_objects_k_frames_late(tiny_suite, tmp_path):
    """Measured from segmentation: each delayed object's centroid at frame t is the original's at t - k."""
    clip, k = tiny_suite["support"], 4
    meta = json.loads((clip / "meta.json").read_text())
    spec, states = replay_counterfactual(meta, clip / "meta.json")
    moving = moving_indices(states, [obj["id"] for obj in meta["objects"] if obj["role"] == "affected"])
    truth = decode_segmentation(read_video(clip / "segmentation_counterfactual.mp4"))
    late = delayed_states(states, moving, k)
    _, ids = render_states(spec, late, range(states.frames), size=(72, 128), texture_dir=tmp_path)
    shifts = []
    for frame in range(states.frames):
        for index in moving:
            shifted, original = _centroid(ids[frame], index), _centroid(truth[max(frame - k, 0)], index)
            now = _centroid(truth[frame], index)
            assert (shifted is None) == (original is None)
            if shifted is not None:
                np.testing.assert_allclose(shifted, original, atol=0.5)
                shifts.append(0.0 if now is None else float(np.linalg.norm(shifted - now)))
    assert max(shifts) > 2.0, "the delay must move an object visibly away from where it is at that frame"


def test_rungs_where_nothing_moves_in_the_counterfactual_are_the_counterfactual(ladders):
    for family in ("occlusion", "shadow", "collision", "chain"):
        rungs = {rung["name"]: rung for rung in _manifest(ladders[family])["rungs"]}
        for name in ("delay_2", "delay_4", "delay_8", "frozen"):
            assert rungs[name]["equals_counterfactual"], (family, name)
        for name in ("ghost", "half", "input"):
            assert rungs[name]["differs_from_counterfactual"]["affected"] > 0, (family, name)
    shadow = {rung["name"]: rung for rung in _manifest(ladders["shadow"])["rungs"]}["shadow_30"]
    assert shadow["differs_from_counterfactual"]["shadow"] > 0
    assert shadow["differs_from_counterfactual"]["frame"] == shadow["differs_from_counterfactual"]["shadow"]


def test_pixel_rungs_follow_their_formulas(tiny_suite, ladders):
    clip, folder = tiny_suite["support"], ladders["support"]
    counterfactual = read_video(clip / "counterfactual.mp4").astype(np.int16)
    factual = read_video(clip / "input_video.mp4").astype(np.int16)
    manifest = _manifest(folder)
    rungs = {rung["name"]: rung for rung in manifest["rungs"]}
    mixed = read_video(folder / "ghost.mp4").astype(np.int16)
    inside = (mixed != counterfactual).any(axis=-1)
    assert np.abs(2 * mixed[inside] - counterfactual[inside] - factual[inside]).max() <= 1
    switch = rungs["half"]["params"]["switch_frame"]
    half = read_video(folder / "half.mp4").astype(np.int16)
    assert 0 < switch < 24
    assert np.array_equal(half[:switch], counterfactual[:switch]) and np.array_equal(half[switch:], factual[switch:])
    shadow = read_video(clip / "shadow_mask.mp4")[..., 0] > 127
    residual = read_video(folder / "shadow_30.mp4").astype(np.int16)
    assert np.array_equal(residual[~shadow], counterfactual[~shadow])
    expected = counterfactual[shadow] + 0.3 * (factual[shadow] - counterfactual[shadow])
    assert np.abs(residual[shadow] - expected).max() <= 0.5
    from void_eval.quadmask import read_quadmask

    mask = read_quadmask(clip / "quadmask_0.mp4")
    held = (mask.region("remove_any") | mask.region("affected_any")).any(axis=0)
    frozen = read_video(folder / "frozen.mp4").astype(np.int16)
    assert (frozen[:, held] == frozen[:1, held]).all(), "the held pixels never change"
    assert np.array_equal(frozen[:, ~held], counterfactual[:, ~held])
    assert rungs["frozen"]["params"]["held_pixels"] == int(held.sum()) > 0
    assert not rungs["frozen"]["equals_counterfactual"]


def test_order_pairs_hold_by_construction():
    pairs = order_pairs(ladder_rungs())
    assert ["counterfactual", "input"] in pairs and ["ghost", "input"] in pairs
    assert ["delay_2", "delay_4"] in pairs and ["delay_4", "delay_8"] in pairs
    assert ["delay_2", "delay_8"] not in pairs and ["ghost", "half"] not in pairs
    assert {pair[0] for pair in pairs} == set(RUNG_NAMES) - {"input"}
    with pytest.raises(ValueError, match="increasing"):
        ladder_rungs((4, 2))
    with pytest.raises(ValueError, match=">= 1"):
        ladder_rungs((0, 2))


def test_pixel_constructions_on_small_arrays():
    counterfactual = np.zeros((4, 2, 3, 3), np.uint8)
    factual = np.full_like(counterfactual, 101)
    region = np.zeros((4, 2, 3), bool)
    region[1:3, 0, 1] = True
    mixed = ghost(counterfactual, factual, region)
    assert mixed[region].tolist() == [[51, 51, 51]] * 2 and not mixed[~region].any()
    assert residual_shadow(counterfactual, factual, region)[region].max() == 30
    assert interaction_switch(region) == 2 and interaction_switch(np.zeros((6, 1, 1), bool)) == 3
    assert [int(frame.max()) for frame in half_time(counterfactual, factual, 1)] == [0, 101, 101, 101]
    with pytest.raises(ValueError):
        half_time(counterfactual, factual, 5)
    moving = np.stack([np.full((1, 1, 3), value, np.uint8) for value in (10, 30, 20, 40)])
    assert temporal_median(moving).tolist() == [[[25, 25, 25]]]
    frozen = frozen_fill(moving.repeat(2, axis=2), np.array([[True, False]]))
    assert frozen[:, 0, 0, 0].tolist() == [25] * 4 and frozen[:, 0, 1, 0].tolist() == [10, 30, 20, 40]


def test_bad_clips_are_one_line_errors_and_leave_nothing(tiny_suite, tmp_path):
    broken = tmp_path / "no_truth"
    shutil.copytree(tiny_suite["support"], broken)
    (broken / "counterfactual.mp4").unlink()
    with pytest.raises(InputError, match="counterfactual"):
        make_ladder(broken, tmp_path / "out")
    other = tmp_path / "other_seed"
    shutil.copytree(tiny_suite["support"], other)
    meta = json.loads((other / "meta.json").read_text())
    meta["seed"] += 1
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="does not reproduce|objects"):
        make_ladder(other, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [path for path in tmp_path.iterdir() if path.name.endswith(".partial")]
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        make_ladder(tiny_suite["shadow"], occupied)


def test_void_eval_score_and_ladder_commands_accept_the_rungs(tiny_suite, ladders, tmp_path, capsys, monkeypatch):
    import void_eval.metrics.score as score
    from void_eval.cli import main

    monkeypatch.setattr(
        score, "DEFAULT_METRICS", ("psnr", "cf_score", "motion_agreement", "traj_err", "shadow_residual")
    )
    assert main(["score", str(tiny_suite["support"]), str(ladders["support"] / "delay_4.mp4"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    cf = next(row for row in rows if row["metric"] == "cf_score")
    assert 0 < cf["value"] < 1
    assert main(["ladder", str(tiny_suite["shadow"]), str(tmp_path / "shadow"), "--delays", "3"]) == 0
    names = [rung["name"] for rung in _manifest(tmp_path / "shadow")["rungs"]]
    assert names == ["counterfactual", "delay_3", "ghost", "half", "shadow_30", "frozen", "input"]
    assert main(["ladder", str(tiny_suite["shadow"]), str(tmp_path / "bad"), "--delays", "4,2"]) == 2


PHYSICS_ROWS = ["cf_score", "motion_agreement", "traj_err", "shadow_residual"]
TEMPORAL_ROWS = [f"{metric}_diff [{region}]" for metric in ("ewarp", "flicker") for region in ("frame", "remove")]


def test_benchmark_pins_every_physics_order_on_every_family(ladders, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("physics_ladder_benchmark", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    work = next(iter(ladders.values())).parents[2]
    suite = Path(_manifest(next(iter(ladders.values())))["clip_path"]).parent
    from void_eval.metrics.registry import spec_of_row

    assert not spec_of_row("traj_err").applies_to("occlusion") and not spec_of_row("traj_err").applies_to("shadow")
    metrics = ",".join([*PHYSICS_ROWS, "ewarp", "flicker"])
    code = bench.main(["--suite", str(suite), "--work", str(work), "--metrics", metrics, "--json", str(tmp_path / "j")])
    out = capsys.readouterr().out
    assert sorted(ladders) == sorted(FAMILIES)
    judged = {(row["row"], row["family"]): row for row in json.loads((tmp_path / "j").read_text())}
    for row in [f"{name} [affected]" for name in PHYSICS_ROWS] + TEMPORAL_ROWS:
        for family in ladders:
            expected = "ok" if spec_of_row(row.split()[0]).applies_to(family) else "n/a"
            record = judged[(row, family)]
            assert record["status"] == expected, (row, family, record["values"], record["problems"])
            assert expected == "n/a" or "input" not in record["excluded"]  # judged on something, not only skipped
    assert judged[("traj_lost [affected]", "support")]["status"] == "diagnostic"
    assert "not applicable: traj_err applies to scenario families" in judged[("traj_err [affected]", "shadow")]["note"]
    assert code == 0 and "cf_score [affected]  (higher is better)" in out and "ewarp_diff [remove]  (lower" in out
    # the check can fail: the same values read in the opposite direction break every order
    record = judged[("motion_agreement [affected]", "support")]
    manifest = _manifest(ladders["support"])
    assert bench.check_order(record["values"], False, record["excluded"], manifest)[0] == "FAIL"
    # support's input shows nothing moving, like the frozen fill: a motion row may tie the two, never reverse them
    frozen = next(rung for rung in manifest["rungs"] if rung["name"] == "frozen")
    assert frozen["params"]["input_still"] is True
    assert bench.motion_ties(manifest, "motion_agreement") == {("frozen", "input")}
    assert bench.motion_ties(manifest, "cf_score") == frozenset()
    tied = {**record["values"], "frozen": 0.0, "input": 0.0}
    assert bench.check_order(tied, True, {}, manifest)[0] == "FAIL"
    assert bench.check_order(tied, True, {}, manifest, {("frozen", "input")})[0] == "ok"
    assert bench.check_order({**tied, "input": 0.1}, True, {}, manifest, {("frozen", "input")})[0] == "FAIL"


@pytest.mark.parametrize("name", ["rungs", "delay"])
def test_docstring_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"void_eval.suite.ladder.{name}"))
    assert result.failed == 0 and result.attempted > 0
