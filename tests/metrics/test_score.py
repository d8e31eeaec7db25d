"""score_clip end to end on synthetic counterfactual clips: known answers, chunking, trimming, resizing, skipping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.metrics._scenes import write_physics_clip
from void_eval.errors import InputError
from void_eval.metrics.base import Accumulator, MetricValue
from void_eval.metrics.score import ROW_COLUMNS, score_clip
from void_eval.metrics.spec import MetricSpec, Row
from void_eval.video import read_video, write_video

OWN_METRICS = ["ewarp", "flicker", "cf_score", "motion_agreement", "traj_err", "shadow_residual", "seam"]


@pytest.fixture(scope="module")
def physics_clip(tmp_path_factory):
    root = tmp_path_factory.mktemp("score")
    folder = write_physics_clip(root / "push", frames=10)
    outputs = {}
    for name, source in (("cf", "counterfactual.mp4"), ("input", "input_video.mp4")):
        outputs[name] = root / f"{name}.mp4"
        write_video(outputs[name], read_video(folder / source), 12, kind="lossless")
    return folder, outputs


def values(table):
    return {(row.metric, row.region): row.value for row in table.itertuples()}


def test_counterfactual_output_scores_perfect_physics(physics_clip) -> None:
    folder, outputs = physics_clip
    table = score_clip(folder, outputs["cf"], metrics=OWN_METRICS)
    assert list(table.columns) == list(ROW_COLUMNS)
    got = values(table)
    assert got[("cf_score", "affected")] == 1.0
    assert got[("motion_agreement", "affected")] == 1.0
    assert math.isnan(got[("traj_err", "affected")])  # a synthetic clip: no suite family with trajectories
    assert table.set_index("metric").note["traj_lost"].startswith("not applicable: traj_err applies to scenario")
    assert got[("ewarp_diff", "frame")] == 0.0 and got[("flicker_diff", "remove")] == 0.0
    assert got[("shadow_residual", "affected")] == 0.0
    assert 0 <= got[("ewarp", "frame")] < 0.01 and 0 < got[("flicker", "frame")] <= 1
    ewarp_notes = table[table.metric == "ewarp"].note
    assert all("dis-medium on the output video" in note and "scale raw" in note for note in ewarp_notes)
    references = dict(zip(table.metric, table.reference, strict=False))
    assert references["cf_score"] == "counterfactual" and references["seam"] == "output"
    meta = table.attrs["meta"]
    assert meta["frames"] == 10 and meta["trimmed"] is None and meta["resized"] is None
    assert meta["counterfactual"] is True and meta["skipped"] == ["traj_err"]  # not applicable to this family


def test_input_as_output_leaves_the_interactions(physics_clip) -> None:
    folder, outputs = physics_clip
    got = values(score_clip(folder, outputs["input"], metrics=["cf_score", "shadow_residual", "motion_agreement"]))
    assert got[("cf_score", "affected")] == 0.0
    assert got[("shadow_residual", "affected")] == pytest.approx(1.0)
    assert got[("motion_agreement", "affected")] == 0.0


def test_chunk_size_does_not_change_any_value(physics_clip) -> None:
    folder, outputs = physics_clip
    reference = score_clip(folder, outputs["input"], metrics=OWN_METRICS, chunk_size=16)
    for size in (1, 3):
        table = score_clip(folder, outputs["input"], metrics=OWN_METRICS, chunk_size=size)
        assert table.attrs["meta"]["chunk_size"] == size
        for (key, value), (other_key, other) in zip(values(reference).items(), values(table).items(), strict=True):
            assert key == other_key
            assert value == pytest.approx(other, rel=1e-9, abs=1e-12) or (math.isnan(value) and math.isnan(other))


def test_longer_output_needs_trim_and_trimming_keeps_the_first_frames(physics_clip, tmp_path) -> None:
    folder, outputs = physics_clip
    frames = read_video(outputs["cf"])
    padded = tmp_path / "padded.mp4"
    write_video(padded, np.concatenate([frames, frames[::-1][:5]]), 12, kind="lossless")  # upstream's reversed tail
    with pytest.raises(InputError, match="15 frames but the clip's input has 10.*--trim-to-input"):
        score_clip(folder, padded, metrics=["flicker"])
    trimmed = score_clip(folder, padded, metrics=["flicker", "cf_score"], trim_to_input=True)
    exact = score_clip(folder, outputs["cf"], metrics=["flicker", "cf_score"])
    assert values(trimmed) == values(exact)
    assert trimmed.attrs["meta"]["trimmed"] == {"from_frames": 15, "to_frames": 10, "kept": "first frames"}
    short = tmp_path / "short.mp4"
    write_video(short, frames[:4], 12, kind="lossless")
    with pytest.raises(InputError, match="has 4 frames"):
        score_clip(folder, short, metrics=["flicker"], trim_to_input=True)


def test_other_size_needs_resize_and_records_the_interpolation(physics_clip, tmp_path) -> None:
    import cv2

    folder, outputs = physics_clip
    frames = read_video(outputs["cf"])
    small = tmp_path / "small.mp4"
    write_video(
        small, np.stack([cv2.resize(f, (48, 32), interpolation=cv2.INTER_AREA) for f in frames]), 12, kind="lossless"
    )
    with pytest.raises(InputError, match="is 48x32 but the clip's input is 96x64.*--resize-to-input"):
        score_clip(folder, small, metrics=["flicker"])
    table = score_clip(folder, small, metrics=["flicker"], resize_to_input=True)
    assert table.attrs["meta"]["resized"] == {
        "from_size": [32, 48],
        "to_size": [64, 96],
        "interpolation": "INTER_LINEAR",
    }
    large = tmp_path / "large.mp4"
    write_video(
        large,
        np.stack([cv2.resize(f, (192, 128), interpolation=cv2.INTER_LINEAR) for f in frames]),
        12,
        kind="lossless",
    )
    table = score_clip(folder, large, metrics=["cf_score"], resize_to_input=True)
    assert table.attrs["meta"]["resized"]["interpolation"] == "INTER_AREA"
    assert values(table)[("cf_score", "affected")] > 0.95  # 2x up then INTER_AREA down is nearly the original


def test_metrics_needing_the_counterfactual_are_skipped_with_a_note(make_clip, tmp_path) -> None:
    folder = make_clip("nocf", counterfactual=False)
    output = tmp_path / "out.mp4"
    write_video(output, read_video(folder / "input_video.mp4"), 12, kind="lossless")
    table = score_clip(folder, output, metrics=["cf_score", "motion_agreement", "flicker", "seam"])
    skipped = table[table.note.str.startswith("skipped")]
    assert set(skipped.metric) == {"cf_score", "motion_agreement"}
    assert skipped.value.isna().all()
    assert table.attrs["meta"]["skipped"] == ["cf_score", "motion_agreement"]
    assert not math.isnan(values(table)[("flicker", "frame")])
    truth_rows = table[table.metric.isin(["flicker_cf", "flicker_diff"])]
    assert truth_rows.value.isna().all() and (truth_rows.note == "needs the counterfactual video").all()


def test_bad_arguments(physics_clip) -> None:
    folder, outputs = physics_clip
    with pytest.raises(ValueError, match="unknown metric 'flickr'; did you mean 'flicker'"):
        score_clip(folder, outputs["cf"], metrics=["flickr"])
    with pytest.raises(ValueError, match="preset"):
        score_clip(folder, outputs["cf"], preset="classic")
    with pytest.raises(InputError, match="file not found"):
        score_clip(folder, folder / "missing.mp4", metrics=["flicker"])


def test_registry_lists_every_metric_and_loads_lazily() -> None:
    import subprocess
    import sys

    from void_eval.metrics.registry import METRICS, get_spec
    from void_eval.metrics.score import DEFAULT_METRICS
    from void_eval.metrics.spec import _load

    assert set(DEFAULT_METRICS) <= set(METRICS.names())
    for name in ("ewarp", "flicker", "cf_score", "motion_agreement", "traj_err", "shadow_residual", "seam", "psnr"):
        assert hasattr(_load(get_spec(name).factory), "update")
    # the specs say everything the runner and report need without importing torch or any accumulator
    code = "import sys, void_eval.metrics.registry as r; r.row_infos(r.DEFAULT_METRICS); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_rows_carry_their_direction_from_the_spec(physics_clip) -> None:
    folder, outputs = physics_clip
    table = score_clip(folder, outputs["cf"], metrics=["motion_agreement", "seam", "flicker"])
    directions = dict(zip(table.metric, table.higher_is_better, strict=False))
    assert directions == {
        "motion_agreement": True, "seam": False, "flicker": True, "flicker_cf": True, "flicker_diff": False
    }  # fmt: skip


def test_propainter_preset_rows(tmp_path) -> None:
    folder = write_physics_clip(tmp_path / "short", frames=3, height=32, width=48)
    table = score_clip(folder, folder / "input_video.mp4", preset="propainter", metrics=["psnr", "ssim", "cf_score"])
    fidelity = table[table.metric.isin(["psnr", "ssim"])]
    assert list(fidelity.region) == ["frame", "frame"]
    assert all("propainter protocol" in note for note in fidelity.note)
    assert table.attrs["meta"]["preset"] == "propainter"


class FrameCount(Accumulator):
    """A plugin metric: frames seen."""

    name = "frame_count"
    state = ("frames",)

    def __init__(self) -> None:
        self.frames = 0

    def update(self, chunk) -> None:
        self.frames += len(chunk.output)

    def compute(self):
        return {"frame": MetricValue(float(self.frames), count=self.frames)}


def _frame_count_spec(**changes) -> MetricSpec:
    spec = {"name": "frame_count", "factory": FrameCount, "rows": (Row("frame_count", True, (0, math.inf)),)}
    return MetricSpec(**spec, regions=("frame",), reference="output", needs_ground_truth=False, **changes)


def test_plugin_metric_from_the_registry(physics_clip, monkeypatch) -> None:
    from void_eval.metrics.registry import METRICS

    monkeypatch.setitem(METRICS._loaded, "frame_count", _frame_count_spec())
    folder, outputs = physics_clip
    table = score_clip(folder, outputs["cf"], metrics=["frame_count"], chunk_size=3)
    assert values(table) == {("frame_count", "frame"): 10.0}
    first, second = FrameCount(), FrameCount()  # merge, declared once for every metric: the state adds
    first.frames, second.frames = 3, 4
    first.merge(second)
    assert first.compute()["frame"].value == 7.0


def test_a_metric_outside_its_scenario_families_is_nan_with_the_reason(physics_clip, monkeypatch) -> None:
    from void_eval.metrics.registry import METRICS

    folder, outputs = physics_clip  # meta.json: scenario "synthetic-push"
    monkeypatch.setitem(METRICS._loaded, "frame_count", _frame_count_spec(families=("collision", "shadow")))
    table = score_clip(folder, outputs["cf"], metrics=["frame_count", "flicker"])
    row = table[table.metric == "frame_count"].iloc[0]
    assert math.isnan(row.value) and row.note == (
        "not applicable: frame_count applies to scenario families collision, shadow; this clip is 'synthetic-push'"
    )
    assert not math.isnan(values(table)[("flicker", "frame")])
    monkeypatch.setitem(METRICS._loaded, "frame_count", _frame_count_spec(families=("synthetic-push",)))
    assert values(score_clip(folder, outputs["cf"], metrics=["frame_count"]))[("frame_count", "frame")] == 10.0


def test_metric_options_reach_the_accumulators(physics_clip) -> None:
    folder, outputs = physics_clip
    options = {"ewarp": {"flow_source": "input", "flow": "farneback"}}
    table = score_clip(folder, outputs["cf"], metrics=["ewarp"], metric_options=options)
    assert all("flow farneback on the input video" in note for note in table.note)
    assert table.attrs["meta"]["metric_options"] == {"ewarp": {"flow_source": "input", "flow": "farneback"}}
    with pytest.raises(ValueError, match="not being run"):
        score_clip(folder, outputs["cf"], metrics=["flicker"], metric_options=options)


def test_shadow_residual_rejects_unknown_options(physics_clip) -> None:
    folder, outputs = physics_clip
    with pytest.raises(TypeError, match="threshold"):
        score_clip(
            folder, outputs["cf"], metrics=["shadow_residual"], metric_options={"shadow_residual": {"threshold": 3}}
        )
    explicit = folder / "shadow_mask.mp4"
    table = score_clip(
        folder,
        outputs["input"],
        metrics=["shadow_residual"],
        metric_options={"shadow_residual": {"shadow_mask": explicit}},
    )
    assert values(table)[("shadow_residual", "affected")] == pytest.approx(1.0)


def test_output_fps_differing_from_the_input_is_recorded_on_every_row(physics_clip, tmp_path) -> None:
    folder, outputs = physics_clip
    faster = tmp_path / "faster.mp4"
    write_video(faster, read_video(outputs["cf"]), 25, kind="lossless")
    metrics = ["flicker", "shadow_residual", "ewarp"]
    table = score_clip(folder, faster, metrics=metrics)
    mismatch = table.attrs["meta"]["fps_mismatch"]
    assert mismatch["output_fps"] == pytest.approx(25) and mismatch["input_fps"] == pytest.approx(12)
    assert mismatch["paired_by"] == "frame index"
    assert all("output fps 25 differs from input fps 12; frames paired by index" in note for note in table.note)
    assert values(table) == values(score_clip(folder, outputs["cf"], metrics=metrics))  # pairing is unchanged
    same = score_clip(folder, outputs["cf"], metrics=["flicker"])
    assert same.attrs["meta"]["fps_mismatch"] is None and not any("differs from input fps" in n for n in same.note)


def test_chunks_are_capped_by_the_pixel_budget(physics_clip, monkeypatch) -> None:
    from void_eval.metrics import score

    folder, outputs = physics_clip
    reference = score_clip(folder, outputs["input"], metrics=["flicker", "cf_score"])
    height, width = reference.attrs["meta"]["input_size"]
    monkeypatch.setattr(score, "CHUNK_PIXEL_BUDGET", 3 * height * width + 1)  # 4K: 1 frame; here: 3
    capped = score_clip(folder, outputs["input"], metrics=["flicker", "cf_score"], chunk_size=16)
    assert capped.attrs["meta"]["chunk_size"] == 3 and capped.attrs["meta"]["chunk_size_requested"] == 16
    assert values(capped) == values(reference)


def test_temporal_rows_sit_next_to_the_counterfactuals_own_value(physics_clip) -> None:
    from void_eval.metrics import truth_pair

    folder, outputs = physics_clip
    truth_pair._TRUTH_VALUES.clear()
    copy = values(score_clip(folder, outputs["input"], metrics=["flicker"]))
    assert len(truth_pair._TRUTH_VALUES) == 1  # the counterfactual's value, kept for the next output of the clip
    oracle = values(score_clip(folder, outputs["cf"], metrics=["flicker"]))
    for region in ("frame", "remove"):
        assert oracle[("flicker", region)] == copy[("flicker_cf", region)] == oracle[("flicker_cf", region)]
        assert oracle[("flicker_diff", region)] == 0.0
        assert copy[("flicker_diff", region)] == abs(copy[("flicker", region)] - copy[("flicker_cf", region)]) > 0
